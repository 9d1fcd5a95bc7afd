// The board back end: /dev/mem registers, DMA memory from u-dma-buf or XRT (dma_memory.h).
#include "kiln/driver/board_backend.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "dma_memory.h"

namespace kiln::driver {

namespace {

class BoardBackend : public Backend {
 public:
  BoardBackend(const boards::Board& board, const BoardPaths& paths) : board_(board) {
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
    mem_ = paths.dma == BoardPaths::Dma::kXrt ? openXrtMemory(board, paths)
                                              : openUdmabufMemory(board, paths);
  }

  ~BoardBackend() override {
    if (regs_ && regs_ != MAP_FAILED) ::munmap(regs_, board_.control.size);
    if (memFd_ >= 0) ::close(memFd_);
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
    return mem_->allocate(bytes, alignment);
  }
  void release(const DmaBuffer& b) override { mem_->release(b); }
  void flush(const DmaBuffer& b) override { mem_->flush(b); }
  void invalidate(const DmaBuffer& b) override { mem_->invalidate(b); }

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

  boards::Board board_;
  int memFd_ = -1;
  void* regs_ = nullptr;
  std::unique_ptr<DmaMemory> mem_;
};

}  // namespace

Expected<std::unique_ptr<Backend>> openBoardBackend(const boards::Board& board,
                                                    const BoardPaths& paths) {
  return catchErrors(
      [&]() -> std::unique_ptr<Backend> { return std::make_unique<BoardBackend>(board, paths); });
}

}  // namespace kiln::driver
