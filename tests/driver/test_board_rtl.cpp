// The board driver's own code (board_backend.cpp, accelerator.cpp: what runs on a PYNQ)
// against the real design: the Verilated RTL serves a file standing in for /dev/mem and one
// for the u-dma-buf buffer through the MMIO shim (kiln/sim/mmio_shim.h), its AXI master
// reading and writing the buffer's pages at their physical addresses. A stream runs and
// leaves the right bytes; a config-hash mismatch, a hung device and a stream reaching outside
// the driver's buffers are each refused or reported.
#include <gtest/gtest.h>

#include "board_files.h"
#include "kiln/accel/assembler.h"
#include "kiln/driver/accelerator.h"
#include "kiln/driver/board_backend.h"
#include "kiln/sim/mmio_shim.h"
#include "streams.h"

namespace kiln::driver {
namespace {

using namespace std::chrono_literals;

constexpr size_t kDmaBytes = 1 << 20;
constexpr uint64_t kPhys = 0x18000000;  // inside the PYNQ-Z1's 512 MiB of DDR

// A PYNQ-Z1 carrying the small config, its device files served by the small config's RTL.
class RtlBoard : public ::testing::Test {
 protected:
  void SetUp() override {
    board_ = test::smallBoard();
    Expected<accel::Config> c = accel::Config::find(board_.acceleratorConfig);
    ASSERT_TRUE(c) << c.message();
    config_ = std::make_unique<accel::Config>(*c);
    files_ = std::make_unique<test::BoardFiles>(
        ::testing::UnitTest::GetInstance()->current_test_info()->name(), kDmaBytes, kPhys);
    sim::MmioShimFiles f{(files_->dir / "mem").string(), 0x10000,
                         (files_->dir / "udmabuf0").string(), kDmaBytes, kPhys};
    Expected<std::unique_ptr<sim::MmioShim>> shim = sim::MmioShim::start(*config_, f);
    ASSERT_TRUE(shim) << shim.message();
    shim_ = std::move(*shim);
  }

  std::unique_ptr<Accelerator> open(const accel::Config& config) {
    Expected<std::unique_ptr<Backend>> backend = openBoardBackend(board_, files_->paths());
    EXPECT_TRUE(backend) << backend.message();
    if (!backend) return nullptr;
    Expected<std::unique_ptr<Accelerator>> acc = Accelerator::open(std::move(*backend), config);
    if (!acc) {
      error_ = acc.message();
      return nullptr;
    }
    return std::move(*acc);
  }

  boards::Board board_;
  std::unique_ptr<accel::Config> config_;
  std::unique_ptr<test::BoardFiles> files_;
  std::unique_ptr<sim::MmioShim> shim_;
  std::string error_;
};

TEST_F(RtlBoard, RunsAStreamOnTheRtlThroughMappedFiles) {
  std::unique_ptr<Accelerator> acc = open(*config_);
  ASSERT_TRUE(acc) << error_;
  DmaBuffer buf = acc->allocate(128);
  EXPECT_EQ(buf.deviceAddr, kPhys) << "the first buffer starts the u-dma-buf region";
  std::vector<int8_t> want = test::fillGemmTile(buf.host, config_->layout());
  Expected<std::vector<uint8_t>> stream = accel::assemble(test::kGemmTile, *config_);
  ASSERT_TRUE(stream) << stream.message();
  Expected<RunResult> r = acc->run(*stream, buf.deviceAddr, 10000ms);
  ASSERT_TRUE(r) << r.message();
  for (int o = 0; o < 4; ++o)
    EXPECT_EQ(static_cast<int8_t>(buf.host[64 + o]), want[o]) << "output channel " << o;
  EXPECT_EQ(r->counters.at("COMPUTE_GEMM_UOPS"), 2u);
  EXPECT_EQ(r->counters.at("STORE_DMA_BYTES"), 4u);
  EXPECT_GT(r->counters.at("CYCLES"), 100u) << "the RTL's own cycle counter";
  EXPECT_EQ(shim_->starts(), 1u);
}

TEST_F(RtlBoard, RefusesHardwareOfAnotherConfig) {
  // The bitstream carries the small config; a package for pynq-z1 must not run on it.
  Expected<accel::Config> other = accel::Config::find("pynq-z1");
  ASSERT_TRUE(other);
  std::unique_ptr<Accelerator> acc = open(*other);
  ASSERT_FALSE(acc) << "opened a small-config accelerator as pynq-z1";
  EXPECT_NE(error_.find("config hash"), std::string::npos) << error_;
  EXPECT_NE(error_.find("pynq-z1"), std::string::npos) << error_;
  EXPECT_EQ(shim_->starts(), 0u);
}

TEST_F(RtlBoard, HungDeviceTimesOut) {
  // Compute waits for a token nobody pushes: the RTL stays busy (its watchdog fires only after
  // 2^24 cycles), and the driver gives up after its timeout, saying the device hangs.
  std::unique_ptr<Accelerator> acc = open(*config_);
  ASSERT_TRUE(acc) << error_;
  DmaBuffer buf = acc->allocate(64);
  Expected<std::vector<uint8_t>> stream = accel::assemble(
      "GEMM pop_prev uop_begin=0 uop_end=0 iter_out=1 iter_in=1\nFINISH\n", *config_);
  ASSERT_TRUE(stream) << stream.message();
  Expected<RunResult> r = acc->run(*stream, buf.deviceAddr, 300ms);
  ASSERT_FALSE(r) << "a deadlocked stream finished";
  EXPECT_NE(r.message().find("did not finish within 300 ms"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("busy"), std::string::npos) << r.message();
  EXPECT_EQ(shim_->starts(), 1u);
  EXPECT_GT(shim_->cycles(), 0u) << "the RTL was clocked while the driver waited";
}

TEST_F(RtlBoard, RefusesAStreamOutsideItsBuffersBeforeLaunch) {
  std::unique_ptr<Accelerator> acc = open(*config_);
  ASSERT_TRUE(acc) << error_;
  DmaBuffer buf = acc->allocate(128);
  // The input tile 4 KiB past the buffer: physical memory the driver never handed out.
  Expected<std::vector<uint8_t>> stream = accel::assemble(
      "LOAD memory_type=inp sram_base=0 dram_base=1024 y_size=1 x_size=1 x_stride=1 push_next\n"
      "GEMM pop_prev uop_begin=0 uop_end=0 iter_out=1 iter_in=1\nFINISH\n",
      *config_);
  ASSERT_TRUE(stream) << stream.message();
  Expected<RunResult> r = acc->run(*stream, buf.deviceAddr, 1000ms);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("not inside a buffer allocated through this driver"),
            std::string::npos)
      << r.message();
  EXPECT_EQ(shim_->starts(), 0u) << "the accelerator was started";
}

}  // namespace
}  // namespace kiln::driver
