// The RTL as a driver back end ("sim-rtl"): the Verilated accelerator (hw/rtl) with a DRAM
// model behind its AXI4 master, driven through its own AXI4-Lite register slave, so a host
// program runs the real design exactly as it would run a board.
//
// The DRAM model accepts every request at once and returns a read burst's first beat
// `dramLatency` cycles after its address, then one beat per cycle, and a write burst's
// response `dramLatency` cycles after its last beat (the cycle model's DRAM).
// wait() advances the clock; a run that never finishes is caught by the driver's timeout.
#pragma once

#include <memory>
#include <vector>

#include "kiln/accel/config.h"
#include "kiln/driver/backend.h"

namespace kiln::sim {

struct RtlOptions {
  int dramLatency = 32;
  uint64_t cyclesPerWait = 4096;  // clock cycles one Backend::wait advances
};

// The configs whose RTL this build carries a Verilated model of.
std::vector<std::string> rtlConfigs();

// Fails for a config without a built model, naming the ones there are.
Expected<std::unique_ptr<driver::Backend>> makeSimRtlBackend(const accel::Config& config,
                                                             size_t dramBytes = 16u << 20,
                                                             RtlOptions options = {});

}  // namespace kiln::sim
