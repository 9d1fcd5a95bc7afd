// DMA memory from a u-dma-buf device: one physically contiguous buffer, mapped once and
// handed out by a bump allocator; the physical address and the manual cache-sync controls
// come from the buffer's sysfs directory.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "dma_memory.h"

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

class UdmabufMemory : public DmaMemory {
 public:
  UdmabufMemory(const boards::Board& board, const BoardPaths& paths)
      : name_(board.name), sysfs_(paths.udmabufSysfs) {
    fd_ = ::open(paths.udmabuf.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0)
      throw Error("cannot open " + paths.udmabuf + ": " + std::strerror(errno) +
                  " (load the u-dma-buf module with a buffer, e.g. `modprobe u-dma-buf "
                  "udmabuf0=67108864`)");
    size_ = std::stoull(readSysfs(sysfs_ + "/size"), nullptr, 0);
    phys_ = std::stoull(readSysfs(sysfs_ + "/phys_addr"), nullptr, 0);
    if (phys_ < board.ddr.base || phys_ + size_ > board.ddr.base + board.ddr.size)
      throw Error("the DMA buffer at physical address " + std::to_string(phys_) + " lies outside " +
                  board.name + "'s DDR window");
    base_ =
        static_cast<uint8_t*>(::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0));
    if (base_ == MAP_FAILED)
      throw Error("cannot map " + paths.udmabuf + ": " + std::strerror(errno));
  }
  ~UdmabufMemory() override {
    if (base_ && base_ != MAP_FAILED) ::munmap(base_, size_);
    if (fd_ >= 0) ::close(fd_);
  }

  DmaBuffer allocate(size_t bytes, size_t alignment) override {
    size_t offset = (next_ + alignment - 1) / alignment * alignment;
    if (offset + bytes > size_)
      throw Error(name_ + ": the DMA buffer (" + std::to_string(size_ >> 20) +
                  " MiB) is full; load u-dma-buf with a larger buffer");
    next_ = offset + bytes;
    ++live_;
    return {base_ + offset, phys_ + offset, bytes};
  }
  void release(const DmaBuffer&) override {
    if (--live_ == 0) next_ = 0;
  }
  // u-dma-buf's manual cache maintenance (a no-op where the buffer is coherent or uncached).
  void flush(const DmaBuffer& b) override { sync(b, 1, "sync_for_device"); }
  void invalidate(const DmaBuffer& b) override { sync(b, 2, "sync_for_cpu"); }

 private:
  void sync(const DmaBuffer& b, int direction, const char* trigger) {
    if (!std::ifstream(sysfs_ + "/" + trigger)) return;
    writeSysfs(sysfs_ + "/sync_offset", std::to_string(b.deviceAddr - phys_));
    writeSysfs(sysfs_ + "/sync_size", std::to_string(b.bytes));
    writeSysfs(sysfs_ + "/sync_direction", std::to_string(direction));
    writeSysfs(sysfs_ + "/" + trigger, "1");
  }

  std::string name_, sysfs_;
  int fd_ = -1;
  uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint64_t phys_ = 0;
  size_t next_ = 0;
  int live_ = 0;
};

}  // namespace

std::unique_ptr<DmaMemory> openUdmabufMemory(const boards::Board& board, const BoardPaths& paths) {
  return std::make_unique<UdmabufMemory>(board, paths);
}

}  // namespace kiln::driver
