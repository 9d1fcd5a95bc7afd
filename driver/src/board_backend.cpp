// The board back end: /dev/mem registers and u-dma-buf memory.
#include "kiln/driver/board_backend.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace kiln::driver {

namespace {

std::string readSysfs(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error("cannot read " + path + " (is the u-dma-buf driver loaded with a buffer?)");
  std::string s;
  std::getline(f, s);
  return s;
}

bool writeSysfs(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  if (!f) return false;
  f << value;
  f.flush();
  return static_cast<bool>(f);
}

class BoardBackend : public Backend {
 public:
  BoardBackend(const boards::Board& board, const BoardPaths& paths) : board_(board), paths_(paths) {
    memFd_ = ::open(paths.devmem.c_str(), O_RDWR | O_SYNC | O_CLOEXEC);
    if (memFd_ < 0)
      throw Error("cannot open " + paths.devmem + ": " + std::strerror(errno) +
                  " (run as root on the board)");
    const uint64_t offset = paths.mmioOffset.value_or(board.control.base);
    regs_ = ::mmap(nullptr, board.control.size, PROT_READ | PROT_WRITE, MAP_SHARED, memFd_,
                   static_cast<off_t>(offset));
    if (regs_ == MAP_FAILED)
      throw Error("cannot map the accelerator's registers at " + std::to_string(offset) + " in " +
                  paths.devmem + ": " + std::strerror(errno));

    dmaFd_ = ::open(paths.udmabuf.c_str(), O_RDWR | O_CLOEXEC);
    if (dmaFd_ < 0)
      throw Error("cannot open " + paths.udmabuf + ": " + std::strerror(errno) +
                  " (load the u-dma-buf module with a buffer, e.g. `modprobe u-dma-buf "
                  "udmabuf0=67108864`)");
    dmaSize_ = std::stoull(readSysfs(paths.udmabufSysfs + "/size"), nullptr, 0);
    phys_ = std::stoull(readSysfs(paths.udmabufSysfs + "/phys_addr"), nullptr, 0);
    if (phys_ < board.ddr.base || phys_ + dmaSize_ > board.ddr.base + board.ddr.size)
      throw Error("the DMA buffer at physical address " + std::to_string(phys_) + " lies outside " +
                  board.name + "'s DDR window");
    dma_ = static_cast<uint8_t*>(
        ::mmap(nullptr, dmaSize_, PROT_READ | PROT_WRITE, MAP_SHARED, dmaFd_, 0));
    if (dma_ == MAP_FAILED)
      throw Error("cannot map " + paths.udmabuf + ": " + std::strerror(errno));
  }

  ~BoardBackend() override {
    if (regs_ && regs_ != MAP_FAILED) ::munmap(regs_, board_.control.size);
    if (dma_ && dma_ != MAP_FAILED) ::munmap(dma_, dmaSize_);
    if (memFd_ >= 0) ::close(memFd_);
    if (dmaFd_ >= 0) ::close(dmaFd_);
  }

  std::string name() const override { return board_.name; }

  uint32_t readReg(uint32_t offset) override {
    check(offset);
    return static_cast<volatile uint32_t*>(regs_)[offset / 4];
  }
  void writeReg(uint32_t offset, uint32_t value) override {
    check(offset);
    static_cast<volatile uint32_t*>(regs_)[offset / 4] = value;
  }

  DmaBuffer allocate(size_t bytes, size_t alignment) override {
    size_t offset = (next_ + alignment - 1) / alignment * alignment;
    if (offset + bytes > dmaSize_)
      throw Error(board_.name + ": the DMA buffer (" + std::to_string(dmaSize_ >> 20) +
                  " MiB) is full; load u-dma-buf with a larger buffer");
    next_ = offset + bytes;
    ++live_;
    return {dma_ + offset, phys_ + offset, bytes};
  }
  void release(const DmaBuffer&) override {
    if (--live_ == 0) next_ = 0;
  }

  void flush(const DmaBuffer& b) override { sync(b, 1, "sync_for_device"); }
  void invalidate(const DmaBuffer& b) override { sync(b, 2, "sync_for_cpu"); }

  void wait(std::chrono::microseconds budget) override { std::this_thread::sleep_for(budget); }

  // The fabric has no reset line software can pull through these registers; a hung
  // accelerator is recovered by reloading its bitstream (Accelerator::reset says so).
  void reset() override {}

 private:
  void check(uint32_t offset) const {
    if (offset % 4 || offset + 4 > board_.control.size)
      throw Error("register offset " + std::to_string(offset) +
                  " is outside the accelerator's window");
  }
  // u-dma-buf's manual cache maintenance (a no-op where the buffer is coherent or uncached).
  void sync(const DmaBuffer& b, int direction, const char* trigger) {
    const std::string dir = paths_.udmabufSysfs;
    if (!std::ifstream(dir + "/" + trigger)) return;
    writeSysfs(dir + "/sync_offset", std::to_string(b.deviceAddr - phys_));
    writeSysfs(dir + "/sync_size", std::to_string(b.bytes));
    writeSysfs(dir + "/sync_direction", std::to_string(direction));
    writeSysfs(dir + "/" + trigger, "1");
  }

  boards::Board board_;
  BoardPaths paths_;
  int memFd_ = -1, dmaFd_ = -1;
  void* regs_ = nullptr;
  uint8_t* dma_ = nullptr;
  size_t dmaSize_ = 0;
  uint64_t phys_ = 0;
  size_t next_ = 0;
  int live_ = 0;
};

}  // namespace

Expected<std::unique_ptr<Backend>> openBoardBackend(const boards::Board& board,
                                                    const BoardPaths& paths) {
  return catchErrors(
      [&]() -> std::unique_ptr<Backend> { return std::make_unique<BoardBackend>(board, paths); });
}

}  // namespace kiln::driver
