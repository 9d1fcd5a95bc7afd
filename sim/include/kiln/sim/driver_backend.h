// The cycle model as a driver back end ("sim-cycle"): the SystemC model behind the spec's
// register map, so a host program drives it exactly as it drives a board, and reads the
// model's predicted cycles and stalls from the performance counters.
#pragma once

#include <memory>

#include "kiln/driver/backend.h"
#include "kiln/sim/cycle_model.h"

namespace kiln::sim {

std::unique_ptr<driver::Backend> makeSimCycleBackend(const accel::Config& config,
                                                     size_t dramBytes = 64u << 20,
                                                     Options options = {});

}  // namespace kiln::sim
