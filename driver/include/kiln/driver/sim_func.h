// The functional-simulator back end ("sim-func"): the bit-exact reference of the ISA behind
// the accelerator's register map. It computes exactly what the hardware computes and fills
// the counters that do not depend on timing (instructions, DMA bytes, micro-ops); timing
// counters stay zero — the cycle model (sim-cycle) predicts those.
//
// Its DRAM is one array whose device addresses start at 0, so streams run with DRAM_BASE 0.
#pragma once

#include <memory>

#include "kiln/accel/config.h"
#include "kiln/driver/backend.h"

namespace kiln::driver {

std::unique_ptr<Backend> makeSimFuncBackend(const accel::Config& config,
                                            size_t dramBytes = 64u << 20);

}  // namespace kiln::driver
