// Dependency tokens and faults: hand-offs in every direction (with their data), races when a
// token is missing, deadlocks on tokens, on full token queues and on full command queues,
// accesses outside DRAM or a buffer, and malformed streams. Every fault names the
// instruction at fault.
#include <gtest/gtest.h>

#include <string>

#include "accel_test_util.h"
#include "kiln/accel/reference.h"

namespace kiln::accel {
namespace {

using test::assembly;
using test::builtinConfig;
using test::putBytes;
using test::putUops;
using test::runOk;

// Runs a stream that must fault, and returns the fault.
Fault runFault(Machine& m, const std::string& text) {
  Expected<RunStats> r = m.run(assembly(m.config(), text));
  EXPECT_FALSE(r.ok()) << "the stream ran without a fault";
  EXPECT_TRUE(m.fault().has_value());
  if (!m.fault()) return Fault{FaultKind::kStream, std::nullopt, "no fault"};
  EXPECT_EQ(r.message(), m.fault()->message);
  return *m.fault();
}

#define EXPECT_FAULT(fault, kind_, insn_, text)                                  \
  do {                                                                           \
    EXPECT_EQ((fault).kind, kind_) << (fault).message;                           \
    EXPECT_EQ((fault).insn, std::optional<size_t>(insn_)) << (fault).message;    \
    EXPECT_NE((fault).message.find(text), std::string::npos) << (fault).message; \
  } while (0)

class Tokens : public ::testing::Test {
 protected:
  Config config = builtinConfig("small");
  Machine m{config, 64 * 1024};

  void SetUp() override {
    // Micro-op 0 multiplies inp[0] by wgt[0] into acc[0]; weight row o is all (o + 1).
    putUops(m, 0, {{.acc_idx = 0, .inp_idx = 0, .wgt_idx = 0}});
    std::vector<int8_t> w;
    for (int o = 0; o < 4; ++o)
      for (int i = 0; i < 4; ++i) w.push_back(static_cast<int8_t>(o + 1));
    putBytes(m, 1024, w);                 // wgt element 64
    putBytes(m, 2048, {1, 2, 3, 4});      // inp element 512: sum 10
    putBytes(m, 2052, {10, 20, 30, 40});  // inp element 513: sum 100
  }
};

TEST_F(Tokens, LoadToComputeOrdersReadsAfterLoads) {
  runOk(m, assembly(config, R"(
    LOAD memory_type=wgt sram_base=0 dram_base=64 y_size=1 x_size=1 x_stride=1
    LOAD memory_type=inp sram_base=0 dram_base=512 y_size=1 x_size=1 x_stride=1 push_next
    LOAD memory_type=uop sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1
    GEMM pop_prev reset uop_begin=0 uop_end=1 iter_out=1 iter_in=1
    GEMM uop_begin=0 uop_end=1 iter_out=1 iter_in=1
    FINISH
  )"));
  EXPECT_EQ(m.acc()[3], 40) << "row 3 of the weights is 4: 4 x (1 + 2 + 3 + 4)";
  Fault f = runFault(m, R"(
    LOAD memory_type=inp sram_base=0 dram_base=512 y_size=1 x_size=1 x_stride=1
    LOAD memory_type=uop sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1
    GEMM uop_begin=0 uop_end=1 iter_out=1 iter_in=1
    FINISH
  )");
  EXPECT_FAULT(f, FaultKind::kRace, 2,
               "instruction 2 (GEMM): race on inp[0]: instruction 0 (LOAD inp) writes it and "
               "this instruction reads it, but no chain of dependency tokens orders the two");
  EXPECT_EQ(f.errorCode(), "") << "hardware cannot see a race";
}

// Double buffering in one buffer entry: load may overwrite inp[0] only after compute read it.
TEST_F(Tokens, ComputeToLoadOrdersOverwritesAfterReads) {
  const char* stream = R"(
    LOAD memory_type=wgt sram_base=0 dram_base=64 y_size=1 x_size=1 x_stride=1
    LOAD memory_type=inp sram_base=0 dram_base=512 y_size=1 x_size=1 x_stride=1 push_next
    LOAD memory_type=uop sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1
    GEMM pop_prev reset uop_begin=0 uop_end=1 iter_out=1 iter_in=1
    GEMM uop_begin=0 uop_end=1 iter_out=1 iter_in=1 push_prev
    LOAD memory_type=inp sram_base=0 dram_base=513 y_size=1 x_size=1 x_stride=1 pop_next push_next
    GEMM pop_prev uop_begin=0 uop_end=1 iter_out=1 iter_in=1
    FINISH
  )";
  runOk(m, assembly(config, stream));
  EXPECT_EQ(m.acc()[0], 10 + 100) << "both loads' data reached the accumulator, in turn";
  std::string racy = stream;
  racy.replace(racy.find(" push_prev"), 10, "");
  racy.replace(racy.find("pop_next push_next"), 18, "push_next");
  Fault f = runFault(m, racy);
  EXPECT_FAULT(f, FaultKind::kRace, 4,
               "race on inp[0]: instruction 5 (LOAD inp) writes it and this instruction reads "
               "it");
}

TEST_F(Tokens, ComputeToStoreOrdersStoresAfterResults) {
  putBytes(m, 4096, {-1, -2, -3, -4});
  runOk(m, assembly(config, R"(
    LOAD memory_type=acc8 sram_base=0 dram_base=1024 y_size=1 x_size=1 x_stride=1 push_next
    STORE memory_type=out sram_base=0 dram_base=2000 y_size=1 x_size=1 x_stride=1 pop_prev push_prev
    FINISH pop_next
  )"));
  EXPECT_EQ(static_cast<int8_t>(m.dram()[8003]), -4);
  Fault f = runFault(m, R"(
    LOAD memory_type=acc8 sram_base=0 dram_base=1024 y_size=1 x_size=1 x_stride=1
    STORE memory_type=out sram_base=0 dram_base=2000 y_size=1 x_size=1 x_stride=1 push_prev
    FINISH pop_next
  )");
  EXPECT_FAULT(f, FaultKind::kRace, 1,
               "race on out[0]: instruction 0 (LOAD acc8) writes it and this instruction reads "
               "it");
}

// Compute may refill out[0] only after store has written it out.
TEST_F(Tokens, StoreToComputeOrdersRefillsAfterStores) {
  putBytes(m, 4096, {1, 1, 1, 1});
  putBytes(m, 4100, {2, 2, 2, 2});
  const char* stream = R"(
    LOAD memory_type=acc8 sram_base=0 dram_base=1024 y_size=1 x_size=1 x_stride=1 push_next
    STORE memory_type=out sram_base=0 dram_base=2000 y_size=1 x_size=1 x_stride=1 pop_prev push_prev
    LOAD memory_type=acc8 sram_base=0 dram_base=1025 y_size=1 x_size=1 x_stride=1 pop_next push_next
    STORE memory_type=out sram_base=0 dram_base=2001 y_size=1 x_size=1 x_stride=1 pop_prev push_prev
    FINISH pop_next
  )";
  runOk(m, assembly(config, stream));
  EXPECT_EQ(m.dram()[8000], 1) << "the first STORE wrote the first tile";
  EXPECT_EQ(m.dram()[8004], 2);
  std::string racy = stream;
  racy.replace(racy.find("pop_prev push_prev"), 18, "pop_prev");
  racy.replace(racy.find("pop_next push_next"), 18, "push_next");
  Fault f = runFault(m, racy);
  EXPECT_FAULT(f, FaultKind::kRace, 1,
               "race on out[0]: instruction 2 (LOAD acc8) writes it and this instruction reads "
               "it");
}

// A layer's output read back as the next layer's input: store -> compute -> load.
TEST_F(Tokens, DramWrittenByStoreIsReadByLoadOnlyAfterIt) {
  putBytes(m, 4096, {7, 8, 9, 10});
  runOk(m, assembly(config, R"(
    LOAD memory_type=acc8 sram_base=0 dram_base=1024 y_size=1 x_size=1 x_stride=1 push_next
    STORE memory_type=out sram_base=0 dram_base=200 y_size=1 x_size=1 x_stride=1 pop_prev push_prev
    GEMM pop_next push_prev
    LOAD memory_type=inp sram_base=0 dram_base=200 y_size=1 x_size=1 x_stride=1 pop_next push_next
    FINISH pop_prev
  )"));
  EXPECT_EQ(m.inp()[3], 10) << "the stored tile came back as an input";
  Fault f = runFault(m, R"(
    LOAD memory_type=acc8 sram_base=0 dram_base=1024 y_size=1 x_size=1 x_stride=1 push_next
    STORE memory_type=out sram_base=0 dram_base=200 y_size=1 x_size=1 x_stride=1 pop_prev push_prev
    LOAD memory_type=inp sram_base=0 dram_base=200 y_size=1 x_size=1 x_stride=1 push_next
    FINISH pop_prev pop_next
  )");
  EXPECT_FAULT(f, FaultKind::kRace, 1,
               "race on DRAM bytes 0x320..0x323: instruction 2 (LOAD inp) reads it and this "
               "instruction writes it");
}

TEST_F(Tokens, FinishMustComeAfterEveryStore) {
  Fault f = runFault(m, R"(
    LOAD memory_type=acc8 sram_base=0 dram_base=1024 y_size=1 x_size=1 x_stride=1 push_next
    STORE memory_type=out sram_base=0 dram_base=2000 y_size=1 x_size=1 x_stride=1 pop_prev
    FINISH
  )");
  EXPECT_FAULT(f, FaultKind::kRace, 2,
               "instruction 2 (FINISH): is not ordered after instruction 1 (STORE out) by "
               "dependency tokens, so DONE could rise before it completes");
}

TEST_F(Tokens, LeftoverTokensAreRefused) {
  Fault f = runFault(m, R"(
    LOAD memory_type=inp sram_base=0 dram_base=512 y_size=1 x_size=1 x_stride=1 push_next
    GEMM pop_prev push_prev
    FINISH
  )");
  EXPECT_FAULT(f, FaultKind::kStream, 1,
               "instruction 1 (GEMM): pushes a token to compute_to_load that no instruction "
               "pops; it would be left for the next run");
}

TEST_F(Tokens, FlagsWithoutAQueueAreRefused) {
  Fault f = runFault(m, R"(
    LOAD memory_type=inp sram_base=0 dram_base=512 y_size=1 x_size=1 x_stride=1 pop_prev
    FINISH
  )");
  EXPECT_FAULT(f, FaultKind::kTokenFlag, 0,
               "instruction 0 (LOAD inp): pop_prev is set, but no token queue of the load "
               "module goes with it");
  EXPECT_EQ(f.errorCode(), "TOKEN_FLAG");
  f = runFault(m, R"(
    STORE memory_type=out sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1 push_next
    FINISH
  )");
  EXPECT_FAULT(f, FaultKind::kTokenFlag, 0, "push_next is set, but no token queue of the store");
}

TEST_F(Tokens, TokenDeadlocksNameTheWaitingInstructions) {
  Fault f = runFault(m, "GEMM pop_prev\nFINISH\n");
  EXPECT_FAULT(f, FaultKind::kDeadlock, 0,
               "instruction 0 (GEMM): deadlock, no module can proceed: compute waits at "
               "instruction 0 (GEMM) to pop a token from load_to_compute, which is empty");
  EXPECT_EQ(f.errorCode(), "WATCHDOG");
  f = runFault(m, R"(
    LOAD memory_type=inp sram_base=0 dram_base=512 y_size=1 x_size=1 x_stride=1 pop_next push_next
    GEMM pop_prev push_prev
    FINISH
  )");
  EXPECT_FAULT(f, FaultKind::kDeadlock, 0,
               "load waits at instruction 0 (LOAD inp) to pop a token from compute_to_load, "
               "which is empty; compute waits at instruction 1 (GEMM) to pop a token from "
               "load_to_compute, which is empty");
}

// The load module's first instruction waits for compute, whose instruction sits behind
// eight more loads: with 8-entry command queues fetch can never dispatch it.
TEST(Deadlock, AFullCommandQueueCanDeadlockAStreamThatBiggerQueuesRun) {
  std::string stream =
      "LOAD memory_type=inp sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1 pop_next\n";
  for (int i = 0; i < 7; ++i)
    stream += "LOAD memory_type=inp sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1\n";
  stream +=
      "LOAD memory_type=inp sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1 "
      "push_next\nGEMM push_prev\nFINISH pop_prev\n";
  Machine big(builtinConfig("pynq-z1"), 4096);
  runOk(big, assembly(big.config(), stream));
  Machine small(builtinConfig("small"), 4096);
  Fault f = runFault(small, stream);
  EXPECT_FAULT(f, FaultKind::kDeadlock, 0,
               "load waits at instruction 0 (LOAD inp) to pop a token from compute_to_load, "
               "which is empty; fetch waits to dispatch instruction 8 (LOAD inp) because the "
               "load command queue is full (8 instructions)");
}

// Load and compute each push five tokens to the other before popping any: with 4-token
// queues both wait for room forever.
TEST(Deadlock, FullTokenQueuesCanDeadlockAStreamThatBiggerQueuesRun) {
  const std::string load =
      "LOAD memory_type=inp sram_base=0 dram_base=0 y_size=1 x_size=1 "
      "x_stride=1";
  std::string stream;
  for (int i = 0; i < 5; ++i) stream += load + " push_next\n";
  for (int i = 0; i < 5; ++i) stream += "GEMM push_prev\n";
  for (int i = 0; i < 5; ++i) stream += load + " pop_next" + (i == 4 ? " push_next\n" : "\n");
  for (int i = 0; i < 5; ++i) stream += "GEMM pop_prev\n";
  stream += "FINISH pop_prev\n";
  Machine big(builtinConfig("pynq-z1"), 4096);
  runOk(big, assembly(big.config(), stream));
  Machine small(builtinConfig("small"), 4096);
  Fault f = runFault(small, stream);
  EXPECT_FAULT(f, FaultKind::kDeadlock, 4,
               "load waits at instruction 4 (LOAD inp) for room to push to load_to_compute, "
               "which is full (4 tokens); compute waits at instruction 9 (GEMM) for room to "
               "push to compute_to_load, which is full (4 tokens)");
}

TEST_F(Tokens, AccessesOutsideABufferNameTheRange) {
  Fault f = runFault(m, R"(
    LOAD memory_type=acc sram_base=251 dram_base=0 y_size=2 x_size=2 x_stride=2 x_pad_0=1
    FINISH
  )");
  EXPECT_FAULT(f, FaultKind::kSramRange, 0,
               "instruction 0 (LOAD acc): writes acc entries 251..256 (2 x 3 with padding), "
               "but the acc buffer has 256");
  EXPECT_EQ(f.errorCode(), "SRAM_RANGE");
  f = runFault(m, R"(
    STORE memory_type=out sram_base=200 dram_base=0 y_size=8 x_size=8 x_stride=8 push_prev
    FINISH pop_next
  )");
  EXPECT_FAULT(f, FaultKind::kSramRange, 0,
               "reads out entries 200..263, but the out buffer has 256");
  putUops(m, 0, {{.acc_idx = 250}});
  f = runFault(m, R"(
    LOAD memory_type=uop sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1
    GEMM reset uop_begin=0 uop_end=1 iter_out=3 iter_in=1 acc_factor_out=3
    FINISH
  )");
  EXPECT_FAULT(f, FaultKind::kSramRange, 1,
               "instruction 1 (GEMM): micro-op 0 at iteration (2, 0) addresses acc[256], "
               "outside the acc buffer (256 entries)");
  f = runFault(m, "GEMM uop_begin=0 uop_end=129 iter_out=1 iter_in=1\nFINISH\n");
  EXPECT_FAULT(f, FaultKind::kSramRange, 0, "uop_end 129 is past the uop buffer (128 micro-ops)");
}

TEST_F(Tokens, AccessesOutsideDramNameTheBytes) {
  Fault f = runFault(m, R"(
    LOAD memory_type=wgt sram_base=0 dram_base=4095 y_size=1 x_size=2 x_stride=2
    FINISH
  )");
  EXPECT_FAULT(f, FaultKind::kDramRange, 0,
               "instruction 0 (LOAD wgt): reads DRAM bytes 0xfff0..0x1000f (elements "
               "4095..4096 of 16 bytes), but DRAM has 65536 bytes");
  EXPECT_EQ(f.errorCode(), "DRAM_RANGE");
  f = runFault(m, R"(
    STORE memory_type=out sram_base=0 dram_base=16000 y_size=3 x_size=1 x_stride=200 push_prev
    FINISH pop_next
  )");
  EXPECT_FAULT(f, FaultKind::kDramRange, 0, "writes DRAM bytes 0xfa00..0x10043");
}

TEST_F(Tokens, MalformedInstructionsAndStreamsAreRefused) {
  Fault f = runFault(m, "LOAD memory_type=out sram_base=0 y_size=1 x_size=1\nFINISH\n");
  EXPECT_FAULT(f, FaultKind::kBadInsn, 0, "LOAD cannot move memory type out");
  EXPECT_EQ(f.errorCode(), "BAD_INSN");
  f = runFault(m, "STORE memory_type=out y_size=1 x_size=1 x_pad_0=1\nFINISH\n");
  EXPECT_FAULT(f, FaultKind::kBadInsn, 0, "STORE takes no padding");
  f = runFault(m, "GEMM uop_begin=3 uop_end=2\nFINISH\n");
  EXPECT_FAULT(f, FaultKind::kBadInsn, 0, "uop_begin 3 is after uop_end 2");
  f = runFault(m, "FINISH\nFINISH\n");
  EXPECT_FAULT(f, FaultKind::kStream, 1,
               "instruction 1 (FINISH): follows FINISH (instruction 0), which must be last");
  f = runFault(m, "GEMM\n");
  EXPECT_FAULT(f, FaultKind::kStream, 0,
               "the stream ends here without FINISH, so the accelerator would never be done");
  std::vector<Insn> too_wide = {
      Insn{.opcode = Opcode::kLoad, .memory_type = MemType::kInp, .sram_base = 300},
      Insn{.opcode = Opcode::kFinish}};
  EXPECT_EQ(m.run(too_wide).message(),
            "instruction 0 (LOAD inp): sram_base 300 does not fit its 8-bit field (0..255)");
  EXPECT_EQ(m.run(std::vector<Insn>{}).message(), "the stream is empty");
}

}  // namespace
}  // namespace kiln::accel
