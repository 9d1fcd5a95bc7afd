// int8 pooling (QMaxPool, QAveragePool) as accelerator kernels: whether a node can run on the
// device, and its compilation (compile_pool.cpp). Used by compile_node.cpp's entry points.
#pragma once

#include <string>

#include "kiln/accel/config.h"
#include "kiln/codegen/accel.h"
#include "kiln/ir/graph.h"
#include "kiln/tir/lower.h"

namespace kiln::codegen::accel_target {

bool poolSupported(const Node& n, const accel::Config& config, std::string* why);
AccelKernel compilePool(const Node& n, const accel::Config& config, const tir::LowerOptions& lo);

}  // namespace kiln::codegen::accel_target
