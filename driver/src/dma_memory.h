// The DMA memory behind the board back end (board_backend.cpp): buffers the accelerator's DMA
// reaches at physical addresses, from a u-dma-buf device (udmabuf_memory.cpp) or from XRT's
// allocator (xrt_memory.cpp). Internal to the driver.
#pragma once

#include <memory>

#include "kiln/boards/board.h"
#include "kiln/driver/backend.h"
#include "kiln/driver/board_backend.h"

namespace kiln::driver {

class DmaMemory {
 public:
  virtual ~DmaMemory() = default;
  // Throws kiln::Error when none is left.
  virtual DmaBuffer allocate(size_t bytes, size_t alignment) = 0;
  virtual void release(const DmaBuffer& buffer) = 0;
  // Cache maintenance: the CPU's writes out to memory before the device reads them, and
  // the CPU's stale lines dropped before it reads what the device wrote.
  virtual void flush(const DmaBuffer& buffer) = 0;
  virtual void invalidate(const DmaBuffer& buffer) = 0;
};

// Both fail (kiln::Error) saying what to set up; every buffer lies inside the board's DDR.
std::unique_ptr<DmaMemory> openUdmabufMemory(const boards::Board& board, const BoardPaths& paths);
std::unique_ptr<DmaMemory> openXrtMemory(const boards::Board& board, const BoardPaths& paths);

}  // namespace kiln::driver
