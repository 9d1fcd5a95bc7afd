// The accelerator as a host program sees it, on any back end: open it and check that it is
// the hardware a package was compiled for (config hash and ISA version, read from its
// registers), allocate DMA buffers, launch an instruction stream, wait for it with a
// timeout, read the performance counters, reset it.
//
// Before a launch the driver decodes the stream and checks that every LOAD and STORE stays
// inside buffers this driver allocated: on a board, DMA reaches physical memory, and a
// stream that reaches anything else is refused, naming the instruction.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kiln/accel/config.h"
#include "kiln/driver/backend.h"

namespace kiln::driver {

struct RunResult {
  std::map<std::string, uint64_t> counters;  // every counter of the spec, by name
  double wallMs = 0;
};

class Accelerator {
 public:
  // Fails with a message saying what differs when the hardware behind `backend` is not
  // `config` (its CONFIG_HASH or ISA_VERSION register disagrees).
  static Expected<std::unique_ptr<Accelerator>> open(std::unique_ptr<Backend> backend,
                                                     const accel::Config& config);
  ~Accelerator();

  const accel::Config& config() const { return config_; }
  Backend& backend() { return *backend_; }

  DmaBuffer allocate(size_t bytes);
  void release(const DmaBuffer& buffer);

  // Writes `stream` (binary instructions) into a fresh DMA buffer and starts it. Every DRAM
  // access of the stream is relative to `dramBase` (the DRAM_BASE register) and must fall in
  // a buffer allocated here; otherwise throws kiln::Error naming the instruction.
  void launch(std::span<const uint8_t> stream, uint64_t dramBase);
  // Waits for the running stream: its counters on DONE; an error naming the fault code and
  // the instruction on ERROR; an error saying the device hangs (and to reset it) when
  // neither comes within `timeout`.
  Expected<RunResult> wait(std::chrono::milliseconds timeout);
  // launch + wait.
  Expected<RunResult> run(std::span<const uint8_t> stream, uint64_t dramBase,
                          std::chrono::milliseconds timeout);

  std::map<std::string, uint64_t> readCounters();
  void reset();

  // The register offset of a named register of the spec (throws for an unknown name).
  uint32_t reg(const std::string& name) const;

 private:
  Accelerator(std::unique_ptr<Backend> backend, accel::Config config);
  void checkStream(std::span<const uint8_t> stream, uint64_t dramBase) const;

  std::unique_ptr<Backend> backend_;
  accel::Config config_;
  std::vector<DmaBuffer> buffers_;
  DmaBuffer streamBuffer_{};
  std::chrono::steady_clock::time_point started_;
};

}  // namespace kiln::driver
