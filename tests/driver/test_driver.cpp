// The driver on the functional simulator: config-hash checks, a GEMM tile launched through
// the register map with its result and counters, faults reported with the instruction, a
// stream that reaches memory outside the driver's buffers refused, and a hung device timing
// out.
#include <gtest/gtest.h>

#include <cstring>

#include "kiln/accel/assembler.h"
#include "kiln/accel/isa.h"
#include "kiln/driver/accelerator.h"
#include "kiln/driver/sim_func.h"
#include "streams.h"

namespace kiln::driver {
namespace {

using namespace std::chrono_literals;

accel::Config config(const char* name) {
  Expected<accel::Config> c = accel::Config::builtin(name);
  EXPECT_TRUE(c) << c.message();
  return *c;
}

std::unique_ptr<Accelerator> openSim(const accel::Config& c) {
  Expected<std::unique_ptr<Accelerator>> a = Accelerator::open(makeSimFuncBackend(c, 1 << 20), c);
  EXPECT_TRUE(a) << a.message();
  return std::move(*a);
}

using test::kGemmTile;

TEST(Driver, RefusesHardwareOfAnotherConfig) {
  accel::Config small = config("small"), pynq = config("pynq-z1");
  Expected<std::unique_ptr<Accelerator>> a =
      Accelerator::open(makeSimFuncBackend(small, 1 << 20), pynq);
  ASSERT_FALSE(a);
  EXPECT_NE(a.message().find("config hash"), std::string::npos) << a.message();
  EXPECT_NE(a.message().find("'pynq-z1'"), std::string::npos) << a.message();
}

TEST(Driver, RunsAGemmTileThroughTheRegisters) {
  accel::Config c = config("small");
  auto acc = openSim(c);
  DmaBuffer buf = acc->allocate(128);
  std::vector<int8_t> want = test::fillGemmTile(buf.host, c.layout());
  Expected<std::vector<uint8_t>> stream = accel::assemble(kGemmTile, c);
  ASSERT_TRUE(stream) << stream.message();
  Expected<RunResult> r = acc->run(*stream, buf.deviceAddr, 1000ms);
  ASSERT_TRUE(r) << r.message();
  for (int o = 0; o < 4; ++o)
    EXPECT_EQ(static_cast<int8_t>(buf.host[64 + o]), want[o]) << "output channel " << o;
  EXPECT_EQ(r->counters.at("FETCH_INSNS"), 7u);
  EXPECT_EQ(r->counters.at("COMPUTE_GEMM_UOPS"), 2u);
  EXPECT_EQ(r->counters.at("STORE_DMA_BYTES"), 4u);
  EXPECT_EQ(r->counters.at("LOAD_DMA_BYTES"), 20u);
}

TEST(Driver, FaultNamesTheErrorCodeAndInstruction) {
  accel::Config c = config("small");
  auto acc = openSim(c);
  DmaBuffer buf = acc->allocate(4096);
  // A GEMM whose micro-op points past the end of the input buffer (256 tiles).
  const uint64_t uop = accel::encodeUop(c.layout(), {0, 255, 0});
  std::memcpy(buf.host + 32, &uop, 4);
  std::string text = kGemmTile;
  text.replace(text.find("GEMM pop_prev uop_begin=0 uop_end=1 iter_out=1 iter_in=1"),
               std::string("GEMM pop_prev uop_begin=0 uop_end=1 iter_out=1 iter_in=1").size(),
               "GEMM pop_prev uop_begin=0 uop_end=1 iter_out=1 iter_in=2 inp_factor_in=1");
  Expected<std::vector<uint8_t>> stream = accel::assemble(text, c);
  ASSERT_TRUE(stream) << stream.message();
  Expected<RunResult> r = acc->run(*stream, buf.deviceAddr, 1000ms);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("SRAM_RANGE"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("instruction 4"), std::string::npos) << r.message();
}

TEST(Driver, RefusesStreamsReachingUnallocatedMemory) {
  accel::Config c = config("small");
  auto acc = openSim(c);
  DmaBuffer buf = acc->allocate(64);  // too small for the STORE at byte 64
  Expected<std::vector<uint8_t>> stream = accel::assemble(kGemmTile, c);
  ASSERT_TRUE(stream);
  try {
    acc->launch(*stream, buf.deviceAddr);
    FAIL() << "launched a stream that writes outside its buffers";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("instruction 5 (STORE"), std::string::npos) << m;
    EXPECT_NE(m.find("not inside a buffer allocated through this driver"), std::string::npos) << m;
  }
}

// A back end whose hardware never starts (a wrong or missing bitstream): the driver must
// time out with a clear message rather than wait forever.
class DeadBackend : public Backend {
 public:
  explicit DeadBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return "dead"; }
  uint32_t readReg(uint32_t offset) override { return inner_->readReg(offset); }
  void writeReg(uint32_t offset, uint32_t value) override {
    if (offset != 0) inner_->writeReg(offset, value);  // CONTROL (offset 0) is ignored
  }
  DmaBuffer allocate(size_t bytes, size_t alignment) override {
    return inner_->allocate(bytes, alignment);
  }
  void release(const DmaBuffer& b) override { inner_->release(b); }
  void wait(std::chrono::microseconds) override {}
  void reset() override { inner_->reset(); }

 private:
  std::unique_ptr<Backend> inner_;
};

TEST(Driver, HungDeviceTimesOut) {
  accel::Config c = config("small");
  Expected<std::unique_ptr<Accelerator>> a =
      Accelerator::open(std::make_unique<DeadBackend>(makeSimFuncBackend(c, 1 << 20)), c);
  ASSERT_TRUE(a) << a.message();
  DmaBuffer buf = (*a)->allocate(128);
  Expected<std::vector<uint8_t>> stream = accel::assemble(kGemmTile, c);
  ASSERT_TRUE(stream);
  auto t0 = std::chrono::steady_clock::now();
  Expected<RunResult> r = (*a)->run(*stream, buf.deviceAddr, 50ms);
  ASSERT_FALSE(r);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_NE(r.message().find("did not finish within 50 ms"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace kiln::driver
