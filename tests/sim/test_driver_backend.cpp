// The cycle model behind the driver: the same GEMM tile the driver tests run on the
// functional simulator gives the same bytes, and the counters now carry the predicted cycles.
#include <gtest/gtest.h>

#include "kiln/accel/assembler.h"
#include "kiln/driver/accelerator.h"
#include "kiln/driver/sim_func.h"
#include "kiln/sim/driver_backend.h"
#include "streams.h"

namespace kiln::sim {
namespace {

using namespace std::chrono_literals;

TEST(SimCycleBackend, RunsThroughTheDriverWithCycleCounters) {
  Expected<accel::Config> c = accel::Config::builtin("small");
  ASSERT_TRUE(c) << c.message();
  std::map<std::string, uint64_t> counters[2];
  std::vector<int8_t> results[2];
  for (int k = 0; k < 2; ++k) {
    auto backend =
        k == 0 ? driver::makeSimFuncBackend(*c, 1 << 20) : makeSimCycleBackend(*c, 1 << 20);
    Expected<std::unique_ptr<driver::Accelerator>> acc =
        driver::Accelerator::open(std::move(backend), *c);
    ASSERT_TRUE(acc) << acc.message();
    driver::DmaBuffer buf = (*acc)->allocate(128);
    std::vector<int8_t> want = driver::test::fillGemmTile(buf.host, c->layout());
    Expected<std::vector<uint8_t>> stream = accel::assemble(driver::test::kGemmTile, *c);
    ASSERT_TRUE(stream) << stream.message();
    Expected<driver::RunResult> r = (*acc)->run(*stream, buf.deviceAddr, 5000ms);
    ASSERT_TRUE(r) << r.message();
    for (int o = 0; o < 4; ++o) results[k].push_back(static_cast<int8_t>(buf.host[64 + o]));
    EXPECT_EQ(results[k], want);
    counters[k] = r->counters;
  }
  EXPECT_EQ(counters[0].at("COMPUTE_GEMM_UOPS"), counters[1].at("COMPUTE_GEMM_UOPS"));
  EXPECT_EQ(counters[0].at("STORE_DMA_BYTES"), counters[1].at("STORE_DMA_BYTES"));
  EXPECT_EQ(counters[0].at("CYCLES"), 0u) << "the functional simulator predicts no timing";
  EXPECT_GT(counters[1].at("CYCLES"), 0u) << "the cycle model reports its predicted cycles";
}

}  // namespace
}  // namespace kiln::sim
