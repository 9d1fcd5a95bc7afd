// Writes a package with target "accel": an int8 graph partitioned between Kiln's
// accelerator and the host CPU. Device nodes become instruction streams (accel/N.insn) with
// their constants in device layout (accel/N.bin); host nodes become LLVM kernels
// (kernels.so) as in an "llvm" package; the manifest orders both, and records the config
// (config.yaml) and its hash, which the runtime checks against the device before running.
#pragma once

#include <ostream>
#include <string>

#include "kiln/accel/config.h"
#include "kiln/codegen/llvm_aot.h"
#include "kiln/ir/graph.h"
#include "kiln/passes/partition.h"

namespace kiln::codegen {

struct AccelPackageSummary {
  size_t cpuKernels = 0, accelKernels = 0;
  size_t paramBytes = 0, deviceBytes = 0, arenaBytes = 0;
  uint64_t instructions = 0;
  double compileMs = 0;
  PartitionReport partition;
};

// `graph`: quantized (quantizeGraph), shapes inferred; partitioned here.
AccelPackageSummary writeAccelPackage(Graph& graph, const std::string& dir, const AotTarget& target,
                                      const accel::Config& config, std::ostream* dumpIr = nullptr);

}  // namespace kiln::codegen
