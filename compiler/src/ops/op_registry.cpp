// Shape and dtype inference for every operator of the graph IR, and their MAC counts.
#include "kiln/ops/op_registry.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numeric>

namespace kiln {

namespace {

std::string dims(const Shape& s) {
  return shapeStr(s);
}

Value& in(Node& n, size_t k) {
  return *n.inputs.at(k);
}
void setOut(Node& n, DType t, Shape s, size_t k = 0) {
  n.outputs.at(k)->dtype = t;
  n.outputs.at(k)->shape = std::move(s);
}

void requireRank(const Value& v, size_t rank, const std::string& what) {
  if (v.shape.size() != rank)
    throw Error(what + " must have rank " + std::to_string(rank) + ", got shape " + dims(v.shape));
}
void requireFloat(const Value& v, const std::string& what) {
  if (v.dtype != DType::F32)
    throw Error(what + " must be f32, got " + std::string(dtypeName(v.dtype)));
}
void requireLen(const std::vector<int64_t>& v, size_t len, const std::string& what) {
  if (v.size() != len)
    throw Error("attribute " + what + " must have " + std::to_string(len) + " values, got " +
                std::to_string(v.size()));
}

// The output height and width of a 2-D window of extent `k` over an NCHW input x, with the
// node's strides, pads and dilations (1 where absent), each checked; shared by convolution,
// pooling and Im2col so that they accept and refuse the same windows.
std::array<int64_t, 2> windowOutputHW(const Node& n, const Value& x, const std::vector<int64_t>& k,
                                      bool ceil) {
  const auto& strides = n.ints("strides");
  const auto& pads = n.ints("pads");
  const std::vector<int64_t> dil = n.ints("dilations", {1, 1});
  requireLen(k, 2, "kernel_shape");
  requireLen(strides, 2, "strides");
  requireLen(pads, 4, "pads");
  requireLen(dil, 2, "dilations");
  for (size_t a = 0; a < 2; ++a)
    if (k[a] < 1 || strides[a] < 1 || dil[a] < 1)
      throw Error("kernel_shape " + dims(k) + ", strides " + dims(strides) + " and dilations " +
                  dims(dil) + " must all be >= 1");
  for (int64_t p : pads)
    if (p < 0) throw Error("pads " + dims(pads) + " must be >= 0");
  const int64_t oh = windowOutputSize(x.shape[2], k[0], strides[0], pads[0], pads[2], dil[0], ceil);
  const int64_t ow = windowOutputSize(x.shape[3], k[1], strides[1], pads[1], pads[3], dil[1], ceil);
  if (oh < 1 || ow < 1)
    throw Error("kernel " + dims(k) + " does not fit input " + dims({x.shape[2], x.shape[3]}) +
                " with pads " + dims(pads) + " and dilations " + dims(dil));
  return {oh, ow};
}

void inferUnary(Node& n) {
  setOut(n, in(n, 0).dtype, in(n, 0).shape);
}
void inferFloatUnary(Node& n) {
  requireFloat(in(n, 0), "input");
  inferUnary(n);
}

void inferBinary(Node& n) {
  if (in(n, 0).dtype != in(n, 1).dtype)
    throw Error("inputs have different element types (" + std::string(dtypeName(in(n, 0).dtype)) +
                " and " + std::string(dtypeName(in(n, 1).dtype)) + ")");
  setOut(n, in(n, 0).dtype, broadcastShapes(in(n, 0).shape, in(n, 1).shape));
}

// Conv's shape rules, shared by the int8 QConv.
void inferConvShape(Node& n, DType outType) {
  const Value& x = in(n, 0);
  const Value& w = in(n, 1);
  requireRank(x, 4, "input X (only 2-D convolution, NCHW)");
  requireRank(w, 4, "weight W");
  int64_t group = n.i("group");
  if (group < 1) throw Error("group must be >= 1, got " + std::to_string(group));
  int64_t c = x.shape[1], oc = w.shape[0];
  if (c % group || oc % group)
    throw Error("input channels " + std::to_string(c) + " and output channels " +
                std::to_string(oc) + " must be divisible by group " + std::to_string(group));
  if (w.shape[1] * group != c)
    throw Error("input has " + std::to_string(c) + " channels but weight " + dims(w.shape) +
                " with group " + std::to_string(group) + " expects " +
                std::to_string(w.shape[1] * group));
  if (Value* b = n.input(2)) {
    if (b->shape != Shape{oc})
      throw Error("bias must have shape [" + std::to_string(oc) + "], got " + dims(b->shape));
  }
  const auto [oh, ow] = windowOutputHW(n, x, {w.shape[2], w.shape[3]}, false);
  setOut(n, outType, {x.shape[0], oc, oh, ow});
}

void inferConv(Node& n) {
  requireFloat(in(n, 0), "input X");
  inferConvShape(n, DType::F32);
}

void inferPool(Node& n) {
  const Value& x = in(n, 0);
  requireFloat(x, "input X");
  requireRank(x, 4, "input X (only 2-D pooling, NCHW)");
  const auto& k = n.ints("kernel_shape");
  const auto [oh, ow] = windowOutputHW(n, x, k, n.i("ceil_mode", 0) != 0);
  const auto& pads = n.ints("pads");
  const std::vector<int64_t> dil = n.ints("dilations", {1, 1});
  for (size_t a = 0; a < 2; ++a)
    if (pads[a] >= k[a] * dil[a] || pads[a + 2] >= k[a] * dil[a])
      throw Error("pads " + dims(pads) + " must be smaller than the kernel " + dims(k));
  setOut(n, DType::F32, {x.shape[0], x.shape[1], oh, ow});
}

void inferGlobalPool(Node& n) {
  const Value& x = in(n, 0);
  requireFloat(x, "input X");
  if (x.shape.size() < 3) throw Error("input must have rank >= 3, got " + dims(x.shape));
  Shape s = x.shape;
  for (size_t a = 2; a < s.size(); ++a) s[a] = 1;
  setOut(n, DType::F32, s);
}

void inferBatchNorm(Node& n) {
  const Value& x = in(n, 0);
  requireFloat(x, "input X");
  if (x.shape.size() < 2) throw Error("input must have rank >= 2, got " + dims(x.shape));
  const char* names[] = {"", "scale", "bias", "mean", "var"};
  for (size_t k = 1; k < 5; ++k)
    if (in(n, k).shape != Shape{x.shape[1]})
      throw Error(std::string(names[k]) + " must have shape [" + std::to_string(x.shape[1]) +
                  "], got " + dims(in(n, k).shape));
  setOut(n, DType::F32, x.shape);
}

void inferGemm(Node& n) {
  const Value& a = in(n, 0);
  const Value& b = in(n, 1);
  requireFloat(a, "input A");
  requireRank(a, 2, "input A");
  requireRank(b, 2, "input B");
  bool ta = n.i("transA") != 0, tb = n.i("transB") != 0;
  int64_t m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1];
  int64_t k2 = tb ? b.shape[1] : b.shape[0], nn = tb ? b.shape[0] : b.shape[1];
  if (k != k2)
    throw Error("inner dimensions differ: A " + dims(a.shape) + (ta ? " (transposed)" : "") +
                " and B " + dims(b.shape) + (tb ? " (transposed)" : ""));
  if (Value* c = n.input(2)) {
    Shape bs = broadcastShapes(c->shape, {m, nn});
    if (bs != Shape{m, nn})
      throw Error("C " + dims(c->shape) + " does not broadcast to " + dims({m, nn}));
  }
  setOut(n, DType::F32, {m, nn});
}

void inferMatMul(Node& n) {
  Shape a = in(n, 0).shape, b = in(n, 1).shape;
  requireFloat(in(n, 0), "input A");
  if (a.empty() || b.empty()) throw Error("inputs must have rank >= 1");
  bool va = a.size() == 1, vb = b.size() == 1;
  if (va) a.insert(a.begin(), 1);
  if (vb) b.push_back(1);
  if (a.back() != b[b.size() - 2])
    throw Error("inner dimensions differ: " + dims(in(n, 0).shape) + " @ " + dims(in(n, 1).shape));
  Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  Shape out = broadcastShapes(ba, bb);
  if (!va) out.push_back(a[a.size() - 2]);
  if (!vb) out.push_back(b.back());
  setOut(n, DType::F32, out);
}

void inferConcat(Node& n) {
  const Value& first = in(n, 0);
  int64_t axis = n.i("axis");
  if (axis < 0 || axis >= static_cast<int64_t>(first.shape.size()))
    throw Error("axis " + std::to_string(axis) + " out of range for rank " +
                std::to_string(first.shape.size()));
  Shape out = first.shape;
  out[axis] = 0;
  for (Value* v : n.inputs) {
    if (v->dtype != first.dtype) throw Error("inputs have different element types");
    if (v->shape.size() != first.shape.size())
      throw Error("inputs have different ranks: " + dims(first.shape) + " and " + dims(v->shape));
    for (size_t d = 0; d < out.size(); ++d)
      if (static_cast<int64_t>(d) != axis && v->shape[d] != first.shape[d])
        throw Error("input shapes " + dims(first.shape) + " and " + dims(v->shape) +
                    " differ outside the concatenation axis " + std::to_string(axis));
    out[axis] += v->shape[axis];
  }
  setOut(n, first.dtype, out);
}

void inferReshape(Node& n) {
  const Shape& s = n.ints("shape");
  if (shapeNumel(s) != shapeNumel(in(n, 0).shape))
    throw Error("cannot reshape " + dims(in(n, 0).shape) + " (" +
                std::to_string(shapeNumel(in(n, 0).shape)) + " elements) to " + dims(s));
  setOut(n, in(n, 0).dtype, s);
}

void inferTranspose(Node& n) {
  const Shape& x = in(n, 0).shape;
  const auto& perm = n.ints("perm");
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> iota(x.size());
  std::iota(iota.begin(), iota.end(), 0);
  if (sorted != iota)
    throw Error("perm " + dims(perm) + " is not a permutation of the " + std::to_string(x.size()) +
                " axes of " + dims(x));
  Shape out;
  for (int64_t p : perm) out.push_back(x[p]);
  setOut(n, in(n, 0).dtype, out);
}

void inferSoftmax(Node& n) {
  requireFloat(in(n, 0), "input");
  int64_t axis = n.i("axis");
  if (axis < 0 || axis >= static_cast<int64_t>(in(n, 0).shape.size()))
    throw Error("axis " + std::to_string(axis) + " out of range for " + dims(in(n, 0).shape));
  inferUnary(n);
}

void inferGather(Node& n) {
  const Shape& x = in(n, 0).shape;
  const Value& idx = in(n, 1);
  if (idx.dtype != DType::I64 && idx.dtype != DType::I32) throw Error("indices must be integers");
  int64_t axis = n.i("axis");
  if (axis < 0 || axis >= static_cast<int64_t>(x.size()))
    throw Error("axis " + std::to_string(axis) + " out of range for " + dims(x));
  Shape out(x.begin(), x.begin() + axis);
  out.insert(out.end(), idx.shape.begin(), idx.shape.end());
  out.insert(out.end(), x.begin() + axis + 1, x.end());
  setOut(n, in(n, 0).dtype, out);
}

void inferSlice(Node& n) {
  const Shape& x = in(n, 0).shape;
  const auto& starts = n.ints("starts");
  const auto& ends = n.ints("ends");
  const auto& steps = n.ints("steps");
  requireLen(starts, x.size(), "starts");
  requireLen(ends, x.size(), "ends");
  requireLen(steps, x.size(), "steps");
  Shape out(x.size());
  for (size_t d = 0; d < x.size(); ++d) {
    if (steps[d] == 0) throw Error("slice step must not be 0");
    int64_t len = steps[d] > 0 ? (ends[d] - starts[d] + steps[d] - 1) / steps[d]
                               : (starts[d] - ends[d] - steps[d] - 1) / -steps[d];
    out[d] = std::max<int64_t>(0, len);
  }
  setOut(n, in(n, 0).dtype, out);
}

void inferPad(Node& n) {
  const Shape& x = in(n, 0).shape;
  const auto& pads = n.ints("pads");
  requireLen(pads, 2 * x.size(), "pads");
  Shape out = x;
  for (size_t d = 0; d < x.size(); ++d) {
    out[d] += pads[d] + pads[d + x.size()];
    if (out[d] < 0) throw Error("pads " + dims(pads) + " remove more than " + dims(x));
  }
  setOut(n, in(n, 0).dtype, out);
}

void inferReduce(Node& n) {
  const Shape& x = in(n, 0).shape;
  const auto& axes = n.ints("axes");
  bool keep = n.i("keepdims") != 0;
  Shape out;
  for (size_t d = 0; d < x.size(); ++d) {
    bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
    if (!reduced)
      out.push_back(x[d]);
    else if (keep)
      out.push_back(1);
  }
  for (int64_t a : axes)
    if (a < 0 || a >= static_cast<int64_t>(x.size()))
      throw Error("axis " + std::to_string(a) + " out of range for " + dims(x));
  setOut(n, in(n, 0).dtype, out);
}

void inferShape(Node& n) {
  setOut(n, DType::I64, {static_cast<int64_t>(in(n, 0).shape.size())});
}

void inferCast(Node& n) {
  int64_t to = n.i("to");
  if (to < 0 || to > static_cast<int64_t>(DType::Bool)) throw Error("bad Cast target type");
  setOut(n, static_cast<DType>(to), in(n, 0).shape);
}

int64_t convMacs(const Node& n) {
  const Shape& w = n.inputs[1]->shape;
  const Shape& y = n.outputs[0]->shape;
  return shapeNumel(y) * w[1] * w[2] * w[3];
}
int64_t gemmMacs(const Node& n) {
  const Shape& a = n.inputs[0]->shape;
  bool ta = n.i("transA") != 0;
  return shapeNumel(n.outputs[0]->shape) * (ta ? a[0] : a[1]);
}
int64_t matmulMacs(const Node& n) {
  return shapeNumel(n.outputs[0]->shape) * n.inputs[0]->shape.back();
}

void requireDType(const Value& v, DType t, const std::string& what) {
  if (v.dtype != t)
    throw Error(what + " must be " + std::string(dtypeName(t)) + ", got " +
                std::string(dtypeName(v.dtype)));
}

void inferQuantize(Node& n) {
  requireDType(in(n, 0), DType::F32, "input");
  if (!(n.f("scale") > 0)) throw Error("scale must be positive");
  setOut(n, DType::I8, in(n, 0).shape);
}
void inferDequantize(Node& n) {
  requireDType(in(n, 0), DType::I8, "input");
  if (!(n.f("scale") > 0)) throw Error("scale must be positive");
  setOut(n, DType::F32, in(n, 0).shape);
}
void requireRequant(const Node& n, int64_t channels) {
  const auto& m = n.ints("multiplier");
  const auto& sh = n.ints("shift");
  if (static_cast<int64_t>(m.size()) != channels || static_cast<int64_t>(sh.size()) != channels)
    throw Error("multiplier and shift must have one value per output channel (" +
                std::to_string(channels) + ")");
  for (size_t i = 0; i < m.size(); ++i)
    if (m[i] < 0 || m[i] >= (int64_t{1} << 31) || sh[i] < 0 || sh[i] > 63)
      throw Error("requantization multiplier must be in [0, 2^31) and shift in [0, 63]");
  if (n.i("out_min") < -128 || n.i("out_max") > 127 || n.i("out_min") > n.i("out_max"))
    throw Error("out_min/out_max must be an int8 range");
}
void inferQConv(Node& n) {
  requireDType(in(n, 0), DType::I8, "input X");
  requireDType(in(n, 1), DType::I8, "weight W");
  if (Value* b = n.input(2)) requireDType(*b, DType::I32, "bias");
  inferConvShape(n, DType::I8);
  requireRequant(n, in(n, 1).shape[0]);
}
// Im2col: every kernel window of an NCHW tensor as channels, [N, C * KH * KW, OH, OW] with
// channel c * KH * KW + ky * KW + kx (a convolution's weights [OC, C, KH, KW] read as
// [OC, C * KH * KW, 1, 1] in that order), zero outside the image. Kiln's relayout of a
// convolution with few input channels for the accelerator (passes/fold_narrow_conv.cpp).
void inferIm2col(Node& n) {
  const Value& x = in(n, 0);
  requireRank(x, 4, "input X (NCHW)");
  const auto& k = n.ints("kernel_shape");
  if (n.ints("dilations", {1, 1}) != std::vector<int64_t>{1, 1})
    throw Error("Im2col takes no dilations");
  const auto [oh, ow] = windowOutputHW(n, x, k, false);
  setOut(n, x.dtype, {x.shape[0], x.shape[1] * k[0] * k[1], oh, ow});
}
void inferQGemm(Node& n) {
  requireDType(in(n, 0), DType::I8, "input A");
  requireDType(in(n, 1), DType::I8, "input B");
  requireRank(in(n, 0), 2, "input A");
  requireRank(in(n, 1), 2, "input B (N x K)");
  if (in(n, 0).shape[1] != in(n, 1).shape[1])
    throw Error("inner dimensions differ: A " + dims(in(n, 0).shape) + ", B " +
                dims(in(n, 1).shape) + " (N x K)");
  const int64_t N = in(n, 1).shape[0];
  if (Value* b = n.input(2)) {
    requireDType(*b, DType::I32, "bias");
    if (b->shape != Shape{N}) throw Error("bias must have shape [" + std::to_string(N) + "]");
  }
  requireRequant(n, N);
  setOut(n, DType::I8, {in(n, 0).shape[0], N});
}
void inferQAdd(Node& n) {
  requireDType(in(n, 0), DType::I8, "input A");
  requireDType(in(n, 1), DType::I8, "input B");
  if (in(n, 0).shape != in(n, 1).shape)
    throw Error("inputs must have the same shape, got " + dims(in(n, 0).shape) + " and " +
                dims(in(n, 1).shape));
  if (n.i("multiplier") < 0 || n.i("multiplier") >= (int64_t{1} << 31) || n.i("shift") < 0 ||
      n.i("shift") > 63)
    throw Error("requantization multiplier must be in [0, 2^31) and shift in [0, 63]");
  setOut(n, DType::I8, in(n, 0).shape);
}

// QMaxPool / QAveragePool: int8 pooling with explicit pads (no ceil_mode, no dilation); the
// average's window is always the whole kernel (the quantizer makes it so).
void inferQPool(Node& n) {
  const Value& x = in(n, 0);
  requireDType(x, DType::I8, "input X");
  requireRank(x, 4, "input X (only 2-D pooling, NCHW)");
  const auto& k = n.ints("kernel_shape");
  if (n.ints("dilations", {1, 1}) != std::vector<int64_t>{1, 1})
    throw Error("int8 pooling takes no dilations");
  const auto [oh, ow] = windowOutputHW(n, x, k, false);
  const auto& pads = n.ints("pads");
  for (size_t a = 0; a < 2; ++a)
    if (pads[a] >= k[a] || pads[a + 2] >= k[a])
      throw Error("pads " + dims(pads) + " must be in [0, kernel " + dims(k) + ")");
  if (n.op == "QAveragePool" && (n.i("multiplier") < 0 || n.i("multiplier") >= (int64_t{1} << 31) ||
                                 n.i("shift") < 0 || n.i("shift") > 63))
    throw Error("requantization multiplier must be in [0, 2^31) and shift in [0, 63]");
  setOut(n, DType::I8, {x.shape[0], x.shape[1], oh, ow});
}

std::map<std::string, OpSchema> buildRegistry() {
  std::map<std::string, OpSchema> r;
  auto add = [&](std::string name, int minIn, int maxIn, std::function<void(Node&)> infer,
                 std::function<int64_t(const Node&)> macs = nullptr) {
    OpSchema s;
    s.name = name;
    s.minInputs = minIn;
    s.maxInputs = maxIn;
    s.infer = std::move(infer);
    s.macs = std::move(macs);
    r[name] = std::move(s);
  };
  for (const char* op : {"Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Neg", "Abs",
                         "Reciprocal", "Erf", "Floor", "Ceil", "LeakyRelu"})
    add(op, 1, 1, inferFloatUnary);
  add("Clip", 1, 1, inferUnary);
  add("Identity", 1, 1, inferUnary);
  add("Cast", 1, 1, inferCast);
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow"}) add(op, 2, 2, inferBinary);
  add("Conv", 2, 3, inferConv, convMacs);
  add("MaxPool", 1, 1, inferPool);
  add("AveragePool", 1, 1, inferPool);
  add("GlobalAveragePool", 1, 1, inferGlobalPool);
  add("GlobalMaxPool", 1, 1, inferGlobalPool);
  add("BatchNormalization", 5, 5, inferBatchNorm);
  add("Gemm", 2, 3, inferGemm, gemmMacs);
  add("MatMul", 2, 2, inferMatMul, matmulMacs);
  add("Concat", 1, 1 << 20, inferConcat);
  add("Reshape", 1, 1, inferReshape);
  add("Transpose", 1, 1, inferTranspose);
  add("Softmax", 1, 1, inferSoftmax);
  add("Gather", 2, 2, inferGather);
  add("Slice", 1, 1, inferSlice);
  add("Pad", 1, 1, inferPad);
  add("ReduceMean", 1, 1, inferReduce);
  add("ReduceSum", 1, 1, inferReduce);
  add("ReduceMax", 1, 1, inferReduce);
  add("Shape", 1, 1, inferShape);
  add("QuantizeLinear", 1, 1, inferQuantize);
  add("DequantizeLinear", 1, 1, inferDequantize);
  add("QConv", 2, 3, inferQConv, convMacs);
  add("QGemm", 2, 3, inferQGemm,
      [](const Node& n) { return shapeNumel(n.outputs[0]->shape) * n.inputs[0]->shape[1]; });
  add("QAdd", 2, 2, inferQAdd);
  add("QMaxPool", 1, 1, inferQPool);
  add("QAveragePool", 1, 1, inferQPool);
  add("Im2col", 1, 1, inferIm2col);
  for (const char* op :
       {"QuantizeLinear", "DequantizeLinear", "QConv", "QGemm", "QAdd", "QAveragePool"})
    r[op].cpuCodegen = false;
  return r;
}

const std::map<std::string, OpSchema>& registry() {
  static const std::map<std::string, OpSchema> r = buildRegistry();
  return r;
}

}  // namespace

const OpSchema* findOp(const std::string& op) {
  auto it = registry().find(op);
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> registeredOps() {
  std::vector<std::string> names;
  for (auto& [k, v] : registry()) names.push_back(k);
  return names;
}

void inferNode(Node& node, bool withPrefix) {
  const std::string prefix = withPrefix ? node.describe() + ": " : std::string();
  const OpSchema* s = findOp(node.op);
  if (!s) throw Error(prefix + "Kiln has no operator '" + node.op + "'");
  int n = static_cast<int>(node.inputs.size());
  if (n < s->minInputs || n > s->maxInputs)
    throw Error(prefix + "expects " + std::to_string(s->minInputs) +
                (s->maxInputs != s->minInputs ? " to " + std::to_string(s->maxInputs) : "") +
                " inputs, got " + std::to_string(n));
  for (int k = 0; k < s->minInputs; ++k)
    if (!node.inputs[k])
      throw Error(prefix + "required input " + std::to_string(k) + " is missing");
  if (node.outputs.size() != static_cast<size_t>(s->numOutputs))
    throw Error(prefix + "expects " + std::to_string(s->numOutputs) + " output(s)");
  try {
    s->infer(node);
  } catch (const Error& e) {
    throw Error(prefix + e.what());
  }
}

Value* addOpNode(Graph& g, const std::string& op, std::vector<Value*> inputs,
                 std::map<std::string, Attribute> attrs, const std::string& outName,
                 const std::string& nodeName, bool withPrefix) {
  Value* out = g.addValue(outName, DType::F32, {});
  Node* n = g.addNode(op, nodeName.empty() ? out->name : nodeName, std::move(inputs), {out});
  n->attrs = std::move(attrs);
  inferNode(*n, withPrefix);
  return out;
}

int64_t nodeMacs(const Node& node) {
  const OpSchema* s = findOp(node.op);
  return s && s->macs ? s->macs(node) : 0;
}

Shape broadcastShapes(const Shape& a, const Shape& b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      throw Error("shapes " + shapeStr(a) + " and " + shapeStr(b) + " cannot be broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t windowOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t padBegin,
                         int64_t padEnd, int64_t dilation, bool ceilMode) {
  int64_t span = in + padBegin + padEnd - dilation * (kernel - 1) - 1;
  if (span < 0) return 0;
  int64_t out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
  // A window must start inside the input or its leading padding (PyTorch / onnxruntime rule).
  if (ceilMode && (out - 1) * stride >= in + padBegin) --out;
  return out;
}

int64_t normalizeAxis(int64_t axis, int64_t rank, const std::string& what) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw Error(what + " " + std::to_string(axis) + " is out of range for rank " +
                std::to_string(rank));
  return a;
}

}  // namespace kiln
