// The cycle model gives the reference's bytes and the reference's faults: hand-written streams
// (the spec's example, every ALU operation, strided and padded loads), randomized streams with
// token hand-offs in every direction on all three configs, and streams that deadlock, race or
// address memory out of range, which stop with the reference's error naming the instruction.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "sim_test_util.h"

namespace kiln::sim {
namespace {

using accel::AluOp;
using accel::Config;
using accel::Insn;
using accel::MemType;
using accel::Opcode;
using accel::Uop;
using accel::test::allConfigs;
using accel::test::assembly;
using accel::test::builtinConfig;
using test::Pair;

std::vector<uint8_t> randomBytes(size_t n, std::mt19937& rng) {
  std::vector<uint8_t> b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

std::vector<uint8_t> uopBytes(const Config& c, const std::vector<Uop>& uops) {
  std::vector<uint8_t> b;
  for (const Uop& u : uops) {
    uint64_t w = encodeUop(c.layout(), u);
    for (int64_t i = 0; i < c.elementBytes(MemType::kUop); ++i)
      b.push_back(static_cast<uint8_t>(w >> (8 * i)));
  }
  return b;
}

TEST(CycleModel, RunsTheSpecExampleLikeTheReference) {
  for (const std::string& name : allConfigs()) {
    Config c = builtinConfig(name);
    Pair p(c, 64 * 1024);
    std::mt19937 rng(1);
    p.put(0, randomBytes(64 * 1024, rng));
    p.put(0, uopBytes(c, {{0, 0, 0}}));
    Stats s = p.runBoth(assembly(c, c.spec().assembly_example), "config " + name);
    EXPECT_GT(s.cycles, 0u) << "config " << name;
  }
}

TEST(CycleModel, EveryAluOperationMatchesTheReference) {
  for (const std::string& name : allConfigs()) {
    Config c = builtinConfig(name);
    for (int op = 0; op < accel::kNumAluOps; ++op) {
      for (int use_imm = 0; use_imm < 2; ++use_imm) {
        for (int reset = 0; reset < (op == 0 && use_imm == 0 ? 2 : 1); ++reset) {
          Pair p(c, 128 * 1024);
          std::mt19937 rng(op * 4 + use_imm);
          p.put(0, randomBytes(128 * 1024, rng));
          p.put(0, uopBytes(c, {{0, 8, 4}, {1, 9, 5}}));
          std::string alu =
              "ALU alu_op=" + std::string(accel::name(static_cast<AluOp>(op))) +
              (use_imm ? " use_imm imm=" + std::to_string(op == 3 ? -5 : -1234) : "") +
              (reset ? " reset" : "");
          std::string text =
              R"(
            LOAD memory_type=uop sram_base=0 dram_base=0 y_size=1 x_size=2 x_stride=2
            LOAD memory_type=acc sram_base=0 dram_base=64 y_size=1 x_size=16 x_stride=16
            )" +
              alu +
              R"( uop_begin=0 uop_end=2 iter_out=2 iter_in=2 acc_factor_out=2 acc_factor_in=1 inp_factor_out=1 inp_factor_in=1 push_next
            STORE memory_type=out sram_base=0 dram_base=1024 y_size=2 x_size=4 x_stride=4 pop_prev push_prev
            FINISH pop_next
          )";
          p.runBoth(assembly(c, text), "config " + name + ", " + alu);
        }
      }
    }
  }
}

TEST(CycleModel, StridedAndPaddedLoadsMatchTheReference) {
  for (const std::string& name : allConfigs()) {
    Config c = builtinConfig(name);
    Pair p(c, 256 * 1024);
    std::mt19937 rng(3);
    p.put(0, randomBytes(256 * 1024, rng));
    p.runBoth(assembly(c, R"(
      LOAD memory_type=inp sram_base=3 dram_base=100 y_size=3 x_size=2 x_stride=7 y_pad_0=1 y_pad_1=2 x_pad_0=2 x_pad_1=1
      LOAD memory_type=wgt sram_base=1 dram_base=20 y_size=2 x_size=3 x_stride=5 x_pad_1=1 push_next
      LOAD memory_type=acc8 sram_base=2 dram_base=300 y_size=2 x_size=2 x_stride=9 y_pad_0=1 x_pad_0=1 x_pad_1=3 pop_prev
      LOAD memory_type=acc sram_base=40 dram_base=30 y_size=2 x_size=3 x_stride=4 y_pad_1=1 push_next
      STORE memory_type=out sram_base=0 dram_base=2000 y_size=4 x_size=6 x_stride=11 pop_prev
      STORE memory_type=out sram_base=38 dram_base=3000 y_size=3 x_size=4 x_stride=4 push_prev
      FINISH pop_next
    )"),
              "config " + name);
  }
}

// A random stream in rounds: load fills input and weight tiles (strided, padded) and hands
// them to compute; compute loads micro-ops and accumulators, runs GEMM and ALU loops and hands
// the outputs to store, and gives the tiles back to load; store writes them out and gives the
// out buffer back to compute. Every round uses all four token queues; the reference refuses
// the stream if any access is left unordered.
struct RandomStream {
  const Config& c;
  std::mt19937 rng;
  std::vector<Insn> insns;
  std::vector<std::pair<size_t, std::vector<uint8_t>>> dram;  // (byte, bytes) to write

  int rand(int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); }

  Insn memory(Opcode op, MemType m, uint32_t sram, uint32_t dram_base, uint32_t ys, uint32_t xs,
              uint32_t stride) {
    Insn in;
    in.opcode = op;
    in.memory_type = m;
    in.sram_base = sram;
    in.dram_base = dram_base;
    in.y_size = ys;
    in.x_size = xs;
    in.x_stride = stride;
    return in;
  }

  // Loops over micro-ops whose indices stay below 48 (inside every buffer of every config,
  // and inside the aux field's reach).
  void loops(Insn& in, uint32_t uops) {
    in.uop_begin = 0;
    in.uop_end = uops;
    in.iter_out = rand(1, 3);
    in.iter_in = rand(1, 3);
    in.acc_factor_out = rand(0, 3);
    in.acc_factor_in = rand(0, 3);
    in.inp_factor_out = rand(0, 3);
    in.inp_factor_in = rand(0, 3);
  }

  RandomStream(const Config& config, uint32_t seed) : c(config), rng(seed) {
    const int rounds = rand(2, 5);
    const int64_t ub = c.elementBytes(MemType::kUop);
    for (int r = 0; r < rounds; ++r) {
      const bool last = r == rounds - 1;
      // Load: 1-3 input or weight blocks from the input region (elements from 0).
      int loads = rand(1, 3);
      for (int k = 0; k < loads; ++k) {
        MemType m = rand(0, 1) ? MemType::kInp : MemType::kWgt;
        Insn in = memory(Opcode::kLoad, m, rand(0, 8), rand(0, 200), rand(1, 3), rand(1, 4), 0);
        in.x_stride = in.x_size + rand(0, 3);
        in.y_pad_0 = rand(0, 2);
        in.y_pad_1 = rand(0, 1);
        in.x_pad_0 = rand(0, 1);
        in.x_pad_1 = rand(0, 2);
        in.pop_next = k == 0 && r > 0;
        in.push_next = k == loads - 1;
        insns.push_back(in);
      }
      // Compute: micro-ops for this round, accumulators, GEMM and ALU work.
      uint32_t nuops = rand(1, 4);
      std::vector<Uop> uops;
      for (uint32_t u = 0; u < nuops; ++u)
        uops.push_back({static_cast<uint32_t>(rand(0, 24)), static_cast<uint32_t>(rand(0, 24)),
                        static_cast<uint32_t>(rand(0, 24))});
      uint32_t uop_elem = 4096 + 8 * r;  // a fresh DRAM place per round
      std::vector<uint8_t> bytes;
      for (const Uop& u : uops) {
        uint64_t w = encodeUop(c.layout(), u);
        for (int64_t b = 0; b < ub; ++b) bytes.push_back(static_cast<uint8_t>(w >> (8 * b)));
      }
      dram.emplace_back(uop_elem * ub, bytes);
      Insn lu = memory(Opcode::kLoad, MemType::kUop, 0, uop_elem, 1, nuops, nuops);
      lu.pop_prev = true;
      lu.pop_next = r > 0;
      insns.push_back(lu);
      if (rand(0, 1)) {
        MemType m = rand(0, 1) ? MemType::kAcc : MemType::kAcc8;
        Insn la = memory(Opcode::kLoad, m, rand(0, 30), rand(0, 100), rand(1, 2), rand(1, 4), 0);
        la.x_stride = la.x_size + rand(0, 2);
        la.y_pad_0 = rand(0, 1);
        la.x_pad_1 = rand(0, 1);
        insns.push_back(la);
      }
      int ops = rand(1, 3);
      for (int k = 0; k < ops; ++k) {
        Insn in;
        if (rand(0, 1)) {
          in.opcode = Opcode::kGemm;
          loops(in, nuops);
          in.wgt_factor_out = rand(0, 3);
          in.wgt_factor_in = rand(0, 3);
          in.reset = rand(0, 5) == 0;
        } else {
          in.opcode = Opcode::kAlu;
          loops(in, nuops);
          in.alu_op = static_cast<AluOp>(rand(0, accel::kNumAluOps - 1));
          in.use_imm = rand(0, 1);
          in.imm = in.alu_op == AluOp::kShr ? rand(-40, 40) : rand(-30000, 30000);
          in.reset = rand(0, 7) == 0;
        }
        insns.push_back(in);
      }
      insns.back().push_prev = !last;  // inp and wgt may be overwritten
      insns.back().push_next = true;   // out is ready
      // Store: 1-2 blocks to the output region (elements from 8192).
      int stores = rand(1, 2);
      for (int k = 0; k < stores; ++k) {
        Insn st = memory(Opcode::kStore, MemType::kOut, rand(0, 40), 8192 + rand(0, 300),
                         rand(1, 3), rand(1, 4), 0);
        st.x_stride = st.x_size + rand(0, 2);
        st.pop_prev = k == 0;
        st.push_prev = k == stores - 1;
        insns.push_back(st);
      }
    }
    Insn finish;
    finish.opcode = Opcode::kFinish;
    finish.pop_next = true;
    insns.push_back(finish);
  }
};

TEST(CycleModel, RandomStreamsMatchTheReferenceOnEveryConfig) {
  for (const std::string& name : allConfigs()) {
    Config c = builtinConfig(name);
    for (uint32_t seed = 0; seed < 40; ++seed) {
      RandomStream rs(c, seed * 7919 + 1);
      // DRAM: random data, then the micro-ops; big enough for the output region.
      size_t bytes = static_cast<size_t>(8192 + 400) * c.elementBytes(MemType::kAcc);
      Pair p(c, bytes,
             Options{.dram_latency = rs.rand(0, 60), .dram_bytes_per_cycle = rs.rand(0, 16)});
      std::mt19937 rng(seed);
      p.put(0, randomBytes(bytes, rng));
      for (const auto& [at, b] : rs.dram) p.put(at, b);
      Stats s = p.runBoth(rs.insns, "config " + name + ", seed " + std::to_string(seed));
      EXPECT_GT(s.counter("LOAD_INSNS"), 0u);
    }
  }
}

TEST(CycleModel, RunsStreamsOneAfterAnother) {
  // The SystemC kernel lives as long as the process; a second model and a second run start
  // from cycle 0 again and count the same cycles for the same stream.
  Config c = builtinConfig("small");
  std::vector<Insn> stream = assembly(c, c.spec().assembly_example);
  CycleModel a(c, 64 * 1024), b(c, 64 * 1024);
  Expected<Stats> first = a.run(stream);
  Expected<Stats> second = b.run(stream);
  Expected<Stats> third = a.run(stream);
  ASSERT_TRUE(first.ok() && second.ok() && third.ok()) << first.message() << second.message();
  EXPECT_EQ(first->cycles, second->cycles) << "the same stream took different cycles";
  EXPECT_EQ(first->cycles, third->cycles) << "the same stream took different cycles";
}

// --- Faults ------------------------------------------------------------------------------

// Runs a faulting stream on both; the cycle model must give the reference's error.
std::string expectSameFault(const Config& c, const std::string& text, size_t insn) {
  Pair p(c, 64 * 1024);
  std::vector<Insn> stream = assembly(c, text);
  Expected<accel::RunStats> r = p.ref.run(stream);
  auto begin = std::chrono::steady_clock::now();
  Expected<Stats> s = p.model.run(stream);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  EXPECT_LT(seconds, 5.0) << "the cycle model took " << seconds << " s to stop";
  EXPECT_FALSE(r.ok()) << "the reference ran the stream without a fault";
  EXPECT_FALSE(s.ok()) << "the cycle model ran the stream without a fault";
  EXPECT_EQ(s.message(), r.message()) << "the cycle model's error differs from the reference's";
  EXPECT_TRUE(p.model.machine().fault().has_value());
  if (p.model.machine().fault()) {
    EXPECT_EQ(p.model.machine().fault()->insn, std::optional<size_t>(insn)) << s.message();
  }
  EXPECT_EQ(s.message().rfind("instruction " + std::to_string(insn) + " (", 0), 0u)
      << "the error does not start by naming instruction " << insn << ": " << s.message();
  return s.message();
}

TEST(CycleModelFaults, TokenDeadlockStopsWithTheReferencesError) {
  for (const std::string& name : allConfigs()) {
    Config c = builtinConfig(name);
    std::string m = expectSameFault(c, R"(
      LOAD memory_type=inp sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1
      GEMM pop_prev uop_begin=0 uop_end=0 iter_out=1 iter_in=1
      FINISH
    )",
                                    1);
    EXPECT_NE(m.find("deadlock"), std::string::npos) << m;
    // Compute and store each wait for the other.
    expectSameFault(c, R"(
      GEMM pop_next uop_begin=0 uop_end=0 iter_out=1 iter_in=1 push_next
      STORE memory_type=out sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1 pop_prev push_prev
      FINISH pop_next
    )",
                    0);
  }
}

TEST(CycleModelFaults, FullCommandQueueDeadlockStopsWithTheReferencesError) {
  // Nine compute instructions wait on a token that load pushes only after them; on the small
  // config (command queues of 8) fetch can never dispatch the LOAD.
  Config c = builtinConfig("small");
  std::string text;
  for (int i = 0; i < 9; ++i)
    text += std::string("GEMM uop_begin=0 uop_end=0 iter_out=1 iter_in=1") +
            (i == 0 ? " pop_prev" : "") + "\n";
  text += "LOAD memory_type=inp sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1 push_next\n";
  text += "FINISH\n";
  std::string m = expectSameFault(c, text, 0);
  EXPECT_NE(m.find("command queue is full"), std::string::npos) << m;
}

TEST(CycleModelFaults, OutOfRangeAddressesStopWithTheReferencesError) {
  for (const std::string& name : allConfigs()) {
    Config c = builtinConfig(name);
    std::string m = expectSameFault(c, R"(
      LOAD memory_type=wgt sram_base=0 dram_base=100000 y_size=1 x_size=1 x_stride=1 push_next
      GEMM pop_prev uop_begin=0 uop_end=0 iter_out=1 iter_in=1
      FINISH
    )",
                                    0);
    EXPECT_NE(m.find("but DRAM has 65536 bytes"), std::string::npos) << m;
    int64_t depth = c.params().inp_depth;
    expectSameFault(c,
                    "LOAD memory_type=inp sram_base=" + std::to_string(depth - 1) +
                        " dram_base=0 y_size=1 x_size=2 x_stride=2 push_next\n"
                        "GEMM pop_prev uop_begin=0 uop_end=0 iter_out=1 iter_in=1\nFINISH\n",
                    0);
    // A micro-op loop that walks off the acc buffer.
    expectSameFault(c,
                    "LOAD memory_type=uop sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1\n"
                    "GEMM reset uop_begin=0 uop_end=1 iter_out=3 iter_in=1 acc_factor_out=" +
                        std::to_string(c.params().acc_depth - 1) + "\nFINISH\n",
                    1);
  }
}

TEST(CycleModelFaults, RacesAndBadStreamsStopWithTheReferencesError) {
  Config c = builtinConfig("small");
  expectSameFault(c, R"(
    LOAD memory_type=inp sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1
    LOAD memory_type=uop sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1
    GEMM uop_begin=0 uop_end=1 iter_out=1 iter_in=1
    FINISH
  )",
                  2);
  expectSameFault(c, "GEMM uop_begin=0 uop_end=0 iter_out=1 iter_in=1\n", 0);
  expectSameFault(c,
                  "LOAD memory_type=inp sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1 "
                  "pop_prev\nFINISH\n",
                  0);
}

}  // namespace
}  // namespace kiln::sim
