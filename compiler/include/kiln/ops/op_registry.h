// The operators of Kiln's graph IR: their arity, attributes and shape/dtype inference.
//
// Front ends translate every source operator (ONNX, TF.js layers) into these, with
// attributes in canonical form, independent of the source opset:
//   Conv               {strides[2], pads[4] (top,left,bottom,right), dilations[2], group}  X, W, B?
//   MaxPool            {kernel_shape[2], strides[2], pads[4], dilations[2], ceil_mode}
//   AveragePool        {kernel_shape[2], strides[2], pads[4], ceil_mode, count_include_pad}
//   GlobalAveragePool, GlobalMaxPool
//   BatchNormalization {epsilon}  X, scale, bias, mean, var
//   Gemm               {transA, transB, alpha, beta}  A, B, C?
//   MatMul             numpy-style batched matrix product
//   Add Sub Mul Div Pow          numpy broadcasting
//   Relu Sigmoid Tanh Exp Log Sqrt Neg Abs Reciprocal Erf Floor Ceil, LeakyRelu {alpha},
//   Clip {min, max}, Cast {to (DType as int)}
//   Softmax            {axis}  (normalised over that one axis)
//   Concat {axis}, Reshape {shape (fully resolved)}, Transpose {perm}, Gather {axis},
//   Slice {starts, ends, steps (one per dimension, resolved)}, Pad {pads (begin..., end...),
//   value}, ReduceMean / ReduceSum / ReduceMax {axes (resolved, sorted), keepdims}, Shape
// Int8 operators (made by the quantization pass; symmetric, zero point 0; they compute
// exactly what the accelerator computes — see passes/quantize.h):
//   QuantizeLinear {scale}  f32 -> i8,   DequantizeLinear {scale}  i8 -> f32
//   QConv  {Conv's attributes, multiplier[], shift[] (per output channel), out_min, out_max}
//          x:i8, w:i8, bias:i32? -> i8
//   QGemm  {multiplier[], shift[], out_min, out_max}  a:i8 [M,K], b:i8 [N,K], bias:i32? -> i8
//   QAdd   {a_mul, b_mul, multiplier, shift, out_min, out_max}  a:i8, b:i8 (same shape) -> i8
//   QMaxPool     {kernel_shape[2], strides[2], pads[4]}  x:i8 -> i8 (same scale; padding
//                never wins: the window's maximum over the image)
//   QAveragePool {kernel_shape[2], strides[2], pads[4], multiplier, shift}  x:i8 -> i8:
//                requantize(sum of the whole window, padding read as 0)
// Axes are always non-negative after import.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "kiln/ir/graph.h"

namespace kiln {

struct OpSchema {
  std::string name;
  int minInputs = 1;
  int maxInputs = 1;
  int numOutputs = 1;
  // Sets the dtype and shape of the node's outputs from its inputs and attributes, and
  // checks that they are consistent. Throws kiln::Error (without the node prefix).
  std::function<void(Node&)> infer;
  // Multiply-accumulate count; null for operators that do none.
  std::function<int64_t(const Node&)> macs;
  // Whether the CPU code generators define it. The int8 operators are the accelerator's;
  // on the CPU they run in the reference executor only (for now).
  bool cpuCodegen = true;
};

// The schema of an operator, or null when Kiln has no such operator.
const OpSchema* findOp(const std::string& op);
std::vector<std::string> registeredOps();

// Runs shape/dtype inference for one node; errors are prefixed with the node's description
// unless withPrefix is false (the caller adds its own context).
void inferNode(Node& node, bool withPrefix = true);
int64_t nodeMacs(const Node& node);

// Appends a single-output node to the graph and infers its output's type and shape; returns
// the output. Throws kiln::Error when the node is invalid, prefixed with the node's
// description unless the caller adds its own context (withPrefix = false).
Value* addOpNode(Graph& g, const std::string& op, std::vector<Value*> inputs,
                 std::map<std::string, Attribute> attrs, const std::string& outName,
                 const std::string& nodeName = "", bool withPrefix = true);

// Shape helpers shared by front ends and kernels.
Shape broadcastShapes(const Shape& a, const Shape& b);  // throws on incompatible shapes
// Output size of a sliding window along one axis (Conv, pooling).
int64_t windowOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t padBegin,
                         int64_t padEnd, int64_t dilation, bool ceilMode);
int64_t normalizeAxis(int64_t axis, int64_t rank, const std::string& what);

}  // namespace kiln
