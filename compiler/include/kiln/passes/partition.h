// Partitioning an int8 graph between the accelerator and the host CPU: every node the
// accelerator can run (kiln/codegen/accel.h: accelSupports) is marked for it with the
// attribute "kiln.device" = "accel"; the others (quantize / dequantize, float operators,
// int8 operators the device lacks) stay on the CPU and go to the LLVM back end.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "kiln/accel/config.h"
#include "kiln/ir/graph.h"

namespace kiln {

inline constexpr const char* kDeviceAttr = "kiln.device";

struct PartitionReport {
  int device = 0, host = 0;
  int folded = 0;  // convolutions whose kernel window was folded into channels
  // Host nodes that are int8 operators, with why they are not on the device.
  std::vector<std::pair<std::string, std::string>> notOnDevice;
};

// Folds the kernel windows of convolutions with fewer input channels than the config's
// block_in into their channels (an Im2col on the host and a 1x1 QConv on the device; see
// passes/fold_narrow_conv.cpp) where that makes fewer blocks to reduce over. Returns how many.
int foldNarrowConvs(Graph& g, const accel::Config& config);

// Folds narrow convolutions (above), then marks the nodes the device runs.
PartitionReport partitionForAccel(Graph& g, const accel::Config& config);
bool onAccel(const Node& n);

}  // namespace kiln
