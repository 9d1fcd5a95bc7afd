// The RTL behind the driver (sim-rtl): the driver's GEMM tile on the Verilated design gives
// the functional simulator's bytes and timing-independent counters, with real cycle counts;
// the pynq-z1 model Verilated with --threads 2 gives the same bytes and cycles as the
// one-thread model; a config or thread count without a model is refused by name.
#include <gtest/gtest.h>

#include <random>

#include "kiln/accel/assembler.h"
#include "kiln/accel/reference.h"
#include "kiln/driver/accelerator.h"
#include "kiln/driver/sim_func.h"
#include "kiln/sim/rtl_backend.h"
#include "streams.h"

namespace kiln::sim {
namespace {

using namespace std::chrono_literals;

TEST(SimRtlBackend, GemmTileMatchesTheFunctionalSimulator) {
  Expected<accel::Config> c = accel::Config::builtin("small");
  ASSERT_TRUE(c) << c.message();
  std::map<std::string, uint64_t> counters[2];
  for (int k = 0; k < 2; ++k) {
    std::unique_ptr<driver::Backend> backend;
    if (k == 0) {
      backend = driver::makeSimFuncBackend(*c, 1 << 20);
    } else {
      auto rtl = makeSimRtlBackend(*c, 1 << 20);
      ASSERT_TRUE(rtl) << rtl.message();
      backend = std::move(*rtl);
    }
    Expected<std::unique_ptr<driver::Accelerator>> acc =
        driver::Accelerator::open(std::move(backend), *c);
    ASSERT_TRUE(acc) << acc.message();
    driver::DmaBuffer buf = (*acc)->allocate(128);
    std::vector<int8_t> want = driver::test::fillGemmTile(buf.host, c->layout());
    Expected<std::vector<uint8_t>> stream = accel::assemble(driver::test::kGemmTile, *c);
    ASSERT_TRUE(stream) << stream.message();
    Expected<driver::RunResult> r = (*acc)->run(*stream, buf.deviceAddr, 10000ms);
    ASSERT_TRUE(r) << r.message();
    for (int o = 0; o < 4; ++o)
      EXPECT_EQ(static_cast<int8_t>(buf.host[64 + o]), want[o]) << "channel " << o;
    counters[k] = r->counters;
  }
  for (const char* name : {"FETCH_INSNS", "COMPUTE_GEMM_UOPS", "LOAD_DMA_BYTES", "STORE_DMA_BYTES"})
    EXPECT_EQ(counters[0].at(name), counters[1].at(name)) << name;
  EXPECT_GT(counters[1].at("CYCLES"), 0u);
  std::printf("GEMM tile on the RTL: %llu cycles\n",
              static_cast<unsigned long long>(counters[1].at("CYCLES")));
}

TEST(SimRtlBackend, TwoThreadModelIsTheSameDesign) {
  Expected<accel::Config> c = accel::Config::builtin("pynq-z1");
  ASSERT_TRUE(c) << c.message();
  const std::string text = R"(
    LOAD memory_type=inp sram_base=0 dram_base=0 y_size=2 x_size=3 x_stride=3 x_pad_0=1
    LOAD memory_type=wgt sram_base=0 dram_base=8 y_size=1 x_size=2 x_stride=2 push_next
    LOAD memory_type=uop sram_base=0 dram_base=1024 y_size=1 x_size=2 x_stride=2
    GEMM reset uop_begin=0 uop_end=2 iter_out=2 iter_in=2 acc_factor_out=2 acc_factor_in=1
    GEMM pop_prev uop_begin=0 uop_end=2 iter_out=2 iter_in=2 acc_factor_out=2 acc_factor_in=1 inp_factor_out=4 inp_factor_in=1 push_next
    STORE memory_type=out sram_base=0 dram_base=256 y_size=2 x_size=4 x_stride=4 pop_prev push_prev
    FINISH pop_next
  )";
  Expected<std::vector<accel::Insn>> insns = accel::parseAssembly(text, *c);
  ASSERT_TRUE(insns) << insns.message();
  Expected<std::vector<uint8_t>> stream = accel::assemble(text, *c);
  ASSERT_TRUE(stream) << stream.message();
  const size_t bytes = 64 << 10;
  std::vector<uint8_t> initial(bytes);
  std::mt19937 rng(3);
  for (auto& b : initial) b = static_cast<uint8_t>(rng());
  for (uint32_t u = 0; u < 2; ++u) {
    const uint64_t w = accel::encodeUop(c->layout(), {u, u, u});
    std::memcpy(&initial[4096 + 4 * u], &w, 4);
  }
  accel::Machine ref(*c, bytes);
  std::copy(initial.begin(), initial.end(), ref.dram().begin());
  ASSERT_TRUE(ref.run(*insns).ok());

  uint64_t cycles[2] = {0, 0};
  for (unsigned threads : {1u, 2u}) {
    RtlOptions o;
    o.threads = threads;
    o.cyclesPerWait = 64;  // the stream takes hundreds of cycles: no clocking far past its end
    auto rtl = makeSimRtlBackend(*c, bytes + (1 << 16), o);
    ASSERT_TRUE(rtl) << rtl.message();
    auto acc = driver::Accelerator::open(std::move(*rtl), *c);
    ASSERT_TRUE(acc) << acc.message();
    driver::DmaBuffer mem = (*acc)->allocate(bytes);
    std::copy(initial.begin(), initial.end(), mem.host);
    Expected<driver::RunResult> r = (*acc)->run(*stream, mem.deviceAddr, 60000ms);
    ASSERT_TRUE(r) << threads << " threads: " << r.message();
    for (size_t i = 0; i < bytes; ++i)
      ASSERT_EQ(mem.host[i], ref.dram()[i]) << threads << " threads: DRAM byte " << i;
    cycles[threads - 1] = r->counters.at("CYCLES");
  }
  EXPECT_EQ(cycles[0], cycles[1]) << "the two-thread model took other cycles";
  RtlOptions three;
  three.threads = 3;
  auto refused = makeSimRtlBackend(*c, 1 << 20, three);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.message().find("1 or 2 threads"), std::string::npos) << refused.message();
}

TEST(SimRtlBackend, ConfigWithoutAModelIsRefused) {
  Expected<accel::Config> c = accel::Config::builtin("ultrascale");
  ASSERT_TRUE(c);
  auto rtl = makeSimRtlBackend(*c);
  ASSERT_FALSE(rtl);
  EXPECT_NE(rtl.message().find("no Verilated RTL model of config 'ultrascale'"), std::string::npos)
      << rtl.message();
}

}  // namespace
}  // namespace kiln::sim
