// The cycle model's timing: a pure GEMM loop within 5% of one micro-op per cycle, DMA as
// latency plus bytes / bandwidth plus the reader's handshakes, the ALU's initiation
// intervals, counters that account for every cycle, and the trace timeline. Expected figures
// come from the spec's timing values (tests/rtl checks the model against the RTL itself).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim_test_util.h"

namespace kiln::sim {
namespace {

using accel::Config;
using accel::test::allConfigs;
using accel::test::assembly;
using accel::test::builtinConfig;

uint64_t timing(const Config& c, const char* name) {
  return static_cast<uint64_t>(c.spec().timingValue(name));
}

Stats runOk(CycleModel& m, const std::string& text) {
  Expected<Stats> s = m.run(assembly(m.config(), text));
  EXPECT_TRUE(s.ok()) << "the stream faulted: " << s.message();
  return s ? *s : Stats{};
}

TEST(Timing, PureGemmLoopRunsWithin5PercentOfOneMicroOpPerCycle) {
  for (const std::string& name : allConfigs()) {
    Config c = builtinConfig(name);
    CycleModel m(c, 1 << 20);
    // 16 GEMMs of 8 micro-ops x 16 x 16 iterations over tiles already in the buffers.
    std::string text = R"(
      LOAD memory_type=wgt sram_base=0 dram_base=0 y_size=1 x_size=8 x_stride=8
      LOAD memory_type=inp sram_base=0 dram_base=0 y_size=1 x_size=8 x_stride=8 push_next
      LOAD memory_type=uop sram_base=0 dram_base=0 y_size=1 x_size=8 x_stride=8
    )";
    const int gemms = 16;
    for (int g = 0; g < gemms; ++g)
      text += std::string("GEMM uop_begin=0 uop_end=8 iter_out=16 iter_in=16") +
              (g == 0 ? " pop_prev" : "") + "\n";
    text += "FINISH\n";
    Stats s = runOk(m, text);
    const double ideal = gemms * 8.0 * 16 * 16 * timing(c, "gemm_ii");
    EXPECT_EQ(s.functional.gemm_uops, static_cast<uint64_t>(ideal));
    EXPECT_GE(s.cycles, ideal) << "config " << name << ": faster than one micro-op per cycle";
    EXPECT_LE(s.cycles, 1.05 * ideal)
        << "config " << name << ": the GEMM loop took " << s.cycles << " cycles, "
        << s.cycles / ideal << " x its ideal " << ideal << "\n"
        << s.report();
    EXPECT_LE(s.counter("COMPUTE_BUSY_GEMM"), 1.01 * ideal) << s.report();
    EXPECT_GT(s.gemmUtilization(), 0.95) << s.report();
  }
}

TEST(Timing, DmaTakesLatencyPlusBytesOverBandwidth) {
  Config c = builtinConfig("pynq-z1");
  const uint64_t issue = timing(c, "issue_cycles");
  const uint64_t tile = static_cast<uint64_t>(c.elementBytes(accel::MemType::kWgt));
  const std::string text = R"(
    LOAD memory_type=wgt sram_base=0 dram_base=0 y_size=1 x_size=4 x_stride=4 push_next
    GEMM pop_prev uop_begin=0 uop_end=0 iter_out=1 iter_in=1
    FINISH
  )";
  for (int64_t latency : {0, 50}) {
    for (int64_t bw : {0, 16}) {
      CycleModel m(c, 1 << 16, Options{.dram_latency = latency, .dram_bytes_per_cycle = bw});
      Stats s = runOk(m, text);
      uint64_t per_cycle = bw ? bw : c.params().axi_width / 8;
      // The engine starts, the burst address goes out, the beats arrive after the latency;
      // the last tile is delivered after its last beat, then the reader frees and the LOAD
      // reports done.
      uint64_t last = issue + timing(c, "dma_request_cycles") + latency + 4 * tile / per_cycle - 1 +
                      timing(c, "dma_element_cycles");
      uint64_t expected = last + timing(c, "dma_job_gap_cycles") + timing(c, "dma_done_cycles");
      EXPECT_EQ(s.counter("LOAD_BUSY"), expected)
          << "latency " << latency << ", " << per_cycle << " bytes per cycle";
      EXPECT_EQ(s.counter("LOAD_STALL_DRAM"), expected - 4)
          << "the busy cycles in which none of the 4 entries was written wait on DRAM";
      EXPECT_EQ(s.counter("LOAD_DMA_BYTES"), 4 * tile);
    }
  }
}

TEST(Timing, AluIntervalIsOneCyclePerAccumulatorTileRead) {
  Config c = builtinConfig("small");
  CycleModel m(c, 1 << 16);
  Stats s = runOk(m, R"(
    LOAD memory_type=uop sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1
    ALU alu_op=ADD uop_begin=0 uop_end=1 iter_out=10 iter_in=10
    ALU alu_op=MAX use_imm imm=0 uop_begin=0 uop_end=1 iter_out=10 iter_in=10
    ALU alu_op=MAC uop_begin=0 uop_end=1 iter_out=10 iter_in=10
    FINISH
  )");
  const uint64_t issue = timing(c, "issue_cycles"), read = timing(c, "alu_read_cycles");
  // dst + src, dst only, dst + src + aux; each instruction drains the pipeline.
  const uint64_t expected = 3 * (issue + timing(c, "alu_depth")) + 100 * read * (2 + 1 + 3);
  EXPECT_EQ(s.counter("COMPUTE_BUSY_ALU"), expected) << s.report();
  EXPECT_EQ(s.counter("COMPUTE_ALU_UOPS"), 300u);
}

TEST(Timing, LoadOverlapsComputeWhenTokensAllow) {
  // Load fills two halves of the inp buffer; compute works on the first while load fills the
  // second, so the run is much shorter than the modules' busy cycles added up.
  Config c = builtinConfig("pynq-z1");
  CycleModel m(c, 1 << 20);
  Stats s = runOk(m, R"(
    LOAD memory_type=uop sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1
    LOAD memory_type=wgt sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1
    LOAD memory_type=inp sram_base=0 dram_base=0 y_size=1 x_size=512 x_stride=512 push_next
    LOAD memory_type=inp sram_base=512 dram_base=512 y_size=1 x_size=512 x_stride=512 push_next
    GEMM pop_prev uop_begin=0 uop_end=1 iter_out=32 iter_in=32 inp_factor_out=15 inp_factor_in=1
    GEMM pop_prev uop_begin=0 uop_end=1 iter_out=32 iter_in=32 inp_factor_out=15 inp_factor_in=1
    FINISH
  )");
  uint64_t sum = s.counter("LOAD_BUSY") + s.counter("COMPUTE_BUSY_GEMM");
  EXPECT_LT(s.cycles, 0.9 * static_cast<double>(sum))
      << "load and compute did not overlap: " << s.cycles << " cycles for " << sum
      << " busy cycles\n"
      << s.report();
  EXPECT_GT(s.counter("COMPUTE_STALL_LOAD_TOKEN"), 0u) << "compute waits for the first tile";
}

TEST(Timing, CountersAccountForEveryCycle) {
  for (const std::string& name : allConfigs()) {
    Config c = builtinConfig(name);
    CycleModel m(c, 1 << 16);
    Stats s = runOk(m, c.spec().assembly_example);
    EXPECT_EQ(s.counters.size(), c.spec().counters.size()) << "every spec counter is reported";
    EXPECT_EQ(s.counter("CYCLES"), s.cycles);
    for (const char* mod : {"LOAD", "STORE"}) {
      std::string p = mod;
      uint64_t sum = s.counter(p + "_BUSY") + s.counter(p + "_STALL_TOKEN") +
                     s.counter(p + "_STALL_PUSH") + s.counter(p + "_STALL_CMD");
      EXPECT_LE(sum, s.cycles) << p << ": busy and stalls exceed the run\n" << s.report();
      EXPECT_LE(s.counter(p + "_STALL_DRAM"), s.counter(p + "_BUSY"));
    }
    EXPECT_GT(s.counter("STORE_STALL_TOKEN"), 0u) << "store waits for compute's outputs";
    EXPECT_NE(s.report().find("GEMM utilization"), std::string::npos);
  }
}

TEST(Timing, TraceHasAnEventPerInstructionAndStall) {
  Config c = builtinConfig("small");
  CycleModel m(c, 1 << 16, Options{.trace = true});
  Stats s = runOk(m, c.spec().assembly_example);
  std::string json = m.traceJson();
  EXPECT_EQ(json.rfind("{\"displayTimeUnit\"", 0), 0u) << json.substr(0, 80);
  EXPECT_NE(json.find("\"traceEvents\""), std::string::npos);
  EXPECT_NE(json.find("#3 GEMM"), std::string::npos) << "instruction 3 (GEMM) has no event";
  EXPECT_NE(json.find("#6 STORE"), std::string::npos) << "instruction 6 (STORE) has no event";
  EXPECT_NE(json.find("wait: pop compute_to_store"), std::string::npos)
      << "store's wait for compute has no event";
  EXPECT_GT(s.cycles, 0u);
  CycleModel quiet(c, 1 << 16);
  runOk(quiet, c.spec().assembly_example);
  EXPECT_EQ(quiet.traceJson().find("\"ph\":\"X\""), std::string::npos)
      << "without Options::trace no events are recorded";
}

}  // namespace
}  // namespace kiln::sim
