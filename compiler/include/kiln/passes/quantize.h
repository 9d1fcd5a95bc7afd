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
// Activations are per-tensor symmetric int8 (scale = range / 127, the range calibrated: see
// CalibrationOptions); an activation clamp is
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

// How an activation's range (the |x| that maps to 127) is chosen from the calibration runs:
//   max         the largest |x| seen (nothing saturates; outliers cost resolution);
//   percentile  the |x| below which `percentile` percent of the values lie (the rest saturate);
//   entropy     the range whose int8 histogram is closest (least KL divergence) to the float
//               one, as TensorRT and onnxruntime's entropy calibrator choose it.
// Percentile and entropy histogram every activation's |x| (2048 bins up to its maximum) in a
// second pass over the samples.
enum class CalibrationMethod { Max, Percentile, Entropy };
struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::Max;
  double percentile = 99.99;
};
// "max", "percentile" or "entropy" -> the method; throws kiln::Error naming the choices.
CalibrationMethod parseCalibrationMethod(const std::string& name);

// The range of every activation over the calibration inputs.
std::map<std::string, float> calibrate(const Graph& g,
                                       const std::vector<std::map<std::string, NDArray>>& samples,
                                       const CalibrationOptions& options = {});

// Returns the quantized graph; `g` (optimised: batch norms folded) is not modified. Throws
// kiln::Error when `ranges` lacks a value the rewrite needs.
Graph quantizeGraph(const Graph& g, const std::map<std::string, float>& ranges,
                    QuantizeReport* report = nullptr);

// A real multiplier M > 0 as the ISA's REQUANT takes it: x * M ~= requantize(x, m, s).
void quantizeMultiplier(double M, int64_t& multiplier, int64_t& shift);

}  // namespace kiln
