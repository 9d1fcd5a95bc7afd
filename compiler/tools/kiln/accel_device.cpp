// The accelerator devices `kiln run` and `kiln profile` attach to a package: the simulators
// behind the driver interface (sim-func: the functional reference; sim-cycle: the SystemC
// cycle model; sim-rtl: the Verilated RTL, where this build has it for the config).
#include "accel_device.h"

#include "kiln/driver/sim_func.h"
#include "kiln/runtime/error.h"
#include "kiln/sim/driver_backend.h"
#if KILN_HAVE_SIM_RTL
#include "kiln/sim/rtl_backend.h"
#endif

namespace kiln::cli {

void attachDevice(Package& p, const std::string& device) {
  const accel::Config* c = p.accelConfig();
  if (!c) {
    if (device.empty()) return;
    throw Error("--device applies to packages compiled for the accelerator (--target accel)");
  }
  const size_t dram = p.accelMemoryBytes();
  const std::string d = device.empty() ? "sim-cycle" : device;
  if (d == "sim-func") return p.attachAccelerator(driver::makeSimFuncBackend(*c, dram));
  if (d == "sim-cycle") return p.attachAccelerator(sim::makeSimCycleBackend(*c, dram));
  if (d == "sim-rtl") {
#if KILN_HAVE_SIM_RTL
    auto b = sim::makeSimRtlBackend(*c, dram);
    if (!b) throw b.error();
    return p.attachAccelerator(std::move(*b));
#else
    throw Error("--device sim-rtl: this build has no Verilated RTL model (install Verilator)");
#endif
  }
  throw Error("--device " + d + ": expected sim-func, sim-cycle or sim-rtl");
}

}  // namespace kiln::cli
