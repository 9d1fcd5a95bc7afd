// kiln_compute_datapath (buffers, micro-op loop sequencer, GEMM core, tensor ALU) against
// the bit-exact reference: both start from the same random buffers and run the same random
// GEMM and ALU instructions, one at a time; after each, the fault (if any) and every acc and
// out tile must be identical. The instructions favour what breaks pipelines: micro-ops and
// loops that hit the same accumulator tile back to back, src and aux aliasing dst, resets,
// empty loops, and indices that leave a buffer mid-instruction (SRAM_RANGE) or ranges that
// are malformed (BAD_INSN).
//
// KILN_RTL_FST=<file> writes the waveform of the whole run (models built with FST tracing).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Vdut.h"
#include "kiln/accel/config.h"
#include "kiln/accel/isa.h"
#include "kiln/accel/reference.h"
#include "rtl_test_util.h"
#if VM_TRACE_FST
#include <verilated_fst_c.h>

#include "gtkwave/fstapi.h"
#endif

namespace {

using kiln::accel::AluOp;
using kiln::accel::Config;
using kiln::accel::Insn;
using kiln::accel::Machine;
using kiln::accel::Opcode;
using kiln::accel::Uop;
using kiln::rtl_test::asBytes;
using kiln::rtl_test::getBytes;
using kiln::rtl_test::setBytes;

// The spec's error codes (STATUS.ERROR_CODE).
const std::map<std::string, int> kErrorCodes = {{"", 0},           {"BAD_INSN", 1},
                                                {"SRAM_RANGE", 2}, {"DRAM_RANGE", 3},
                                                {"TOKEN_FLAG", 4}, {"WATCHDOG", 5}};

class Datapath {
 public:
  explicit Datapath(const Config& config, const char* fst_path) : config_(config) {
    ctx_ = std::make_unique<VerilatedContext>();
    dut_ = std::make_unique<Vdut>(ctx_.get());
#if VM_TRACE_FST
    if (fst_path) {
      ctx_->traceEverOn(true);
      fst_ = std::make_unique<VerilatedFstC>();
      dut_->trace(fst_.get(), 99);
      fst_->open(fst_path);
    }
#else
    (void)fst_path;
#endif
    dut_->rst_ni = 0;
    tick();
    tick();
    dut_->rst_ni = 1;
    tick();
  }
  ~Datapath() {
#if VM_TRACE_FST
    if (fst_) fst_->close();
#endif
    dut_->final();
  }

  void tick() {
    dut_->clk_i = 0;
    dut_->eval();
    dump();
    dut_->clk_i = 1;
    dut_->eval();
    dump();
    ++cycles_;
  }

  // Copies the reference's buffers into the RTL's, one entry of each per cycle.
  void load(Machine& m) {
    const auto& p = config_.params();
    size_t inp_bytes = p.batch * p.block_in, wgt_bytes = p.block_out * p.block_in;
    size_t acc_elems = p.batch * p.block_out;
    int64_t depth = std::max({p.inp_depth, p.wgt_depth, p.acc_depth, p.uop_depth});
    for (int64_t i = 0; i < depth; ++i) {
      dut_->inp_we_i = i < p.inp_depth;
      dut_->wgt_we_i = i < p.wgt_depth;
      dut_->ext_acc_we_i = i < p.acc_depth;
      dut_->uop_we_i = i < p.uop_depth;
      dut_->inp_waddr_i = dut_->wgt_waddr_i = dut_->ext_acc_waddr_i = dut_->uop_waddr_i =
          static_cast<uint32_t>(i);
      if (i < p.inp_depth)
        setBytes(dut_->inp_wdata_i, asBytes(m.inp().subspan(i * inp_bytes, inp_bytes)));
      if (i < p.wgt_depth)
        setBytes(dut_->wgt_wdata_i, asBytes(m.wgt().subspan(i * wgt_bytes, wgt_bytes)));
      if (i < p.acc_depth)
        setBytes(dut_->ext_acc_wdata_i, asBytes(m.acc().subspan(i * acc_elems, acc_elems)));
      if (i < p.uop_depth)
        dut_->uop_wdata_i = static_cast<uint32_t>(encodeUop(config_.layout(), m.uops()[i]));
      tick();
    }
    dut_->inp_we_i = dut_->wgt_we_i = dut_->ext_acc_we_i = dut_->uop_we_i = 0;
    // The out buffer holds the low bits of acc tiles as they are written; start it so.
    for (int64_t i = 0; i < p.acc_depth; ++i)
      for (size_t e = 0; e < acc_elems; ++e)
        m.out()[i * acc_elems + e] = static_cast<int8_t>(m.acc()[i * acc_elems + e]);
  }

  // Runs one instruction; returns its error code (0: none), or -1 if it never completed.
  int run(const Insn& insn) {
    setBytes(dut_->insn_i, std::span<const uint8_t>(encode(config_.layout(), insn)));
    dut_->insn_valid_i = 1;
    tick();
    dut_->insn_valid_i = 0;
    for (int n = 0; n < 1000000; ++n) {
      bool done = dut_->done_o, error = dut_->error_o;
      int code = dut_->error_code_o;
      tick();
      if (done) return 0;
      if (error) return code;
    }
    return -1;
  }

  // Every acc and out tile of the RTL against the reference; describes the first difference.
  std::string compare(Machine& m) {
    const auto& p = config_.params();
    size_t acc_elems = p.batch * p.block_out;
    for (int64_t i = 0; i < p.acc_depth; ++i) {
      dut_->ext_acc_re_i = dut_->out_re_i = 1;
      dut_->ext_acc_raddr_i = dut_->out_raddr_i = static_cast<uint32_t>(i);
      tick();
      auto acc = getBytes(dut_->ext_acc_rdata_o, acc_elems * 4);
      auto out = getBytes(dut_->out_rdata_o, acc_elems);
      for (size_t e = 0; e < acc_elems; ++e) {
        int32_t got;
        std::memcpy(&got, &acc[e * 4], 4);
        int32_t want = m.acc()[i * acc_elems + e];
        if (got != want)
          return "acc[" + std::to_string(i) + "][" + std::to_string(e) + "] is " +
                 std::to_string(got) + ", the reference has " + std::to_string(want);
        int8_t got8 = static_cast<int8_t>(out[e]), want8 = m.out()[i * acc_elems + e];
        if (got8 != want8)
          return "out[" + std::to_string(i) + "][" + std::to_string(e) + "] is " +
                 std::to_string(got8) + ", the reference has " + std::to_string(want8);
      }
    }
    dut_->ext_acc_re_i = dut_->out_re_i = 0;
    return "";
  }

  uint64_t cycles() const {
    return cycles_;
  }

 private:
  void dump() {
#if VM_TRACE_FST
    if (fst_) fst_->dump(ctx_->time());
#endif
    ctx_->timeInc(5);
  }

  const Config& config_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vdut> dut_;
#if VM_TRACE_FST
  std::unique_ptr<VerilatedFstC> fst_;
#endif
  uint64_t cycles_ = 0;
};

// Random instructions over random buffers.
class Generator {
 public:
  Generator(const Config& config, uint64_t seed) : p_(config.params()), rng_(seed) {}

  void fill(Machine& m) {
    for (auto& v : m.inp()) v = static_cast<int8_t>(rng_());
    for (auto& v : m.wgt()) v = static_cast<int8_t>(rng_());
    for (auto& v : m.acc()) v = value();
    for (auto& u : m.uops()) {
      u.acc_idx = below(2) ? below(4) : below(p_.acc_depth);  // often the same few tiles
      u.inp_idx = below(2) ? below(4) : below(std::min(p_.inp_depth, p_.acc_depth));
      u.wgt_idx = below(p_.wgt_depth);
    }
  }

  Insn next() {
    Insn in;
    bool alu = below(2);
    in.opcode = alu ? Opcode::kAlu : Opcode::kGemm;
    in.reset = below(12) == 0;
    uint32_t count = below(5);
    in.uop_begin = below(p_.uop_depth);
    in.uop_end = std::min<uint32_t>(in.uop_begin + count, p_.uop_depth);
    if (below(40) == 0) in.uop_end = p_.uop_depth + 1 + below(p_.uop_depth - 1);  // past the buffer
    if (below(40) == 0 && in.uop_begin > 0) in.uop_end = below(in.uop_begin);     // begin > end
    in.iter_out = below(10) == 0 ? 0 : 1 + below(3);
    in.iter_in = below(10) == 0 ? 0 : 1 + below(4);
    auto factor = [&](int64_t depth) {
      return below(3) == 0 ? 0 : below(std::min<int64_t>(depth, 9));
    };
    in.acc_factor_out = factor(p_.acc_depth);
    in.acc_factor_in = factor(p_.acc_depth);
    if (alu) {
      in.inp_factor_out = factor(p_.acc_depth);
      in.inp_factor_in = factor(p_.acc_depth);
      in.alu_op = static_cast<AluOp>(below(7));
      in.use_imm = below(2);
      in.imm = below(2) ? static_cast<int16_t>(rng_()) : static_cast<int32_t>(below(80)) - 16;
    } else {
      in.inp_factor_out = factor(p_.inp_depth);
      in.inp_factor_in = factor(p_.inp_depth);
      in.wgt_factor_out = factor(p_.wgt_depth);
      in.wgt_factor_in = factor(p_.wgt_depth);
    }
    return in;
  }

 private:
  uint32_t below(int64_t n) { return static_cast<uint32_t>(rng_() % static_cast<uint64_t>(n)); }
  int32_t value() {
    switch (below(3)) {
      case 0:
        return static_cast<int32_t>(rng_());
      case 1:
        return static_cast<int32_t>(below(256)) - 128;
      default:
        return static_cast<int32_t>(rng_() >> 40) - (1 << 23);
    }
  }

  const kiln::accel::Params& p_;
  std::mt19937_64 rng_;
};

std::string text(const Insn& in) {
  return kiln::accel::describe(in) + " reset=" + std::to_string(in.reset) + " uops=[" +
         std::to_string(in.uop_begin) + "," + std::to_string(in.uop_end) +
         ") iter=" + std::to_string(in.iter_out) + "x" + std::to_string(in.iter_in) +
         " use_imm=" + std::to_string(in.use_imm) + " imm=" + std::to_string(in.imm);
}

// Runs `count` random instructions on the RTL and the reference, comparing every
// `compare_every` instructions (and after every fault).
void runRandom(uint64_t seed, int count, int compare_every, const char* fst_path,
               bool expect_faults = true) {
  auto config = Config::builtin(KILN_RTL_CONFIG);
  ASSERT_TRUE(config.ok());
  Machine m(*config, 64);
  Generator gen(*config, seed);
  gen.fill(m);
  Datapath dut(*config, fst_path);
  dut.load(m);
  int faults = 0;
  for (int n = 0; n < count; ++n) {
    Insn in = gen.next();
    Insn finish;
    finish.opcode = Opcode::kFinish;
    std::vector<Insn> stream = {in, finish};
    auto result = m.run(stream);
    int want = 0;
    if (!result.ok()) {
      ASSERT_TRUE(m.fault().has_value());
      want = kErrorCodes.at(std::string(m.fault()->errorCode()));
      ASSERT_NE(want, 0) << "instruction " << n << " (" << text(in)
                         << ") faults in the reference without an error code: "
                         << m.fault()->message;
      ++faults;
    }
    int got = dut.run(in);
    ASSERT_EQ(got, want) << "instruction " << n << " (" << text(in)
                         << "): RTL error code vs the reference's"
                         << (want ? " (" + m.fault()->message + ")" : std::string());
    if (want != 0 || n % compare_every == compare_every - 1 || n == count - 1) {
      std::string diff = dut.compare(m);
      ASSERT_EQ(diff, "") << "after instruction " << n << " (" << text(in) << ")";
    }
  }
  if (expect_faults) EXPECT_GT(faults, 0) << "the random instructions never reached a fault";
  std::printf("%d instructions (%d faulting) in %llu cycles\n", count, faults,
              static_cast<unsigned long long>(dut.cycles()));
}

TEST(ComputeDatapath, RandomGemmAndAluMatchReference) {
  runRandom(1, KILN_RTL_INSNS, KILN_RTL_COMPARE_EVERY, std::getenv("KILN_RTL_FST"));
}

#if VM_TRACE_FST
// The waveform of a short run (GEMM tiles included) is a valid FST file with signals.
TEST(ComputeDatapath, WritesFstWaveform) {
  std::string path = ::testing::TempDir() + "kiln_compute_datapath.fst";
  std::remove(path.c_str());
  runRandom(2, 4, 1, path.c_str(), false);
  void* reader = fstReaderOpen(path.c_str());
  ASSERT_NE(reader, nullptr) << path << " is not an FST file";
  EXPECT_GT(fstReaderGetVarCount(reader), 100u);
  EXPECT_GT(fstReaderGetEndTime(reader), 0u);
  fstReaderClose(reader);
}
#endif

}  // namespace
