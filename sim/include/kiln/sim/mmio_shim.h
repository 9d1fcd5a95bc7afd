// The Verilated accelerator behind a board's memory-mapped files: a stand-in for what the
// board driver (kiln/driver/board_backend.h) maps on a PYNQ, so that the driver's own code
// runs against the real design. A file stands in for /dev/mem (the accelerator's register
// window) and another for the u-dma-buf buffer; a thread runs the RTL (sim-rtl) with its DRAM
// model on the buffer's pages, at the buffer's physical address, and services the register
// window as the fabric would: the RTL's constant registers are there from the start; when the
// driver writes CONTROL, the shim passes the stream registers and CONTROL to the RTL's
// AXI4-Lite slave and clears CONTROL (START is self-clearing); while the RTL runs it advances
// the clock, and when it stops it copies the counters and ERROR_INSN, then STATUS.
//
// A plain file has no side effects on access: STATUS keeps the last run's DONE until the
// shim has seen the next START, so a driver should run one stream per shim.
#pragma once

#include <memory>
#include <string>

#include "kiln/accel/config.h"
#include "kiln/sim/rtl_backend.h"

namespace kiln::sim {

struct MmioShimFiles {
  std::string registers;  // the /dev/mem stand-in: the register window from offset 0
  size_t registerBytes = 0x10000;
  std::string dmaBuffer;  // the u-dma-buf stand-in
  size_t dmaBytes = 0;
  uint64_t dmaPhysical = 0;  // the physical address the buffer's sysfs attributes give
};

class MmioShim {
 public:
  // Maps the files and starts the thread; fails saying which file or model is missing.
  static Expected<std::unique_ptr<MmioShim>> start(const accel::Config& config,
                                                   const MmioShimFiles& files,
                                                   RtlOptions options = {});
  ~MmioShim();  // stops the thread, unmaps the files

  // START commands the RTL has been given, and clock cycles it has run for them.
  uint64_t starts() const;
  uint64_t cycles() const;

  struct State;

 private:
  explicit MmioShim(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace kiln::sim
