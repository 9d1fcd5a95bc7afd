// DMA memory from XRT's allocator: on a board running XRT's zocl driver (PYNQ images with
// XRT, Kria's KV260), each buffer is an XRT buffer object of the board's device, mapped into
// this process, with XRT doing the cache maintenance. Compiled only where XRT's headers were
// found (KILN_HAVE_XRT); elsewhere opening it says so.
#include "dma_memory.h"

#if KILN_HAVE_XRT
#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>

#include <algorithm>
#include <map>
#endif

namespace kiln::driver {

bool xrtCompiledIn() {
  return KILN_HAVE_XRT != 0;
}

#if KILN_HAVE_XRT

namespace {

class XrtMemory : public DmaMemory {
 public:
  XrtMemory(const boards::Board& board, const BoardPaths& paths) : board_(board) {
    try {
      device_ = xrt::device(paths.xrtDevice);
    } catch (const std::exception& e) {
      throw Error("XRT: cannot open device " + std::to_string(paths.xrtDevice) + " (" + e.what() +
                  "); on the board, load the zocl driver and the bitstream through XRT, or use "
                  "the u-dma-buf allocator");
    }
  }

  DmaBuffer allocate(size_t bytes, size_t alignment) override {
    try {
      // Buffer objects are page-aligned: enough for every DMA the accelerator does.
      xrt::bo bo(device_, std::max<size_t>(bytes, alignment), xrt::bo::flags::normal, 0);
      auto* host = bo.map<uint8_t*>();
      const uint64_t addr = bo.address();
      if (addr < board_.ddr.base || addr + bytes > board_.ddr.base + board_.ddr.size)
        throw Error("XRT placed a buffer at physical address " + std::to_string(addr) +
                    ", outside " + board_.name + "'s DDR window");
      bos_.emplace(addr, std::move(bo));
      return {host, addr, bytes};
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error("XRT: cannot allocate a " + std::to_string(bytes) + "-byte buffer: " + e.what());
    }
  }
  void release(const DmaBuffer& b) override { bos_.erase(b.deviceAddr); }
  void flush(const DmaBuffer& b) override {
    bos_.at(b.deviceAddr).sync(XCL_BO_SYNC_BO_TO_DEVICE, b.bytes, 0);
  }
  void invalidate(const DmaBuffer& b) override {
    bos_.at(b.deviceAddr).sync(XCL_BO_SYNC_BO_FROM_DEVICE, b.bytes, 0);
  }

 private:
  boards::Board board_;
  xrt::device device_;
  std::map<uint64_t, xrt::bo> bos_;  // by device address
};

}  // namespace

std::unique_ptr<DmaMemory> openXrtMemory(const boards::Board& board, const BoardPaths& paths) {
  return std::make_unique<XrtMemory>(board, paths);
}

#else

std::unique_ptr<DmaMemory> openXrtMemory(const boards::Board&, const BoardPaths&) {
  throw Error(
      "this build has no XRT allocator: XRT's headers (xrt/xrt_bo.h; Debian libxrt-dev, or "
      "/opt/xilinx/xrt) were not found when it was configured. Use the u-dma-buf allocator, or "
      "rebuild where XRT is installed");
}

#endif

}  // namespace kiln::driver
