// The board back end: the accelerator's registers through /dev/mem (mapped at the board's
// control window) and DMA memory from a u-dma-buf device (physically contiguous, with the
// physical address and cache-sync controls the u-dma-buf driver exposes in sysfs) or, where
// the board runs XRT, from XRT's allocator.
//
// Every path is configurable so the same code runs against stand-ins: a file standing in for
// /dev/mem and another for the DMA buffer, served by the Verilated RTL or the functional
// simulator (tests/driver does both; kiln/sim/mmio_shim.h).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "kiln/boards/board.h"
#include "kiln/driver/backend.h"

namespace kiln::driver {

struct BoardPaths {
  std::string devmem = "/dev/mem";
  // Offset of the register window in `devmem`; by default the board's control base address.
  std::optional<uint64_t> mmioOffset;
  std::string udmabuf = "/dev/udmabuf0";
  std::string udmabufSysfs = "/sys/class/u-dma-buf/udmabuf0";
  // Where DMA buffers come from: the u-dma-buf device above, or XRT buffer objects of device
  // xrtDevice (only in a build configured where XRT's headers were found: xrtCompiledIn()).
  enum class Dma { kUdmabuf, kXrt } dma = Dma::kUdmabuf;
  unsigned xrtDevice = 0;
};

// Whether this build carries the XRT allocator.
bool xrtCompiledIn();

// Fails, saying what to set up, when a device file cannot be opened or mapped, or when the
// DMA buffer lies outside the board's DDR.
Expected<std::unique_ptr<Backend>> openBoardBackend(const boards::Board& board,
                                                    const BoardPaths& paths = {});

}  // namespace kiln::driver
