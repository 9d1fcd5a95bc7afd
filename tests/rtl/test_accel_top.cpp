// The whole accelerator (kiln_accel_top) against the bit-exact reference: instruction
// streams run from DRAM through the AXI4 master, controlled through the AXI4-Lite slave as
// a driver would (INSN_ADDR, INSN_COUNT, DRAM_BASE, CONTROL.START, polling STATUS). A
// stream that completes must leave DRAM byte-identical to the reference's; a faulting one
// must stop with the reference's error code (the watchdog standing in for a deadlock).
// Every stream that completes is also run on the cycle model, whose bytes must be the same
// and whose cycle count must be within 5% of the RTL's on the same deterministic memory.
// The memory model answers out-of-range beats with SLVERR and stalls at random.
// KILN_RTL_FST=<file> writes a waveform (models built with FST tracing: the small config).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Vdut.h"
#include "kiln/accel/assembler.h"
#include "kiln/accel/config.h"
#include "kiln/accel/reference.h"
#include "kiln/sim/cycle_model.h"
#include "rtl_test_util.h"
#if VM_TRACE_FST
#include <verilated_fst_c.h>

#include "gtkwave/fstapi.h"
#endif

namespace {

using kiln::accel::Config;
using kiln::accel::Machine;
using kiln::rtl_test::getBytes;
using kiln::rtl_test::setBytes;

const std::map<std::string, int> kErrorCodes = {{"", 0},           {"BAD_INSN", 1},
                                                {"SRAM_RANGE", 2}, {"DRAM_RANGE", 3},
                                                {"TOKEN_FLAG", 4}, {"WATCHDOG", 5}};

constexpr uint64_t kDramBytes = 64 * 1024;   // the data DRAM the reference sees
constexpr uint64_t kInsnBase = 1024 * 1024;  // where the instructions lie

class Accelerator {
 public:
  Accelerator(const Config& config, uint64_t seed, const char* fst_path = nullptr)
      : config_(config), beat_(config.params().axi_width / 8), rng_(seed) {
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
    dut_->rst_ni = 1;
    tick();
  }

  ~Accelerator() {
#if VM_TRACE_FST
    if (fst_) fst_->close();
#endif
    dut_->final();
  }

  std::vector<uint8_t> dram = std::vector<uint8_t>(kDramBytes);
  std::vector<uint8_t> insns;

  // A memory without random stalls: every request is accepted at once, a read burst's first
  // beat comes `latency` cycles after its address, then one beat per cycle, and a write
  // burst's response `latency` cycles after its last beat — the DRAM the cycle model
  // describes (Options::dram_latency, one AXI beat per cycle).
  void setFixedLatency(int latency) {
    latency_ = latency;
  }

  // One cycle: the memory and register models drive their inputs, then the clock rises.
  void tick() {
    dut_->clk_i = 0;
    // Read data.
    dut_->m_axi_rvalid_i = 0;
    const bool readReady =
        latency_ < 0 ? rng_() % 8 != 0 : !reads_.empty() && reads_.front().due <= cycles_;
    if (!reads_.empty() && readReady) {
      Burst& b = reads_.front();
      uint64_t addr = b.addr + uint64_t{b.beat} * beat_;
      std::vector<uint8_t> data(beat_);
      bool ok = fetchBeat(addr, data);
      setBytes(dut_->m_axi_rdata_i, std::span<const uint8_t>(data));
      dut_->m_axi_rvalid_i = 1;
      dut_->m_axi_rid_i = b.id;
      dut_->m_axi_rresp_i = ok ? 0 : 2;
      dut_->m_axi_rlast_i = b.beat == b.len;
    }
    const bool fixed = latency_ >= 0;
    dut_->m_axi_arready_i = fixed || rng_() % 4 != 0;
    dut_->m_axi_awready_i = fixed || rng_() % 4 != 0;
    dut_->m_axi_wready_i = !writes_.empty() && (fixed || rng_() % 4 != 0);
    dut_->m_axi_bvalid_i = !bresps_.empty() && bresps_.front().second <= cycles_;
    dut_->m_axi_bresp_i = !bresps_.empty() && bresps_.front().first ? 2 : 0;
    dut_->m_axi_bid_i = 0;
    dut_->eval();
    dump();
    // Handshakes.
    bool ar = dut_->m_axi_arvalid_o && dut_->m_axi_arready_i;
    bool r = dut_->m_axi_rvalid_i && dut_->m_axi_rready_o;
    bool aw = dut_->m_axi_awvalid_o && dut_->m_axi_awready_i;
    bool w = dut_->m_axi_wvalid_o && dut_->m_axi_wready_i;
    bool bh = dut_->m_axi_bvalid_i && dut_->m_axi_bready_o;
    Burst ar_b{dut_->m_axi_arid_o,
               dut_->m_axi_araddr_o,
               dut_->m_axi_arlen_o,
               0,
               false,
               cycles_ + static_cast<uint64_t>(std::max(latency_, 0))};
    Burst aw_b{0, dut_->m_axi_awaddr_o, dut_->m_axi_awlen_o, 0, false, 0};
    std::vector<uint8_t> wdata = getBytes(dut_->m_axi_wdata_o, beat_);
    bool wlast = dut_->m_axi_wlast_o;
    dut_->clk_i = 1;
    dut_->eval();
    dump();
    ++cycles_;
    if (ar) reads_.push_back(ar_b);
    if (r && ++reads_.front().beat > reads_.front().len) reads_.pop_front();
    if (aw) writes_.push_back(aw_b);
    if (w) {
      Burst& b = writes_.front();
      uint64_t addr = b.addr + uint64_t{b.beat} * beat_;
      if (addr + beat_ <= kDramBytes)
        std::memcpy(&dram[addr], wdata.data(), beat_);
      else
        b.err = true;
      EXPECT_EQ(wlast, b.beat == b.len)
          << "WLAST on beat " << b.beat << " of a burst of " << b.len + 1;
      if (++b.beat > b.len) {
        // With a fixed latency the response comes `latency` cycles after the last beat.
        bresps_.push_back({b.err, cycles_ - 1 + static_cast<uint64_t>(std::max(latency_, 1))});
        writes_.pop_front();
      }
    }
    if (bh) bresps_.pop_front();
  }

  void writeReg(uint32_t addr, uint32_t value) {
    dut_->s_axil_awvalid_i = 1;
    dut_->s_axil_awaddr_i = addr;
    dut_->s_axil_wvalid_i = 1;
    dut_->s_axil_wdata_i = value;
    dut_->s_axil_wstrb_i = 0xf;
    dut_->s_axil_bready_i = 1;
    bool aw = false, w = false;
    for (int n = 0; n < 100; ++n) {
      dut_->clk_i = 0;
      dut_->eval();
      bool aw_now = dut_->s_axil_awvalid_i && dut_->s_axil_awready_o;
      bool w_now = dut_->s_axil_wvalid_i && dut_->s_axil_wready_o;
      bool b = dut_->s_axil_bvalid_o;
      tick();
      aw |= aw_now;
      w |= w_now;
      if (aw) dut_->s_axil_awvalid_i = 0;
      if (w) dut_->s_axil_wvalid_i = 0;
      if (b) break;
    }
    dut_->s_axil_bready_i = 0;
  }
  uint32_t readReg(uint32_t addr) {
    dut_->s_axil_arvalid_i = 1;
    dut_->s_axil_araddr_i = addr;
    dut_->s_axil_rready_i = 1;
    uint32_t v = 0;
    for (int n = 0; n < 100; ++n) {
      dut_->clk_i = 0;
      dut_->eval();
      bool ar = dut_->s_axil_arvalid_i && dut_->s_axil_arready_o;
      bool r = dut_->s_axil_rvalid_o;
      v = dut_->s_axil_rdata_o;
      tick();
      if (ar) dut_->s_axil_arvalid_i = 0;
      if (r) break;
    }
    dut_->s_axil_rready_i = 0;
    return v;
  }

  // Runs the stream in `insns`; returns STATUS at the end (0 if it never ended).
  uint32_t run(uint32_t count, uint64_t max_cycles = 2000000) {
    writeReg(0x010, static_cast<uint32_t>(kInsnBase));
    writeReg(0x014, 0);
    writeReg(0x018, count);
    writeReg(0x01c, 0);
    writeReg(0x020, 0);
    writeReg(0x000, 1);
    for (uint64_t n = 0; n < max_cycles; n += 64) {
      for (int k = 0; k < 64; ++k) tick();
      uint32_t status = readReg(0x004);
      if ((status & 0x5) && !(status & 0x2)) return status;
    }
    return 0;
  }

  uint64_t cycles() const {
    return cycles_;
  }

 private:
  struct Burst {
    uint32_t id;
    uint64_t addr;
    uint32_t len;  // beats - 1
    uint32_t beat;
    bool err;
    uint64_t due;  // with a fixed latency: the cycle its first beat may come
  };

  void dump() {
#if VM_TRACE_FST
    if (fst_) fst_->dump(ctx_->time());
#endif
    ctx_->timeInc(5);
  }

  bool fetchBeat(uint64_t addr, std::vector<uint8_t>& data) {
    if (addr + beat_ <= kDramBytes) {
      std::memcpy(data.data(), &dram[addr], beat_);
      return true;
    }
    if (addr >= kInsnBase && addr + beat_ <= kInsnBase + insns.size() + beat_) {
      for (size_t i = 0; i < beat_; ++i) {
        size_t k = addr - kInsnBase + i;
        data[i] = k < insns.size() ? insns[k] : 0;
      }
      return true;
    }
    return false;
  }

  const Config& config_;
  size_t beat_;
  std::mt19937_64 rng_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vdut> dut_;
#if VM_TRACE_FST
  std::unique_ptr<VerilatedFstC> fst_;
#endif
  std::deque<Burst> reads_, writes_;
  std::deque<std::pair<bool, uint64_t>> bresps_;  // error, the cycle it may come
  uint64_t cycles_ = 0;
  int latency_ = -1;
};

// DRAM regions (bytes) and their element indices for a config.
struct Regions {
  explicit Regions(const Config& c) {
    inp = 0x0000 / c.elementBytes(kiln::accel::MemType::kInp);
    wgt = 0x2000 / c.elementBytes(kiln::accel::MemType::kWgt);
    uop = 0x6000 / c.elementBytes(kiln::accel::MemType::kUop);
    acc = 0x7000 / c.elementBytes(kiln::accel::MemType::kAcc);
    acc8 = 0x9000 / c.elementBytes(kiln::accel::MemType::kAcc8);
    out = 0xa000 / c.elementBytes(kiln::accel::MemType::kOut);
  }
  int64_t inp, wgt, uop, acc, acc8, out;
};

std::string fill(std::string text, const Regions& r) {
  auto sub = [&](const std::string& key, int64_t v) {
    for (size_t p; (p = text.find(key)) != std::string::npos;)
      text.replace(p, key.size(), std::to_string(v));
  };
  sub("$INP", r.inp);
  sub("$WGT", r.wgt);
  sub("$UOP", r.uop);
  sub("$ACC8", r.acc8);
  sub("$ACC", r.acc);
  sub("$OUT", r.out);
  return text;
}

// The cycle model against the RTL on a stream that completes: both start from the same
// DRAM, the RTL with the deterministic memory the model describes (fixed latency, no
// stalls). Both must leave the reference's bytes, and the model's CYCLES must be within 5%
// of the RTL's (and every other counter equal where CYCLES are). The worst difference over
// the run is printed at the end.
constexpr int kCrossCheckLatency = 32;
constexpr double kCycleTolerance = 0.05;

struct WorstDifference : ::testing::Environment {
  double worst = 0;
  std::string stream;
  void TearDown() override {
    if (!stream.empty())
      std::printf("cycle model vs RTL, worst difference: %.2f%% (%s)\n", worst * 100.0,
                  stream.substr(0, stream.find('\n')).c_str());
  }
};
WorstDifference* const worstDifference =
    static_cast<WorstDifference*>(::testing::AddGlobalTestEnvironment(new WorstDifference));

void crossCheckCycles(const std::string& name, std::span<const kiln::accel::Insn> stream,
                      const std::vector<uint8_t>& bytes, const std::vector<uint8_t>& initial,
                      std::span<const uint8_t> want) {
  auto config = Config::builtin(KILN_RTL_CONFIG);
  ASSERT_TRUE(config.ok());
  kiln::sim::Options o;
  o.dram_latency = kCrossCheckLatency;
  kiln::sim::CycleModel model(*config, kDramBytes, o);
  std::memcpy(model.dram().data(), initial.data(), kDramBytes);
  auto predicted = model.run(stream);
  ASSERT_TRUE(predicted.ok()) << "the cycle model: " << predicted.message();
  Accelerator dut(*config, 5);
  dut.setFixedLatency(kCrossCheckLatency);
  dut.dram = initial;
  dut.insns = bytes;
  uint32_t status = dut.run(static_cast<uint32_t>(stream.size()));
  ASSERT_TRUE(status & 0x1) << "the RTL did not finish with a fixed latency (STATUS " << status
                            << ")";
  for (uint64_t i = 0; i < kDramBytes; ++i) {
    ASSERT_EQ(model.dram()[i], want[i]) << "the cycle model's DRAM byte " << i << " differs";
    ASSERT_EQ(dut.dram[i], want[i]) << "DRAM byte " << i << " differs with a fixed latency";
  }
  const uint64_t rtl = dut.readReg(0x100) | uint64_t{dut.readReg(0x104)} << 32;
  const double diff = static_cast<double>(predicted->cycles) / static_cast<double>(rtl) - 1.0;
  std::printf("  cycles: RTL %llu, cycle model %llu (%+.2f%%)\n",
              static_cast<unsigned long long>(rtl),
              static_cast<unsigned long long>(predicted->cycles), diff * 100.0);
  // Every performance counter is defined alike on both (the spec's counter map), so where
  // the cycle counts agree every counter must too; where they differ, which ones do is shown.
  const auto& spec = config->spec();
  for (size_t i = 0; i < spec.counters.size(); ++i) {
    const uint32_t at = spec.counters_base + static_cast<uint32_t>(8 * i);
    const uint64_t got = dut.readReg(at) | uint64_t{dut.readReg(at + 4)} << 32;
    const uint64_t modelled = predicted->counter(spec.counters[i].name);
    if (rtl == predicted->cycles)
      EXPECT_EQ(modelled, got) << "counter " << spec.counters[i].name;
    else if (modelled != got)
      std::printf("    %s: RTL %llu, cycle model %llu\n", spec.counters[i].name.c_str(),
                  static_cast<unsigned long long>(got), static_cast<unsigned long long>(modelled));
  }
  if (std::abs(diff) >= worstDifference->worst) {
    worstDifference->worst = std::abs(diff);
    worstDifference->stream = name;
  }
  EXPECT_LE(std::abs(diff), kCycleTolerance)
      << "the cycle model predicts " << predicted->cycles << " cycles, the RTL takes " << rtl;
}

// Runs a stream (assembly with $REGION placeholders) on the reference and on the RTL.
void runStream(const std::string& name, const std::string& text, const char* fst_path = nullptr) {
  SCOPED_TRACE(name);
  auto config = Config::builtin(KILN_RTL_CONFIG);
  ASSERT_TRUE(config.ok());
  Regions regions(*config);
  auto stream = kiln::accel::parseAssembly(fill(text, regions), *config);
  ASSERT_TRUE(stream.ok()) << stream.message();
  auto bytes = kiln::accel::assemble(fill(text, regions), *config);
  ASSERT_TRUE(bytes.ok()) << bytes.message();

  Machine m(*config, kDramBytes);
  std::mt19937_64 rng(7);
  for (auto& b : m.dram()) b = static_cast<uint8_t>(rng());
  // Micro-ops that stay inside the buffers: acc_idx and inp_idx below 16, wgt_idx below 4.
  const auto& p = config->params();
  for (int u = 0; u < 64; ++u) {
    kiln::accel::Uop uop{static_cast<uint32_t>(u % 16), static_cast<uint32_t>((u * 5) % 16),
                         static_cast<uint32_t>(u % 4)};
    uint64_t word = encodeUop(config->layout(), uop);
    std::memcpy(&m.dram()[0x6000 + u * p.uop_width / 8], &word, p.uop_width / 8);
  }
  Accelerator dut(*config, 11, fst_path ? fst_path : std::getenv("KILN_RTL_FST"));
  std::memcpy(dut.dram.data(), m.dram().data(), kDramBytes);
  std::vector<uint8_t> before(dut.dram);
  dut.insns = *bytes;

  auto result = m.run(std::span<const kiln::accel::Insn>(*stream));
  int want = 0;
  if (!result.ok()) {
    ASSERT_TRUE(m.fault().has_value());
    want = kErrorCodes.at(std::string(m.fault()->errorCode()));
    ASSERT_NE(want, 0) << "the reference refuses the stream without an error code: "
                       << m.fault()->message;
    // The cycle model stops on the same fault (a deadlock where the watchdog would fire).
    kiln::sim::CycleModel model(*config, kDramBytes);
    std::memcpy(model.dram().data(), before.data(), kDramBytes);
    auto modelled = model.run(std::span<const kiln::accel::Insn>(*stream));
    ASSERT_FALSE(modelled.ok()) << "the cycle model ran a stream the reference refuses";
    ASSERT_TRUE(model.machine().fault().has_value()) << modelled.message();
    EXPECT_EQ(model.machine().fault()->errorCode(), m.fault()->errorCode()) << modelled.message();
    EXPECT_EQ(model.machine().fault()->insn, m.fault()->insn) << modelled.message();
  }
  uint32_t status = dut.run(static_cast<uint32_t>(stream->size()));
  ASSERT_NE(status, 0u) << "the RTL never finished";
  int got = (status & 0x4) ? static_cast<int>((status >> 8) & 0xff) : 0;
  uint32_t error_insn = dut.readReg(0x008);
  ASSERT_EQ(got, want) << "STATUS " << std::hex << status << std::dec << ", ERROR_INSN "
                       << error_insn << "; the reference: " << (want ? m.fault()->message : "done");
  if (want == 0) {
    EXPECT_TRUE(status & 0x1) << "DONE";
    size_t written = 0;
    for (uint64_t i = 0; i < kDramBytes; ++i) {
      ASSERT_EQ(dut.dram[i], m.dram()[i]) << "DRAM byte " << i << " differs";
      written += dut.dram[i] != before[i];
    }
    EXPECT_GT(written, 0u) << "the stream stored nothing that changed DRAM";
    // The performance counters that do not depend on timing agree with the reference's.
    using kiln::accel::Module;
    const kiln::accel::RunStats& stats = *result;
    auto counter = [&](uint32_t offset) {
      uint64_t lo = dut.readReg(offset);
      return lo | uint64_t{dut.readReg(offset + 4)} << 32;
    };
    EXPECT_EQ(counter(0x108), stats.of(Module::kFetch).insns) << "FETCH_INSNS";
    EXPECT_EQ(counter(0x120), stats.of(Module::kLoad).insns) << "LOAD_INSNS";
    EXPECT_EQ(counter(0x148), stats.of(Module::kLoad).dma_read_bytes) << "LOAD_DMA_BYTES";
    EXPECT_EQ(counter(0x150), stats.of(Module::kCompute).insns) << "COMPUTE_INSNS";
    EXPECT_EQ(counter(0x190), stats.gemm_uops) << "COMPUTE_GEMM_UOPS";
    EXPECT_EQ(counter(0x198), stats.alu_uops) << "COMPUTE_ALU_UOPS";
    EXPECT_EQ(counter(0x1a0), stats.of(Module::kCompute).dma_read_bytes) << "COMPUTE_DMA_BYTES";
    EXPECT_EQ(counter(0x1a8), stats.of(Module::kStore).insns) << "STORE_INSNS";
    EXPECT_EQ(counter(0x1d0), stats.of(Module::kStore).dma_write_bytes) << "STORE_DMA_BYTES";
  }
  std::printf("%s: %llu cycles\n", name.c_str(), static_cast<unsigned long long>(dut.cycles()));
  if (want == 0) crossCheckCycles(name, *stream, *bytes, before, m.dram());
}

const char* kGemmTile = R"(
    LOAD memory_type=inp sram_base=0 dram_base=$INP y_size=2 x_size=2 x_stride=2 y_pad_0=1 y_pad_1=1 x_pad_0=1 x_pad_1=1
    LOAD memory_type=wgt sram_base=0 dram_base=$WGT y_size=1 x_size=4 x_stride=4 push_next
    LOAD memory_type=uop sram_base=0 dram_base=$UOP y_size=1 x_size=1 x_stride=1
    GEMM reset uop_begin=0 uop_end=1 iter_out=4 iter_in=4 acc_factor_out=4 acc_factor_in=1
    GEMM pop_prev uop_begin=0 uop_end=1 iter_out=4 iter_in=4 acc_factor_out=4 acc_factor_in=1 inp_factor_out=4 inp_factor_in=1 wgt_factor_in=1
    ALU alu_op=MAX use_imm imm=0 uop_begin=0 uop_end=1 iter_out=4 iter_in=4 acc_factor_out=4 acc_factor_in=1 inp_factor_out=4 inp_factor_in=1 push_next
    STORE memory_type=out sram_base=0 dram_base=$OUT y_size=4 x_size=4 x_stride=8 pop_prev push_prev
    FINISH pop_next
  )";

TEST(Accelerator, GemmTileWithPaddingAndRelu) {
  runStream("gemm", kGemmTile);
}

#if VM_TRACE_FST
// The waveform of the GEMM tile's run is a valid FST file with the design's signals.
TEST(Accelerator, GemmTileWaveformIsFst) {
  std::string path = ::testing::TempDir() + "kiln_accel_gemm_tile.fst";
  std::remove(path.c_str());
  runStream("gemm with waveform", kGemmTile, path.c_str());
  void* reader = fstReaderOpen(path.c_str());
  ASSERT_NE(reader, nullptr) << path << " is not an FST file";
  EXPECT_GT(fstReaderGetVarCount(reader), 500u);
  EXPECT_GT(fstReaderGetEndTime(reader), 1000u);
  fstReaderClose(reader);
}
#endif

TEST(Accelerator, AccumulatorLoadsAluAndRequantization) {
  runStream("alu", R"(
    LOAD memory_type=uop sram_base=0 dram_base=$UOP y_size=2 x_size=8 x_stride=8
    LOAD memory_type=acc sram_base=0 dram_base=$ACC y_size=3 x_size=5 x_stride=7 x_pad_0=1
    LOAD memory_type=acc8 sram_base=20 dram_base=$ACC8 y_size=2 x_size=6 x_stride=9 y_pad_1=1
    ALU alu_op=ADD uop_begin=0 uop_end=4 iter_out=2 iter_in=2 acc_factor_out=2 acc_factor_in=1 inp_factor_out=1 inp_factor_in=3
    ALU alu_op=MAC uop_begin=4 uop_end=8 iter_out=1 iter_in=3 acc_factor_in=1 inp_factor_in=2
    ALU alu_op=SHR use_imm imm=3 uop_begin=0 uop_end=16 iter_out=1 iter_in=1
    ALU alu_op=REQUANT use_imm imm=9 uop_begin=2 uop_end=9 iter_out=2 iter_in=1 acc_factor_out=1 inp_factor_out=2
    ALU alu_op=MIN uop_begin=0 uop_end=16 iter_out=1 iter_in=1 push_next
    STORE memory_type=out sram_base=0 dram_base=$OUT y_size=4 x_size=8 x_stride=12 pop_prev push_prev
    FINISH pop_next
  )");
}

TEST(Accelerator, LongRowsCrossBurstsAndPages) {
  runStream("bursts", R"(
    LOAD memory_type=inp sram_base=0 dram_base=$INP y_size=3 x_size=60 x_stride=70 x_pad_1=2
    LOAD memory_type=wgt sram_base=0 dram_base=$WGT y_size=2 x_size=8 x_stride=9 push_next
    LOAD memory_type=uop sram_base=0 dram_base=$UOP y_size=1 x_size=16 x_stride=16
    GEMM pop_prev uop_begin=0 uop_end=16 iter_out=3 iter_in=2 acc_factor_out=0 acc_factor_in=0 inp_factor_out=16 inp_factor_in=1 wgt_factor_in=1 push_prev
    ALU alu_op=MUL use_imm imm=-3 uop_begin=0 uop_end=16 iter_out=1 iter_in=1 push_next
    STORE memory_type=out sram_base=0 dram_base=$OUT y_size=1 x_size=16 x_stride=16 pop_prev push_prev
    LOAD memory_type=inp sram_base=0 dram_base=$INP y_size=1 x_size=16 x_stride=16 pop_next push_next
    GEMM pop_prev pop_next uop_begin=0 uop_end=16 iter_out=1 iter_in=1 push_next
    STORE memory_type=out sram_base=0 dram_base=$OUT y_size=2 x_size=8 x_stride=300 pop_prev push_prev
    FINISH pop_next
  )");
}

// A random stream of 1 to 3 blocks, each: load inputs (strided, padded) and weights; load
// biases, GEMM and a few ALU operations; store. Tokens order every reuse of a buffer
// across blocks (load waits for compute to free inp/wgt, compute for store to free out),
// and every index stays inside what the first block loads, so the stream is valid.
std::string randomStream(std::mt19937_64& rng, const Regions& regions) {
  auto below = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  auto f = [](const char* fmt, auto... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return std::string(buf);
  };
  const char* ops[] = {"MIN", "MAX", "ADD", "SHR", "MUL", "MAC", "REQUANT"};
  std::string s =
      "LOAD memory_type=uop sram_base=0 dram_base=$UOP y_size=1 x_size=16 x_stride=16\n";
  int blocks = 1 + below(3);
  for (int b = 0; b < blocks; ++b) {
    bool first = b == 0, last = b == blocks - 1;
    if (first) {
      s += "LOAD memory_type=inp sram_base=0 dram_base=$INP y_size=4 x_size=8 x_stride=8\n";
    } else {
      int xs = 1 + below(6);
      s +=
          f("LOAD memory_type=inp sram_base=%d dram_base=$INP y_size=%d x_size=%d x_stride=%d "
            "y_pad_0=%d y_pad_1=%d x_pad_0=%d x_pad_1=%d pop_next\n",
            below(4), 1 + below(3), xs, xs + below(5), below(2), below(2), below(3), below(2));
    }
    s += f(
        "LOAD memory_type=wgt sram_base=0 dram_base=$WGT y_size=2 x_size=4 x_stride=%d push_next\n",
        4 + below(3));
    s += f("LOAD memory_type=acc sram_base=0 dram_base=$ACC y_size=%d x_size=%d x_stride=24%s\n",
           first ? 1 : 1 + below(2), first ? 24 : 8 + below(8), first ? "" : " pop_next");
    int ub = below(12);
    s += f(
        "GEMM pop_prev uop_begin=%d uop_end=%d iter_out=%d iter_in=%d acc_factor_out=%d "
        "acc_factor_in=%d inp_factor_out=%d inp_factor_in=%d wgt_factor_out=%d wgt_factor_in=%d\n",
        ub, ub + below(5), 1 + below(2), 1 + below(2), below(4), below(4), below(4), below(4),
        below(2), below(2));
    int alus = 1 + below(3);
    for (int a = 0; a < alus; ++a) {
      const char* op = ops[below(7)];
      bool use_imm = below(2);
      int imm = below(2) ? below(20) - 4 : below(65536) - 32768;
      int ab = below(12);
      std::string flags = a == alus - 1 ? (last ? " push_next" : " push_next push_prev") : "";
      s +=
          f("ALU alu_op=%s%s imm=%d uop_begin=%d uop_end=%d iter_out=%d iter_in=%d "
            "acc_factor_out=%d acc_factor_in=%d inp_factor_out=%d inp_factor_in=%d%s\n",
            op, use_imm ? " use_imm" : "", imm, ab, ab + 1 + below(4), 1 + below(2), 1 + below(2),
            below(4), below(4), below(4), below(4), flags.c_str());
    }
    s +=
        f("STORE memory_type=out sram_base=%d dram_base=%d y_size=2 x_size=%d x_stride=%d "
          "pop_prev push_prev\n",
          below(4), static_cast<int>(regions.out) + b * 64, 1 + below(8), 8 + below(8));
  }
  return s + "FINISH pop_next\n";
}

TEST(Accelerator, RandomStreamsMatchReference) {
  auto config = Config::builtin(KILN_RTL_CONFIG);
  ASSERT_TRUE(config.ok());
  Regions regions(*config);
  std::mt19937_64 rng(2024);
  for (int n = 0; n < KILN_RTL_STREAMS; ++n) {
    std::string text = randomStream(rng, regions);
    runStream("random stream " + std::to_string(n) + ":\n" + text, text);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(Accelerator, FaultsMatchReference) {
  auto config = Config::builtin(KILN_RTL_CONFIG);
  ASSERT_TRUE(config.ok());
  const auto& p = config->params();
  runStream("token flag",
            "LOAD memory_type=inp sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1 pop_prev "
            "push_next\nFINISH pop_prev\n");
  runStream("sram range",
            "LOAD memory_type=inp sram_base=" + std::to_string(p.inp_depth - 6) +
                " dram_base=0 y_size=1 x_size=4 x_stride=4 x_pad_1=3 push_next\nFINISH pop_prev\n");
  runStream("dram range",
            "LOAD memory_type=inp sram_base=0 dram_base=100000 y_size=1 x_size=2 x_stride=2 "
            "push_next\nFINISH pop_prev\n");
  runStream("deadlock", "GEMM pop_prev uop_begin=0 uop_end=0 iter_out=1 iter_in=1\nFINISH\n");
  runStream("uop range", "GEMM uop_begin=0 uop_end=" + std::to_string(p.uop_depth + 1) +
                             " iter_out=1 iter_in=1\nFINISH\n");
  runStream("store padding",
            "STORE memory_type=out sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1 "
            "x_pad_0=1\nFINISH\n");
}

}  // namespace
