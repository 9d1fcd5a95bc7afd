// The board driver code, run for real against stand-ins: a file in place of /dev/mem and
// another in place of the u-dma-buf buffer (with its sysfs attributes), served by the
// functional simulator through a shim thread that watches the register file as hardware
// would (test_board_rtl.cpp serves the same files with the Verilated RTL); and bitstream
// handling against a directory laid out like the FPGA manager's sysfs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "board_files.h"
#include "kiln/accel/assembler.h"
#include "kiln/driver/accelerator.h"
#include "kiln/driver/bitstream.h"
#include "kiln/driver/board_backend.h"
#include "kiln/driver/sim_func.h"
#include "streams.h"

namespace kiln::driver {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::BoardFiles;
using test::scratch;
using test::smallBoard;
using test::writeFile;

// Serves a register file and a DMA file with the functional simulator, as the fabric would:
// it waits for CONTROL.START, runs the stream, and writes STATUS, ERROR_INSN and the counters.
class Shim {
 public:
  Shim(const fs::path& regs, const fs::path& dma, size_t dmaBytes, uint64_t phys,
       const accel::Config& c)
      : config_(c), sim_(makeSimFuncBackend(c, dmaBytes)), dmaBytes_(dmaBytes), phys_(phys) {
    regsFd_ = ::open(regs.c_str(), O_RDWR);
    dmaFd_ = ::open(dma.c_str(), O_RDWR);
    regs_ = static_cast<volatile uint32_t*>(
        ::mmap(nullptr, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED, regsFd_, 0));
    dma_ = static_cast<uint8_t*>(
        ::mmap(nullptr, dmaBytes, PROT_READ | PROT_WRITE, MAP_SHARED, dmaFd_, 0));
    simDram_ = sim_->allocate(dmaBytes, 64);  // the simulator's whole DRAM, at address 0
    // The hardware's constant registers.
    for (const char* r : {"CONFIG_HASH", "ISA_VERSION"})
      regs_[offset(r) / 4] = sim_->readReg(offset(r));
    thread_ = std::thread([this] { loop(); });
  }
  ~Shim() {
    stop_ = true;
    thread_.join();
    ::munmap(const_cast<uint32_t*>(regs_), 0x10000);
    ::munmap(dma_, dmaBytes_);
    ::close(regsFd_);
    ::close(dmaFd_);
  }

 private:
  uint32_t offset(const std::string& name) const {
    for (const auto& r : config_.spec().registers)
      if (r.name == name) return r.offset;
    return 0;
  }
  void loop() {
    const uint32_t control = offset("CONTROL");
    while (!stop_) {
      const uint32_t cmd = regs_[control / 4];
      if (!(cmd & 1u)) {
        std::this_thread::sleep_for(100us);
        continue;
      }
      regs_[control / 4] = 0;  // START and CLEAR_COUNTERS self-clear
      // Physical addresses -> the simulator's DRAM offsets.
      auto set = [&](const char* r, uint64_t v) {
        sim_->writeReg(offset(r), static_cast<uint32_t>(v));
      };
      auto get64 = [&](const char* lo, const char* hi) {
        return uint64_t{regs_[offset(lo) / 4]} | (uint64_t{regs_[offset(hi) / 4]} << 32);
      };
      set("INSN_ADDR_LO", get64("INSN_ADDR_LO", "INSN_ADDR_HI") - phys_);
      set("INSN_ADDR_HI", 0);
      set("INSN_COUNT", regs_[offset("INSN_COUNT") / 4]);
      set("DRAM_BASE_LO", get64("DRAM_BASE_LO", "DRAM_BASE_HI") - phys_);
      set("DRAM_BASE_HI", 0);
      std::memcpy(simDram_.host, dma_, dmaBytes_);
      sim_->writeReg(control, cmd);
      sim_->wait(0us);
      std::memcpy(dma_, simDram_.host, dmaBytes_);
      const accel::Spec& spec = config_.spec();
      for (size_t i = 0; i < spec.counters.size(); ++i) {
        const uint32_t at = spec.counters_base + static_cast<uint32_t>(8 * i);
        regs_[at / 4] = sim_->readReg(at);
        regs_[at / 4 + 1] = sim_->readReg(at + 4);
      }
      regs_[offset("ERROR_INSN") / 4] = sim_->readReg(offset("ERROR_INSN"));
      std::atomic_thread_fence(
          std::memory_order_seq_cst);  // results before STATUS, as the bus orders them
      regs_[offset("STATUS") / 4] = sim_->readReg(offset("STATUS"));
    }
  }

  accel::Config config_;
  std::unique_ptr<Backend> sim_;
  size_t dmaBytes_;
  uint64_t phys_;
  int regsFd_ = -1, dmaFd_ = -1;
  volatile uint32_t* regs_ = nullptr;
  uint8_t* dma_ = nullptr;
  DmaBuffer simDram_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(BoardBackend, RunsAStreamThroughMappedRegistersAndDmaBuffer) {
  const size_t dmaBytes = 1 << 20;
  const uint64_t phys = 0x18000000;  // inside the PYNQ-Z1's 512 MiB of DDR
  BoardFiles files("mmio", dmaBytes, phys);

  boards::Board board = smallBoard();
  Expected<accel::Config> c = accel::Config::find(board.acceleratorConfig);
  ASSERT_TRUE(c) << c.message();
  Shim shim(files.dir / "mem", files.dir / "udmabuf0", dmaBytes, phys, *c);

  Expected<std::unique_ptr<Backend>> backend = openBoardBackend(board, files.paths());
  ASSERT_TRUE(backend) << backend.message();
  Expected<std::unique_ptr<Accelerator>> acc = Accelerator::open(std::move(*backend), *c);
  ASSERT_TRUE(acc) << acc.message();

  DmaBuffer buf = (*acc)->allocate(128);
  EXPECT_EQ(buf.deviceAddr, phys);
  std::vector<int8_t> want = test::fillGemmTile(buf.host, c->layout());
  Expected<std::vector<uint8_t>> stream = accel::assemble(test::kGemmTile, *c);
  ASSERT_TRUE(stream) << stream.message();
  Expected<RunResult> r = (*acc)->run(*stream, buf.deviceAddr, 5000ms);
  ASSERT_TRUE(r) << r.message();
  for (int o = 0; o < 4; ++o)
    EXPECT_EQ(static_cast<int8_t>(buf.host[64 + o]), want[o]) << "output channel " << o;
  EXPECT_EQ(r->counters.at("COMPUTE_GEMM_UOPS"), 2u);
}

TEST(BoardBackend, MissingDeviceFilesSayWhatToSetUp) {
  BoardPaths paths{"/nonexistent/mem", std::nullopt, "/nonexistent/udmabuf0", "/nonexistent/sysfs"};
  Expected<std::unique_ptr<Backend>> b = openBoardBackend(smallBoard(), paths);
  ASSERT_FALSE(b);
  EXPECT_NE(b.message().find("/nonexistent/mem"), std::string::npos) << b.message();
}

// The XRT allocator, compiled in (XRT's headers found) or not, says what it needs when there
// is no XRT device.
TEST(BoardXrt, AllocatorSaysWhatItNeeds) {
  test::BoardFiles files("xrt", 1 << 16, 0x18000000);
  BoardPaths paths = files.paths();
  paths.dma = BoardPaths::Dma::kXrt;
  Expected<std::unique_ptr<Backend>> b = openBoardBackend(test::smallBoard(), paths);
  ASSERT_FALSE(b) << "an XRT allocator opened on a machine without an XRT device";
  if (xrtCompiledIn()) {
    std::printf("XRT allocator compiled in; without a device: %s\n", b.message().c_str());
    EXPECT_NE(b.message().find("XRT: cannot open device 0"), std::string::npos) << b.message();
  } else {
    EXPECT_NE(b.message().find("this build has no XRT allocator"), std::string::npos)
        << b.message();
  }
}

// A .bit file as Vivado writes it: header fields a-d, then the data field e.
std::vector<uint8_t> makeBit(const std::string& part, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> b = {0x00, 0x09, 0x0f, 0xf0, 0x0f, 0xf0, 0x0f,
                            0xf0, 0x0f, 0xf0, 0x00, 0x00, 0x01};
  auto field = [&](char key, const std::string& v) {
    b.push_back(static_cast<uint8_t>(key));
    b.push_back(0);
    b.push_back(static_cast<uint8_t>(v.size() + 1));
    b.insert(b.end(), v.begin(), v.end());
    b.push_back(0);
  };
  field('a', "kiln_top;UserID=0XFFFFFFFF;Version=2023.2");
  field('b', part);
  field('c', "2026/11/24");
  field('d', "12:00:00");
  b.push_back('e');
  for (int s : {24, 16, 8, 0}) b.push_back(static_cast<uint8_t>(data.size() >> s));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

TEST(Bitstream, ParsesHeaderAndSwapsWordsForTheFpgaManager) {
  std::vector<uint8_t> data = {0xff, 0xff, 0xff, 0xff, 0xaa, 0x99, 0x55, 0x66};
  Expected<Bitstream> bit = parseBitstream(makeBit("7z020clg400", data), "t.bit");
  ASSERT_TRUE(bit) << bit.message();
  EXPECT_EQ(bit->part, "7z020clg400");
  EXPECT_EQ(bit->design.rfind("kiln_top", 0), 0u);
  EXPECT_EQ(toFpgaManagerBin(*bit),
            (std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff, 0x66, 0x55, 0x99, 0xaa}));
  std::vector<uint8_t> cut = makeBit("7z020clg400", data);
  cut.resize(cut.size() - 3);
  Expected<Bitstream> t = parseBitstream(cut, "cut.bit");
  ASSERT_FALSE(t);
  EXPECT_NE(t.message().find("truncated"), std::string::npos) << t.message();
  Expected<Bitstream> junk = parseBitstream({'<', 'h', 't', 'm', 'l', '>'}, "page.bit");
  ASSERT_FALSE(junk);
  EXPECT_NE(junk.message().find("not a Xilinx .bit file"), std::string::npos) << junk.message();
}

TEST(Bitstream, PartNamesCompareByDeviceAndPackage) {
  EXPECT_TRUE(samePart("7z020clg400", "xc7z020clg400-1"));
  EXPECT_TRUE(samePart("xczu3eg-sbva484-1-e", "xczu3eg-sbva484-1-i"));
  EXPECT_FALSE(samePart("7z010clg400", "xc7z020clg400-1"));
  EXPECT_FALSE(samePart("xczu7ev-ffvc1156-2-e", "xczu3eg-sbva484-1-i"));
}

TEST(Bitstream, LoadsThroughTheFpgaManager) {
  fs::path dir = scratch("fpga");
  fs::create_directories(dir / "fpga0");
  writeFile(dir / "fpga0/firmware", "");
  writeFile(dir / "fpga0/flags", "");
  writeFile(dir / "fpga0/state", "operating\n");
  std::vector<uint8_t> data = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<uint8_t> bytes = makeBit("7z020clg400", data);
  std::ofstream(dir / "kiln.bit", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  FpgaManagerPaths paths{dir / "fpga0", dir / "firmware"};
  Expected<boards::Board> z1 = boards::findBoard("pynq-z1");
  ASSERT_TRUE(z1);
  Expected<bool> ok = loadBitstream((dir / "kiln.bit").string(), *z1, paths);
  ASSERT_TRUE(ok) << ok.message();
  std::ifstream fw(dir / "fpga0/firmware");
  std::string name;
  std::getline(fw, name);
  EXPECT_EQ(name, "kiln.bin");
  std::ifstream binFile(dir / "firmware/kiln.bin", std::ios::binary);
  std::vector<uint8_t> bin((std::istreambuf_iterator<char>(binFile)),
                           std::istreambuf_iterator<char>());
  EXPECT_EQ(bin, (std::vector<uint8_t>{4, 3, 2, 1, 8, 7, 6, 5}));

  // The manager refusing it, and a bitstream for another part.
  writeFile(dir / "fpga0/state", "write error\n");
  Expected<bool> failed = loadBitstream((dir / "kiln.bit").string(), *z1, paths);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.message().find("'write error'"), std::string::npos) << failed.message();
  Expected<boards::Board> zcu = boards::findBoard("zcu104");
  Expected<bool> wrong = loadBitstream((dir / "kiln.bit").string(), *zcu, paths);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.message().find("kiln board build --board zcu104"), std::string::npos)
      << wrong.message();
}

}  // namespace
}  // namespace kiln::driver
