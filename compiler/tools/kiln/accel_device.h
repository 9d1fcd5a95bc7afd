// Choosing the accelerator device a package's device steps run on (accel_device.cpp).
#pragma once

#include <string>

#include "kiln/runtime/package.h"

namespace kiln::cli {

// Attaches `device` (sim-func, sim-cycle, sim-rtl; "" = sim-cycle) to a package for the
// accelerator; a package without device steps accepts only "".
void attachDevice(Package& p, const std::string& device);

}  // namespace kiln::cli
