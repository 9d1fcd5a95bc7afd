// Post-training int8 quantization.
//
// Calibration runs the float graph on sample inputs in the reference executor and records
// every activation's largest magnitude. Rewriting then turns, into int8 operators that compute
// exactly what the accelerator computes:
//   Conv (+ Relu / Clip)        -> QConv:  per-output-channel symmetric int8 weights, int32 bias,
//                                          requantization by a per-channel multiplier and shift
//   Gemm (+ Relu / Clip)        -> QGemm   (transA = 0, alpha = beta = 1, constant B)
//   Add of two equal shapes (+ Relu / Clip) -> QAdd: both operands scaled to a common int32
//                                          representation, added, requantized
// Activations are per-tensor symmetric int8 (scale = max |x| / 127); an activation clamp is
// folded into the operator's output range. Everything else stays float, with
// QuantizeLinear / DequantizeLinear where int8 and float meet; graph outputs stay float.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kiln/ir/graph.h"

namespace kiln {

struct QuantizeReport {
  int quantized = 0;  // float operators replaced by int8 ones
  int floatOps = 0;   // operators left in float
};

// The largest |value| of every activation over the calibration inputs.
std::map<std::string, float> calibrate(const Graph& g,
                                       const std::vector<std::map<std::string, NDArray>>& samples);

// Returns the quantized graph; `g` (optimised: batch norms folded) is not modified. Throws
// kiln::Error when `ranges` lacks a value the rewrite needs.
Graph quantizeGraph(const Graph& g, const std::map<std::string, float>& ranges,
                    QuantizeReport* report = nullptr);

// A real multiplier M > 0 as the ISA's REQUANT takes it: x * M ~= requantize(x, m, s).
void quantizeMultiplier(double M, int64_t& multiplier, int64_t& shift);

}  // namespace kiln
