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
  // Host nodes that are int8 operators, with why they are not on the device.
  std::vector<std::pair<std::string, std::string>> notOnDevice;
};

PartitionReport partitionForAccel(Graph& g, const accel::Config& config);
bool onAccel(const Node& n);

}  // namespace kiln
