// The one small interface every accelerator back end implements: its 32-bit registers and
// the memory its DMA engines reach. Simulators (functional, SystemC cycle model, Verilator
// RTL) and real boards (/dev/mem + u-dma-buf, XRT) differ only here; everything above —
// config checks, launching, waiting, counters, stream safety checks — is shared
// (kiln/driver/accelerator.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace kiln::driver {

// A buffer both the host and the accelerator can reach: host bytes and the device address
// (physical on a board) the accelerator's DMA uses for them.
struct DmaBuffer {
  uint8_t* host = nullptr;
  uint64_t deviceAddr = 0;
  size_t bytes = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // AXI4-Lite register access at a byte offset from the accelerator's base.
  virtual uint32_t readReg(uint32_t offset) = 0;
  virtual void writeReg(uint32_t offset, uint32_t value) = 0;

  // Memory the accelerator can reach. Throws kiln::Error when none is left.
  virtual DmaBuffer allocate(size_t bytes, size_t alignment) = 0;
  virtual void release(const DmaBuffer& buffer) = 0;
  // Cache maintenance around DMA (no-ops where memory is coherent or simulated).
  virtual void flush(const DmaBuffer& buffer) { (void)buffer; }
  virtual void invalidate(const DmaBuffer& buffer) { (void)buffer; }

  // Waits up to `budget` for the hardware to make progress: real hardware sleeps, a
  // simulator advances simulated time instead.
  virtual void wait(std::chrono::microseconds budget) = 0;
  // Returns the accelerator to its idle state (a reset line, or a fresh simulator).
  virtual void reset() = 0;
  // What a simulator knows about the last fault beyond the error code (the instruction and
  // why, in words); "" on hardware.
  virtual std::string diagnostics() const { return ""; }
};

}  // namespace kiln::driver
