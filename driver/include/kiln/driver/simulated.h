// A simulated accelerator behind the driver's back-end interface: the spec's register map
// (CONTROL, STATUS, ERROR_INSN, instruction and DRAM base registers, the constant CONFIG_HASH
// and ISA_VERSION, the 64-bit counters with their latched high words) in front of a simulation
// engine that runs instruction streams on its DRAM.
//
// START latches the stream; the engine runs it when the host next waits (that is when a
// simulator may advance). DONE, ERROR, ERROR_CODE and ERROR_INSN report the outcome as the
// hardware would. The engine's DRAM is one array whose device addresses start at 0, so
// streams run with DRAM_BASE 0.
//
// Engines: the functional reference (sim-func, here) and the SystemC cycle model (sim-cycle,
// in sim/).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "kiln/accel/config.h"
#include "kiln/accel/reference.h"
#include "kiln/driver/backend.h"

namespace kiln::driver {

struct EngineFault {
  std::string code;  // the spec's error code name; "NONE" for faults hardware cannot see
  uint32_t insn = 0;
  std::string message;
};

// The fault the reference recorded, as the register map reports it. Faults the hardware
// cannot see (races, a stream without FINISH) still stop a simulator, with code NONE and the
// reference's explanation.
EngineFault engineFault(const std::optional<accel::Fault>& fault, const std::string& message);

class SimEngine {
 public:
  virtual ~SimEngine() = default;
  virtual std::string name() const = 0;
  virtual std::span<uint8_t> dram() = 0;
  // Runs a binary stream to its FINISH: the spec's counters by name, or an error with
  // `fault` describing it.
  virtual Expected<std::map<std::string, uint64_t>> run(std::span<const uint8_t> stream,
                                                        EngineFault& fault) = 0;
  // Back to zeroed buffers and DRAM.
  virtual void reset() = 0;
};

std::unique_ptr<Backend> makeSimulatedBackend(std::unique_ptr<SimEngine> engine,
                                              const accel::Config& config);

}  // namespace kiln::driver
