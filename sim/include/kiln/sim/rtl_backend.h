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
  // Threads evaluating the model: 1, or 2 for the model Verilated with --threads 2 (built
  // for the configs rtlThreadedConfigs() names).
  unsigned threads = 1;
  // Memory the DRAM model serves: by default its own (dramBytes, device addresses from 0);
  // with `memory`, the caller's dramBytes bytes there, at device addresses from memoryBase
  // (a board's DMA buffer standing in, as the MMIO shim does). Beats outside get SLVERR.
  uint8_t* memory = nullptr;
  uint64_t memoryBase = 0;
};

// The configs whose RTL this build carries a Verilated model of, and those it also carries
// a two-thread model of.
std::vector<std::string> rtlConfigs();
std::vector<std::string> rtlThreadedConfigs();

// Fails for a config (or a thread count) without a built model, naming the ones there are.
Expected<std::unique_ptr<driver::Backend>> makeSimRtlBackend(const accel::Config& config,
                                                             size_t dramBytes = 16u << 20,
                                                             RtlOptions options = {});

}  // namespace kiln::sim
