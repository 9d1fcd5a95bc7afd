// The operator library: every graph operator Kiln compiles, defined once as a tensor
// expression. Targets differ only in how they schedule these definitions.
//
// Conventions: data is NCHW; attributes are the graph IR's canonical ones (ops/op_registry.h);
// padded reads are guarded by clamping the index and selecting the pad value, so a
// definition never reads outside its input (bound inference proves it).
#pragma once

#include <string>
#include <vector>

#include "kiln/runtime/ndarray.h"
#include "kiln/te/tensor.h"

namespace kiln::topi {

using te::Expr;
using te::Indices;
using te::Tensor;

// t[idx] where each index may leave [0, extent) only within the given range
// (ranges[d] = {lo, hi}); outside the tensor the result is `pad`.
Expr guardedRead(const Tensor& t, const Indices& idx,
                 const std::vector<std::pair<int64_t, int64_t>>& ranges, Expr pad);

// Convolution over NCHW data and OIHW weights; pads = {top, left, bottom, right}.
// bias may be null. Grouped (group > 1) and depthwise (group == channels) included.
// Blocked weights ([OC / b, C, KH, KW, b], from packConvWeights; group 1) compute the same
// sum in the NCHWc form (output channels as the innermost, vectorizable axis).
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias,
              const std::vector<int64_t>& strides, const std::vector<int64_t>& pads,
              const std::vector<int64_t>& dilations, int64_t group, const std::string& name);

// OIHW f32 weights -> [OC / block, C, KH, KW, block] (the blocked form conv2d reads).
// Throws kiln::Error unless OC divides by block.
NDArray packConvWeights(const NDArray& w, int64_t block);

// Y = alpha * op(A) * op(B) + beta * C (C broadcast to [M, N], may be null).
Tensor gemm(const Tensor& a, const Tensor& b, const Tensor& c, bool transA, bool transB,
            double alpha, double beta, const std::string& name);
// numpy-style batched matrix product with broadcast batch dimensions.
Tensor matmul(const Tensor& a, const Tensor& b, const Shape& outShape, const std::string& name);

enum class PoolKind { Max, Average };
Tensor pool2d(const Tensor& x, PoolKind kind, const std::vector<int64_t>& kernel,
              const std::vector<int64_t>& strides, const std::vector<int64_t>& pads,
              const std::vector<int64_t>& dilations, bool ceilMode, bool countIncludePad,
              const std::string& name);
Tensor globalPool(const Tensor& x, PoolKind kind, const std::string& name);

enum class BinaryKind { Add, Sub, Mul, Div, Pow };
// numpy broadcasting.
Tensor broadcastBinary(const Tensor& a, const Tensor& b, BinaryKind kind, const std::string& name);
// out[i] = f(x[i]).
Tensor elementwise(const Tensor& x, const std::function<Expr(Expr)>& f, const std::string& name);

Tensor batchNorm(const Tensor& x, const Tensor& scale, const Tensor& bias, const Tensor& mean,
                 const Tensor& var, double epsilon, const std::string& name);
Tensor softmax(const Tensor& x, int64_t axis, const std::string& name);

Tensor concat(const std::vector<Tensor>& xs, int64_t axis, const std::string& name);
Tensor transpose(const Tensor& x, const std::vector<int64_t>& perm, const std::string& name);
Tensor reshape(const Tensor& x, const Shape& shape, const std::string& name);
// NCHW <-> NCHW[b]c: [N, C, H, W] -> [N, C / b, H, W, b] (channels in blocks of b, the block
// innermost) and back; tag "layout_transform". How the GLSL back end keeps activations
// between kernels: one RGBA texel holds the four channels of a pixel.
Tensor toChannelBlocks(const Tensor& x, int64_t block, const std::string& name);
Tensor fromChannelBlocks(const Tensor& xb, const std::string& name);
// pads = {begin..., end...}; negative pads crop.
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value,
           const std::string& name);
Tensor slice(const Tensor& x, const std::vector<int64_t>& starts, const std::vector<int64_t>& steps,
             const Shape& outShape, const std::string& name);
// x gathered along axis at the given integer indices (negative ones count from the end;
// out-of-range ones are clamped, since a generated kernel cannot throw).
Tensor gather(const Tensor& x, const Tensor& indices, int64_t axis, const std::string& name);
// Every kernel window of NCHW x as channels: [N, C * KH * KW, OH, OW], channel
// c * KH * KW + ky * KW + kx, zero outside the image (pads = {top, left, bottom, right}).
Tensor im2col(const Tensor& x, const std::vector<int64_t>& kernel,
              const std::vector<int64_t>& strides, const std::vector<int64_t>& pads,
              const std::string& name);
enum class ReduceOp { Sum, Mean, Max };
// axes sorted; keepdims as in ONNX.
Tensor reduce(const Tensor& x, ReduceOp op, const std::vector<int64_t>& axes, bool keepdims,
              const std::string& name);

// ---- int8 on the accelerator's blocked layout (quantized.cpp) ----
// Data [N/B, C/BI, H, W, B, BI] and weights [OC/BO, C/BI, KH, KW, BO, BI], int8: the int32
// sums of a convolution (a 1x1 one over 1x1 data is a dense layer); pads = {top, left,
// bottom, right}. A first stage "<name>.pad" (tag conv2d.pad) zero-borders the data.
Tensor conv2dPacked(const Tensor& x, const Tensor& w, const std::vector<int64_t>& strides,
                    const std::vector<int64_t>& pads, const std::string& name);
// Depthwise: data as above (blocks of BC channels), weights [C/BC, KH, KW, B, BC] int8 (one
// accumulator-shaped entry per channel block and tap, rows repeated).
Tensor depthwiseConv2dPacked(const Tensor& x, const Tensor& w, const std::vector<int64_t>& strides,
                             const std::vector<int64_t>& pads, const std::string& name);
// int32 sums -> int8: + bias (may be null), requantize by per-channel multiplier and shift,
// clamp to [lo, hi]; bias, mult and shift are [OC/BO, B, BO] or [B, BO] int32.
Tensor requantizePacked(const Tensor& acc, const Tensor& bias, const Tensor& mult,
                        const Tensor& shift, int64_t lo, int64_t hi, const std::string& name);
// QAdd: requantize(a * aMul + b * bMul), clamped; mult [B, BO] int32, one shift for the tensor.
Tensor qaddPacked(const Tensor& a, const Tensor& b, int64_t aMul, int64_t bMul, const Tensor& mult,
                  int64_t shift, int64_t lo, int64_t hi, const std::string& name);

// int8 pooling over dims 2 and 3 (quantized_pool.cpp; NCHW or the blocked layout): max keeps
// the scale (the window's maximum, padding read as padValue); average sums the window in int32
// and requantizes by mult and shift ([B, BC] int32, one per-tensor factor).
Tensor qmaxPool2d(const Tensor& x, const std::vector<int64_t>& kernel,
                  const std::vector<int64_t>& strides, const std::vector<int64_t>& pads,
                  int64_t padValue, const std::string& name);
Tensor qavgPool2dPacked(const Tensor& x, const std::vector<int64_t>& kernel,
                        const std::vector<int64_t>& strides, const std::vector<int64_t>& pads,
                        const Tensor& mult, const Tensor& shift, const std::string& name);

// QuantizeLinear / DequantizeLinear with a per-tensor scale (the host side of an int8 graph).
Tensor quantizeLinear(const Tensor& x, double scale, const std::string& name);
Tensor dequantizeLinear(const Tensor& x, double scale, const std::string& name);

}  // namespace kiln::topi
