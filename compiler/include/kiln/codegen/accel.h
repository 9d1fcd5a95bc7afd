// Kiln's accelerator as a compiler target: an int8 graph operator (QConv, QGemm, QAdd,
// QMaxPool, QAveragePool) becomes an instruction stream for one accelerator config.
//
// The path is the one every target takes: the operator's tensor-expression definition on
// the blocked layout (topi/quantized.cpp), an accelerator schedule (tiles sized to the
// config's buffers, cache_read / cache_write into the inp, wgt and acc buffers, tensorize
// onto GEMM and ALU intrinsics), tir::lower, then the accelerator code generator, which
// turns the loop IR's copy nests into LOAD / STORE, its intrinsic calls into GEMM / ALU
// instructions over micro-ops, and orders the modules with dependency tokens.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "kiln/accel/config.h"
#include "kiln/accel/isa.h"
#include "kiln/ir/graph.h"
#include "kiln/tir/kernel.h"

namespace kiln::codegen {

// A region of a kernel's DRAM arena: one of its tensors, in the device layout.
struct AccelRegion {
  std::string name;
  uint64_t offset = 0;  // bytes from the arena's start (DRAM_BASE)
  uint64_t bytes = 0;
  std::vector<int64_t> packedShape;  // [N/B, C/BC, H, W, B, BC] for activations
  std::vector<uint8_t> data;         // the contents of a constant region
};

struct AccelKernel {
  std::string name;
  std::vector<accel::Insn> insns;      // the stream, FINISH last
  std::vector<AccelRegion> inputs;     // activations, in the operator's input order
  AccelRegion output;                  // the activation it writes
  std::vector<AccelRegion> constants;  // micro-ops, weights, biases, multipliers, shifts
  uint64_t arenaBytes = 0;
  uint64_t macs = 0;  // multiply-accumulates of the operator (for utilization figures)
  uint64_t gemmUops = 0, aluUops = 0;
};

// The accelerator code generator: a lowered kernel whose parameters are laid out in an
// arena as `regions` says (same order as kernel.params) -> instructions and micro-ops.
// Throws kiln::Error naming the loop nest it cannot map.
AccelKernel generateAccel(const tir::Kernel& kernel, const accel::Config& config,
                          std::vector<AccelRegion> regions);

// Whether the accelerator runs this node of a quantized graph; if not, why (for the
// partitioner and `kiln info`).
bool accelSupports(const Node& node, const accel::Config& config, std::string* why = nullptr);

// The cycles the compiler's tile model predicts for a convolution (QConv of group 1 or
// QGemm; shapes inferred, the weights' shape read, not their values) on this config, for
// choosing between equivalent forms of a layer (passes/fold_narrow_conv.cpp). Throws
// kiln::Error when no tiling fits.
double estimateAccelCycles(const Node& node, const accel::Config& config);

// Compiles one node (QConv, QGemm, QAdd of a quantized graph, shapes inferred, weights
// constant). With a log stream, prints the lowered IR after every pass.
AccelKernel compileAccelNode(const Node& node, const accel::Config& config,
                             std::ostream* log = nullptr);

}  // namespace kiln::codegen
