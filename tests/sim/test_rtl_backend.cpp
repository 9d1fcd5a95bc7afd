// The RTL behind the driver (sim-rtl): the driver's GEMM tile on the Verilated design gives
// the functional simulator's bytes and timing-independent counters, with real cycle counts;
// a config without a model is refused by name.
#include <gtest/gtest.h>

#include "kiln/accel/assembler.h"
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
