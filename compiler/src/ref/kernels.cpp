// Reference kernels, one per operator of the graph IR. Plain loops over row-major data;
// floating-point reductions accumulate in double so the oracle is at least as accurate as
// anything it checks.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "kiln/accel/reference.h"
#include "kiln/ops/op_registry.h"
#include "kiln/ref/executor.h"

namespace kiln::ref {

namespace {

using Args = std::vector<const NDArray*>;
using Kernel = std::function<std::vector<NDArray>(const Node&, const Args&)>;

Shape stridesOf(const Shape& s) {
  Shape st(s.size(), 1);
  for (int64_t i = static_cast<int64_t>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

// Strides of `in` as seen from the broadcast shape `out` (0 on broadcast axes).
Shape broadcastStrides(const Shape& in, const Shape& out) {
  Shape st = stridesOf(in), r(out.size(), 0);
  size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) r[off + i] = in[i] == 1 ? 0 : st[i];
  return r;
}

// Calls fn(outIndex, offsetA, offsetB) over the broadcast iteration space.
template <typename Fn>
void forEachBroadcast(const Shape& out, const Shape& sa, const Shape& sb, Fn&& fn) {
  const int64_t n = shapeNumel(out);
  const size_t r = out.size();
  std::vector<int64_t> idx(r, 0);
  int64_t oa = 0, ob = 0;
  for (int64_t i = 0; i < n; ++i) {
    fn(i, oa, ob);
    for (int64_t d = static_cast<int64_t>(r) - 1; d >= 0; --d) {
      if (++idx[d] < out[d]) {
        oa += sa[d];
        ob += sb[d];
        break;
      }
      oa -= sa[d] * (out[d] - 1);
      ob -= sb[d] * (out[d] - 1);
      idx[d] = 0;
    }
  }
}

template <typename T, typename Op>
NDArray binaryTyped(const NDArray& a, const NDArray& b, Op op) {
  Shape out = broadcastShapes(a.shape(), b.shape());
  NDArray r(a.dtype(), out);
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* pr = r.data<T>();
  forEachBroadcast(out, broadcastStrides(a.shape(), out), broadcastStrides(b.shape(), out),
                   [&](int64_t i, int64_t ia, int64_t ib) { pr[i] = op(pa[ia], pb[ib]); });
  return r;
}

template <typename Op>
Kernel binary(Op op) {
  return [op](const Node& n, const Args& in) -> std::vector<NDArray> {
    const NDArray& a = *in[0];
    const NDArray& b = *in[1];
    switch (a.dtype()) {
      case DType::F32:
        return {binaryTyped<float>(
            a, b, [&](float x, float y) { return static_cast<float>(op(double(x), double(y))); })};
      case DType::I64:
        return {binaryTyped<int64_t>(a, b, [&](int64_t x, int64_t y) { return op(x, y); })};
      case DType::I32:
        return {binaryTyped<int32_t>(a, b, [&](int32_t x, int32_t y) {
          return static_cast<int32_t>(op(int64_t(x), int64_t(y)));
        })};
      case DType::I8:
        return {binaryTyped<int8_t>(a, b, [&](int8_t x, int8_t y) {
          return static_cast<int8_t>(op(int64_t(x), int64_t(y)));
        })};
      case DType::U8:
        return {binaryTyped<uint8_t>(a, b, [&](uint8_t x, uint8_t y) {
          return static_cast<uint8_t>(op(int64_t(x), int64_t(y)));
        })};
      default:
        throw Error(n.describe() + ": no reference kernel for element type " +
                    std::string(dtypeName(a.dtype())));
    }
  };
}

template <typename Op>
Kernel unary(Op op) {
  return [op](const Node& n, const Args& in) -> std::vector<NDArray> {
    NDArray r(DType::F32, in[0]->shape());
    const float* x = in[0]->data<float>();
    float* y = r.data<float>();
    for (int64_t i = 0; i < r.numel(); ++i)
      y[i] = static_cast<float>(op(n, static_cast<double>(x[i])));
    return {r};
  };
}

std::vector<NDArray> conv(const Node& n, const Args& in) {
  const NDArray& x = *in[0];
  const NDArray& w = *in[1];
  const NDArray* b = in.size() > 2 ? in[2] : nullptr;
  const auto& st = n.ints("strides");
  const auto& pads = n.ints("pads");
  const auto& dil = n.ints("dilations");
  const int64_t group = n.i("group");
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t OC = w.shape()[0], KC = w.shape()[1], KH = w.shape()[2], KW = w.shape()[3];
  const int64_t OH = windowOutputSize(H, KH, st[0], pads[0], pads[2], dil[0], false);
  const int64_t OW = windowOutputSize(W, KW, st[1], pads[1], pads[3], dil[1], false);
  const int64_t ocPerGroup = OC / group;
  NDArray y(DType::F32, {N, OC, OH, OW});
  const float* px = x.data<float>();
  const float* pw = w.data<float>();
  float* py = y.data<float>();
  std::vector<double> acc(static_cast<size_t>(OH * OW));
  for (int64_t nn = 0; nn < N; ++nn)
    for (int64_t oc = 0; oc < OC; ++oc) {
      const int64_t g = oc / ocPerGroup;
      std::fill(acc.begin(), acc.end(), b ? static_cast<double>(b->data<float>()[oc]) : 0.0);
      for (int64_t kc = 0; kc < KC; ++kc) {
        const int64_t c = g * KC + kc;
        const float* plane = px + ((nn * C + c) * H) * W;
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw) {
            const double wv = pw[((oc * KC + kc) * KH + kh) * KW + kw];
            // Output columns whose input column lies inside the image.
            const int64_t off = kw * dil[1] - pads[1];
            int64_t owLo = off >= 0 ? 0 : (-off + st[1] - 1) / st[1];
            int64_t owHi =
                std::min<int64_t>(OW, (W - 1 - off) >= 0 ? (W - 1 - off) / st[1] + 1 : 0);
            for (int64_t oh = 0; oh < OH; ++oh) {
              const int64_t ih = oh * st[0] - pads[0] + kh * dil[0];
              if (ih < 0 || ih >= H) continue;
              const float* row = plane + ih * W;
              double* arow = acc.data() + oh * OW;
              for (int64_t ow = owLo; ow < owHi; ++ow) arow[ow] += wv * row[ow * st[1] + off];
            }
          }
      }
      float* out = py + ((nn * OC + oc) * OH) * OW;
      for (int64_t i = 0; i < OH * OW; ++i) out[i] = static_cast<float>(acc[i]);
    }
  return {y};
}

std::vector<NDArray> pool(const Node& n, const Args& in, bool isMax) {
  const NDArray& x = *in[0];
  const auto& k = n.ints("kernel_shape");
  const auto& st = n.ints("strides");
  const auto& pads = n.ints("pads");
  const auto dil = n.ints("dilations", {1, 1});
  const bool ceil = n.i("ceil_mode", 0) != 0;
  const bool includePad = n.i("count_include_pad", 0) != 0;
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t OH = windowOutputSize(H, k[0], st[0], pads[0], pads[2], dil[0], ceil);
  const int64_t OW = windowOutputSize(W, k[1], st[1], pads[1], pads[3], dil[1], ceil);
  NDArray y(DType::F32, {N, C, OH, OW});
  const float* px = x.data<float>();
  float* py = y.data<float>();
  for (int64_t p = 0; p < N * C; ++p) {
    const float* plane = px + p * H * W;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t h0 = oh * st[0] - pads[0], w0 = ow * st[1] - pads[1];
        double best = -std::numeric_limits<double>::infinity(), sum = 0;
        int64_t count = 0;
        for (int64_t kh = 0; kh < k[0]; ++kh) {
          const int64_t ih = h0 + kh * dil[0];
          if (ih < 0 || ih >= H) continue;
          for (int64_t kw = 0; kw < k[1]; ++kw) {
            const int64_t iw = w0 + kw * dil[1];
            if (iw < 0 || iw >= W) continue;
            const double v = plane[ih * W + iw];
            best = std::max(best, v);
            sum += v;
            ++count;
          }
        }
        double r;
        if (isMax) {
          r = best;
        } else if (includePad) {
          // The divisor counts padding but not the part of a ceil-mode window past the padding.
          const int64_t h1 = std::min(h0 + k[0], H + pads[2]),
                        w1 = std::min(w0 + k[1], W + pads[3]);
          r = sum / static_cast<double>((h1 - h0) * (w1 - w0));
        } else {
          r = count ? sum / static_cast<double>(count) : 0.0;
        }
        py[(p * OH + oh) * OW + ow] = static_cast<float>(r);
      }
  }
  return {y};
}

std::vector<NDArray> globalPool(const Node& n, const Args& in, bool isMax) {
  const NDArray& x = *in[0];
  Shape os = x.shape();
  for (size_t a = 2; a < os.size(); ++a) os[a] = 1;
  NDArray y(DType::F32, os);
  const int64_t planes = os[0] * os[1], size = x.numel() / planes;
  const float* px = x.data<float>();
  for (int64_t p = 0; p < planes; ++p) {
    double acc = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
    for (int64_t i = 0; i < size; ++i)
      acc = isMax ? std::max(acc, double(px[p * size + i])) : acc + px[p * size + i];
    y.data<float>()[p] = static_cast<float>(isMax ? acc : acc / static_cast<double>(size));
  }
  return {y};
}

std::vector<NDArray> batchNorm(const Node& n, const Args& in) {
  const NDArray& x = *in[0];
  const float *scale = in[1]->data<float>(), *bias = in[2]->data<float>(),
              *mean = in[3]->data<float>(), *var = in[4]->data<float>();
  const double eps = n.f("epsilon");
  NDArray y(DType::F32, x.shape());
  // An empty batch or channel dimension leaves nothing to normalize (and no inner size).
  const int64_t N = x.shape()[0], C = x.shape()[1], inner = N * C ? x.numel() / (N * C) : 0;
  for (int64_t nn = 0; nn < N; ++nn)
    for (int64_t c = 0; c < C; ++c) {
      const double a = scale[c] / std::sqrt(double(var[c]) + eps);
      const double b = bias[c] - a * mean[c];
      const float* px = x.data<float>() + (nn * C + c) * inner;
      float* py = y.data<float>() + (nn * C + c) * inner;
      for (int64_t i = 0; i < inner; ++i) py[i] = static_cast<float>(a * px[i] + b);
    }
  return {y};
}

std::vector<NDArray> gemm(const Node& n, const Args& in) {
  const NDArray& A = *in[0];
  const NDArray& B = *in[1];
  const NDArray* C = in.size() > 2 ? in[2] : nullptr;
  const bool ta = n.i("transA") != 0, tb = n.i("transB") != 0;
  const double alpha = n.f("alpha"), beta = n.f("beta");
  const int64_t M = ta ? A.shape()[1] : A.shape()[0], K = ta ? A.shape()[0] : A.shape()[1];
  const int64_t Nn = tb ? B.shape()[0] : B.shape()[1];
  NDArray y(DType::F32, {M, Nn});
  const float *pa = A.data<float>(), *pb = B.data<float>();
  Shape cs = C ? broadcastStrides(C->shape(), {M, Nn}) : Shape{0, 0};
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < Nn; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += double(pa[ta ? k * M + i : i * K + k]) * pb[tb ? j * K + k : k * Nn + j];
      double r = alpha * acc;
      if (C) r += beta * C->data<float>()[i * cs[0] + j * cs[1]];
      y.data<float>()[i * Nn + j] = static_cast<float>(r);
    }
  return {y};
}

std::vector<NDArray> matmul(const Node& n, const Args& in) {
  Shape a = in[0]->shape(), b = in[1]->shape();
  const bool va = a.size() == 1, vb = b.size() == 1;
  if (va) a.insert(a.begin(), 1);
  if (vb) b.push_back(1);
  const int64_t M = a[a.size() - 2], K = a.back(), N = b.back();
  Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  Shape batch = broadcastShapes(ba, bb);
  Shape outFull = batch;
  outFull.push_back(M);
  outFull.push_back(N);
  NDArray y(DType::F32, outFull);
  // Batch offsets (in matrices) of each operand.
  Shape sa = broadcastStrides(ba, batch), sb = broadcastStrides(bb, batch);
  const float *pa = in[0]->data<float>(), *pb = in[1]->data<float>();
  float* py = y.data<float>();
  forEachBroadcast(batch, sa, sb, [&](int64_t bi, int64_t ia, int64_t ib) {
    const float* A = pa + ia * M * K;
    const float* B = pb + ib * K * N;
    float* Y = py + bi * M * N;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += double(A[i * K + k]) * B[k * N + j];
        Y[i * N + j] = static_cast<float>(acc);
      }
  });
  return {y.reshaped(n.outputs[0]->shape)};
}

std::vector<NDArray> softmax(const Node& n, const Args& in) {
  const NDArray& x = *in[0];
  const int64_t axis = n.i("axis");
  const Shape& s = x.shape();
  const int64_t len = s[axis];
  const int64_t inner = shapeNumel(Shape(s.begin() + axis + 1, s.end()));
  const int64_t outer = x.numel() / (len * inner);
  NDArray y(DType::F32, s);
  const float* px = x.data<float>();
  float* py = y.data<float>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * len * inner + i;
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < len; ++k) mx = std::max(mx, double(px[base + k * inner]));
      double sum = 0;
      for (int64_t k = 0; k < len; ++k) sum += std::exp(px[base + k * inner] - mx);
      for (int64_t k = 0; k < len; ++k)
        py[base + k * inner] = static_cast<float>(std::exp(px[base + k * inner] - mx) / sum);
    }
  return {y};
}

// Copies elements of any type by byte size: out[i] = in[src(i)].
template <typename SrcIndex>
NDArray gatherElements(const NDArray& x, const Shape& outShape, SrcIndex&& src) {
  NDArray y(x.dtype(), outShape);
  const size_t es = dtypeSize(x.dtype());
  const auto* px = static_cast<const uint8_t*>(x.rawData());
  auto* py = static_cast<uint8_t*>(y.rawData());
  const int64_t n = y.numel();
  std::vector<int64_t> idx(outShape.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(py + i * es, px + src(idx) * es, es);
    for (int64_t d = static_cast<int64_t>(idx.size()) - 1; d >= 0; --d) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return y;
}

std::vector<NDArray> transpose(const Node& n, const Args& in) {
  const auto& perm = n.ints("perm");
  Shape st = stridesOf(in[0]->shape());
  return {gatherElements(*in[0], n.outputs[0]->shape, [&](const std::vector<int64_t>& idx) {
    int64_t off = 0;
    for (size_t d = 0; d < perm.size(); ++d) off += idx[d] * st[perm[d]];
    return off;
  })};
}

std::vector<NDArray> concat(const Node& n, const Args& in) {
  const int64_t axis = n.i("axis");
  Shape out = n.outputs[0]->shape;
  NDArray y(in[0]->dtype(), out);
  const size_t es = dtypeSize(y.dtype());
  const int64_t outer = shapeNumel(Shape(out.begin(), out.begin() + axis));
  const int64_t inner = shapeNumel(Shape(out.begin() + axis + 1, out.end()));
  int64_t offset = 0;
  for (const NDArray* a : in) {
    const int64_t len = a->shape()[axis];
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(static_cast<uint8_t*>(y.rawData()) + ((o * out[axis] + offset) * inner) * es,
                  static_cast<const uint8_t*>(a->rawData()) + (o * len * inner) * es,
                  static_cast<size_t>(len * inner) * es);
    offset += len;
  }
  return {y};
}

std::vector<NDArray> gather(const Node& n, const Args& in) {
  const int64_t axis = n.i("axis");
  const Shape& xs = in[0]->shape();
  std::vector<int64_t> indices = in[1]->toInt64Vector();
  for (int64_t& i : indices) {
    if (i < -xs[axis] || i >= xs[axis])
      throw Error(n.describe() + ": index " + std::to_string(i) +
                  " out of range for axis of size " + std::to_string(xs[axis]));
    if (i < 0) i += xs[axis];
  }
  Shape st = stridesOf(xs);
  const size_t ir = in[1]->shape().size();
  Shape ist = stridesOf(in[1]->shape());
  return {gatherElements(*in[0], n.outputs[0]->shape, [&](const std::vector<int64_t>& idx) {
    int64_t off = 0;
    for (int64_t d = 0; d < axis; ++d) off += idx[d] * st[d];
    int64_t flat = 0;
    for (size_t d = 0; d < ir; ++d) flat += idx[axis + d] * ist[d];
    off += indices[flat] * st[axis];
    for (size_t d = axis + 1; d < xs.size(); ++d) off += idx[d - 1 + ir] * st[d];
    return off;
  })};
}

std::vector<NDArray> slice(const Node& n, const Args& in) {
  const auto& starts = n.ints("starts");
  const auto& steps = n.ints("steps");
  Shape st = stridesOf(in[0]->shape());
  return {gatherElements(*in[0], n.outputs[0]->shape, [&](const std::vector<int64_t>& idx) {
    int64_t off = 0;
    for (size_t d = 0; d < idx.size(); ++d) off += (starts[d] + idx[d] * steps[d]) * st[d];
    return off;
  })};
}

std::vector<NDArray> pad(const Node& n, const Args& in) {
  const NDArray& x = *in[0];
  const auto& pads = n.ints("pads");
  const Shape& xs = x.shape();
  const size_t r = xs.size();
  NDArray y = NDArray::fromVector<float>({}, {static_cast<float>(n.f("value"))}).cast(x.dtype());
  NDArray out(x.dtype(), n.outputs[0]->shape);
  const size_t es = dtypeSize(x.dtype());
  for (int64_t i = 0; i < out.numel(); ++i)
    std::memcpy(static_cast<uint8_t*>(out.rawData()) + i * es, y.rawData(), es);
  // Copy each input element to its place (negative pads crop).
  Shape os = stridesOf(out.shape());
  std::vector<int64_t> idx(r, 0);
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t off = 0;
    bool inside = true;
    for (size_t d = 0; d < r; ++d) {
      int64_t o = idx[d] + pads[d];
      if (o < 0 || o >= out.shape()[d]) inside = false;
      off += o * os[d];
    }
    if (inside)
      std::memcpy(static_cast<uint8_t*>(out.rawData()) + off * es,
                  static_cast<const uint8_t*>(x.rawData()) + i * es, es);
    for (int64_t d = static_cast<int64_t>(r) - 1; d >= 0; --d) {
      if (++idx[d] < xs[d]) break;
      idx[d] = 0;
    }
  }
  return {out};
}

std::vector<NDArray> reduce(const Node& n, const Args& in, int kind) {
  const NDArray x = in[0]->dtype() == DType::F32 ? *in[0] : in[0]->cast(DType::F32);
  const auto& axes = n.ints("axes");
  const Shape& xs = x.shape();
  Shape keep = xs;
  int64_t count = 1;
  for (int64_t a : axes) {
    keep[a] = 1;
    count *= xs[a];
  }
  NDArray acc(DType::F32, keep);
  std::vector<double> sum(static_cast<size_t>(acc.numel()),
                          kind == 2 ? -std::numeric_limits<double>::infinity() : 0.0);
  Shape ks = broadcastStrides(keep, xs);
  forEachBroadcast(xs, ks, ks, [&](int64_t i, int64_t o, int64_t) {
    double v = x.data<float>()[i];
    sum[o] = kind == 2 ? std::max(sum[o], v) : sum[o] + v;
  });
  for (int64_t i = 0; i < acc.numel(); ++i)
    acc.data<float>()[i] =
        static_cast<float>(kind == 0 ? sum[i] / static_cast<double>(count) : sum[i]);
  NDArray r = acc.reshaped(n.outputs[0]->shape);
  return {in[0]->dtype() == DType::F32 ? r : r.cast(in[0]->dtype())};
}

// ---- int8 operators: exact integer arithmetic, as the accelerator computes it ----------------
// Products and sums wrap in 32 bits (the accumulator's width); requantization is the ISA's
// REQUANT (accel::requantize): x * multiplier, shifted with rounding, saturated to int8.
int8_t requantizeClamped(int32_t acc, int64_t multiplier, int64_t shift, int64_t lo, int64_t hi) {
  int32_t r = accel::requantize(acc, static_cast<int32_t>(multiplier), static_cast<int>(shift), 8);
  return static_cast<int8_t>(std::clamp<int64_t>(r, lo, hi));
}

std::vector<NDArray> qconv(const Node& n, const Args& in) {
  const NDArray& x = *in[0];
  const NDArray& w = *in[1];
  const NDArray* b = in.size() > 2 ? in[2] : nullptr;
  const auto& st = n.ints("strides");
  const auto& pads = n.ints("pads");
  const auto& dil = n.ints("dilations");
  const auto& mult = n.ints("multiplier");
  const auto& shift = n.ints("shift");
  const int64_t lo = n.i("out_min"), hi = n.i("out_max");
  const int64_t group = n.i("group");
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t OC = w.shape()[0], KC = w.shape()[1], KH = w.shape()[2], KW = w.shape()[3];
  const int64_t OH = n.outputs[0]->shape[2], OW = n.outputs[0]->shape[3];
  const int64_t ocPerGroup = OC / group;
  NDArray y(DType::I8, n.outputs[0]->shape);
  const int8_t* px = x.data<int8_t>();
  const int8_t* pw = w.data<int8_t>();
  int8_t* py = y.data<int8_t>();
  for (int64_t nn = 0; nn < N; ++nn)
    for (int64_t oc = 0; oc < OC; ++oc) {
      const int64_t g = oc / ocPerGroup;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          uint32_t acc = b ? static_cast<uint32_t>(b->data<int32_t>()[oc]) : 0u;
          for (int64_t kc = 0; kc < KC; ++kc)
            for (int64_t kh = 0; kh < KH; ++kh) {
              const int64_t ih = oh * st[0] - pads[0] + kh * dil[0];
              if (ih < 0 || ih >= H) continue;
              for (int64_t kw = 0; kw < KW; ++kw) {
                const int64_t iw = ow * st[1] - pads[1] + kw * dil[1];
                if (iw < 0 || iw >= W) continue;
                const int32_t xv = px[((nn * C + g * KC + kc) * H + ih) * W + iw];
                const int32_t wv = pw[((oc * KC + kc) * KH + kh) * KW + kw];
                acc += static_cast<uint32_t>(xv * wv);
              }
            }
          py[((nn * OC + oc) * OH + oh) * OW + ow] =
              requantizeClamped(static_cast<int32_t>(acc), mult[oc], shift[oc], lo, hi);
        }
    }
  return {y};
}

// Im2col (ops/op_registry.cpp): channel c * KH * KW + ky * KW + kx of output pixel (oh, ow)
// is input pixel (oh * SH + ky - top, ow * SW + kx - left) of channel c, zero outside.
std::vector<NDArray> im2col(const Node& n, const Args& in) {
  const NDArray& x = *in[0];
  const auto& k = n.ints("kernel_shape");
  const auto& st = n.ints("strides");
  const auto& pads = n.ints("pads");
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t OH = n.outputs[0]->shape[2], OW = n.outputs[0]->shape[3];
  const size_t es = dtypeSize(x.dtype());
  NDArray y(x.dtype(), n.outputs[0]->shape);
  std::memset(y.rawData(), 0, static_cast<size_t>(y.numel()) * es);
  const auto* px = static_cast<const uint8_t*>(x.rawData());
  auto* py = static_cast<uint8_t*>(y.rawData());
  for (int64_t nn = 0; nn < N; ++nn)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t ky = 0; ky < k[0]; ++ky)
        for (int64_t kx = 0; kx < k[1]; ++kx) {
          const int64_t oc = (c * k[0] + ky) * k[1] + kx;
          for (int64_t oh = 0; oh < OH; ++oh) {
            const int64_t ih = oh * st[0] + ky - pads[0];
            if (ih < 0 || ih >= H) continue;
            for (int64_t ow = 0; ow < OW; ++ow) {
              const int64_t iw = ow * st[1] + kx - pads[1];
              if (iw < 0 || iw >= W) continue;
              std::memcpy(
                  py + static_cast<size_t>(((nn * C * k[0] * k[1] + oc) * OH + oh) * OW + ow) * es,
                  px + static_cast<size_t>(((nn * C + c) * H + ih) * W + iw) * es, es);
            }
          }
        }
  return {y};
}

std::vector<NDArray> qgemm(const Node& n, const Args& in) {
  const NDArray& a = *in[0];
  const NDArray& b = *in[1];
  const NDArray* bias = in.size() > 2 ? in[2] : nullptr;
  const auto& mult = n.ints("multiplier");
  const auto& shift = n.ints("shift");
  const int64_t M = a.shape()[0], K = a.shape()[1], N = b.shape()[0];
  NDArray y(DType::I8, {M, N});
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      uint32_t acc = bias ? static_cast<uint32_t>(bias->data<int32_t>()[j]) : 0u;
      for (int64_t k = 0; k < K; ++k)
        acc += static_cast<uint32_t>(int32_t{a.data<int8_t>()[i * K + k]} *
                                     b.data<int8_t>()[j * K + k]);
      y.data<int8_t>()[i * N + j] = requantizeClamped(static_cast<int32_t>(acc), mult[j], shift[j],
                                                      n.i("out_min"), n.i("out_max"));
    }
  return {y};
}

std::vector<NDArray> qadd(const Node& n, const Args& in) {
  NDArray y(DType::I8, in[0]->shape());
  const int8_t* a = in[0]->data<int8_t>();
  const int8_t* b = in[1]->data<int8_t>();
  const int64_t am = n.i("a_mul"), bm = n.i("b_mul");
  for (int64_t i = 0; i < y.numel(); ++i) {
    const uint32_t acc = static_cast<uint32_t>(a[i] * am) + static_cast<uint32_t>(b[i] * bm);
    y.data<int8_t>()[i] = requantizeClamped(static_cast<int32_t>(acc), n.i("multiplier"),
                                            n.i("shift"), n.i("out_min"), n.i("out_max"));
  }
  return {y};
}

// QMaxPool: the maximum over the window's elements inside the image (exact: one scale).
// QAveragePool: the int32 sum of the whole window (padding counts as 0), requantized.
std::vector<NDArray> qpool(const Node& n, const Args& in) {
  const NDArray& x = *in[0];
  const bool isMax = n.op == "QMaxPool";
  const auto& k = n.ints("kernel_shape");
  const auto& st = n.ints("strides");
  const auto& pads = n.ints("pads");
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t OH = n.outputs[0]->shape[2], OW = n.outputs[0]->shape[3];
  NDArray y(DType::I8, {N, C, OH, OW});
  int8_t* py = y.data<int8_t>();
  for (int64_t p = 0; p < N * C; ++p) {
    const int8_t* plane = x.data<int8_t>() + p * H * W;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        int32_t best = -128;
        uint32_t sum = 0;
        for (int64_t kh = 0; kh < k[0]; ++kh)
          for (int64_t kw = 0; kw < k[1]; ++kw) {
            const int64_t ih = oh * st[0] - pads[0] + kh, iw = ow * st[1] - pads[1] + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            best = std::max<int32_t>(best, plane[ih * W + iw]);
            sum += static_cast<uint32_t>(int32_t{plane[ih * W + iw]});
          }
        *py++ = isMax ? static_cast<int8_t>(best)
                      : requantizeClamped(static_cast<int32_t>(sum), n.i("multiplier"),
                                          n.i("shift"), -128, 127);
      }
  }
  return {y};
}

std::map<std::string, Kernel> buildKernels() {
  std::map<std::string, Kernel> k;
  auto u = [&](const char* name, auto f) { k[name] = unary(f); };
  u("Relu", [](const Node&, double x) { return x > 0 ? x : 0.0; });
  u("Sigmoid", [](const Node&, double x) { return 1.0 / (1.0 + std::exp(-x)); });
  u("Tanh", [](const Node&, double x) { return std::tanh(x); });
  u("Exp", [](const Node&, double x) { return std::exp(x); });
  u("Log", [](const Node&, double x) { return std::log(x); });
  u("Sqrt", [](const Node&, double x) { return std::sqrt(x); });
  u("Neg", [](const Node&, double x) { return -x; });
  u("Abs", [](const Node&, double x) { return std::abs(x); });
  u("Reciprocal", [](const Node&, double x) { return 1.0 / x; });
  u("Erf", [](const Node&, double x) { return std::erf(x); });
  u("Floor", [](const Node&, double x) { return std::floor(x); });
  u("Ceil", [](const Node&, double x) { return std::ceil(x); });
  u("LeakyRelu", [](const Node& n, double x) { return x >= 0 ? x : x * n.f("alpha"); });
  // Clip bounds are float32 values in the model; compare in float32 like the source framework.
  k["Clip"] = [](const Node& n, const Args& in) -> std::vector<NDArray> {
    // Bounds are float32 in a float model; integer inputs clip exactly in double.
    const NDArray x = in[0]->dtype() == DType::F32 ? *in[0] : in[0]->cast(DType::F32);
    const double lo = in[0]->dtype() == DType::F32 ? double(float(n.f("min"))) : n.f("min");
    const double hi = in[0]->dtype() == DType::F32 ? double(float(n.f("max"))) : n.f("max");
    NDArray y(DType::F32, x.shape());
    for (int64_t i = 0; i < x.numel(); ++i)
      y.data<float>()[i] =
          static_cast<float>(std::min(std::max(double(x.data<float>()[i]), lo), hi));
    return {in[0]->dtype() == DType::F32 ? y : y.cast(in[0]->dtype())};
  };
  k["Identity"] = [](const Node&, const Args& in) -> std::vector<NDArray> {
    return {in[0]->clone()};
  };
  k["Cast"] = [](const Node& n, const Args& in) -> std::vector<NDArray> {
    return {in[0]->cast(static_cast<DType>(n.i("to")))};
  };
  k["Add"] = binary([](auto a, auto b) { return a + b; });
  k["Sub"] = binary([](auto a, auto b) { return a - b; });
  k["Mul"] = binary([](auto a, auto b) { return a * b; });
  k["Div"] = binary([](auto a, auto b) -> decltype(a) {
    if constexpr (std::is_integral_v<decltype(a)>) {
      if (b == 0) throw Error("integer division by zero");
    }
    return a / b;
  });
  k["Pow"] = binary([](auto a, auto b) -> decltype(a) {
    return static_cast<decltype(a)>(std::pow(double(a), double(b)));
  });
  k["Conv"] = conv;
  k["MaxPool"] = [](const Node& n, const Args& in) { return pool(n, in, true); };
  k["AveragePool"] = [](const Node& n, const Args& in) { return pool(n, in, false); };
  k["GlobalAveragePool"] = [](const Node& n, const Args& in) { return globalPool(n, in, false); };
  k["GlobalMaxPool"] = [](const Node& n, const Args& in) { return globalPool(n, in, true); };
  k["BatchNormalization"] = batchNorm;
  k["Gemm"] = gemm;
  k["MatMul"] = matmul;
  k["Softmax"] = softmax;
  k["Concat"] = concat;
  k["Reshape"] = [](const Node& n, const Args& in) -> std::vector<NDArray> {
    return {in[0]->clone().reshaped(n.outputs[0]->shape)};
  };
  k["Transpose"] = transpose;
  k["Gather"] = gather;
  k["Slice"] = slice;
  k["Pad"] = pad;
  k["ReduceMean"] = [](const Node& n, const Args& in) { return reduce(n, in, 0); };
  k["ReduceSum"] = [](const Node& n, const Args& in) { return reduce(n, in, 1); };
  k["ReduceMax"] = [](const Node& n, const Args& in) { return reduce(n, in, 2); };
  k["Shape"] = [](const Node&, const Args& in) -> std::vector<NDArray> {
    const Shape& s = in[0]->shape();
    return {NDArray::fromVector<int64_t>({static_cast<int64_t>(s.size())}, s)};
  };
  k["QuantizeLinear"] = [](const Node& n, const Args& in) -> std::vector<NDArray> {
    // Round half to even (as ONNX's QuantizeLinear), saturate to int8.
    NDArray y(DType::I8, in[0]->shape());
    const float scale = static_cast<float>(n.f("scale"));
    for (int64_t i = 0; i < y.numel(); ++i) {
      const float q = std::nearbyint(in[0]->data<float>()[i] / scale);
      y.data<int8_t>()[i] = static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f));
    }
    return {y};
  };
  k["DequantizeLinear"] = [](const Node& n, const Args& in) -> std::vector<NDArray> {
    NDArray y(DType::F32, in[0]->shape());
    const float scale = static_cast<float>(n.f("scale"));
    for (int64_t i = 0; i < y.numel(); ++i)
      y.data<float>()[i] = static_cast<float>(in[0]->data<int8_t>()[i]) * scale;
    return {y};
  };
  k["QConv"] = qconv;
  k["Im2col"] = im2col;
  k["QGemm"] = qgemm;
  k["QAdd"] = qadd;
  k["QMaxPool"] = qpool;
  k["QAveragePool"] = qpool;
  return k;
}

const std::map<std::string, Kernel>& kernels() {
  static const std::map<std::string, Kernel> k = buildKernels();
  return k;
}

}  // namespace

bool hasKernel(const std::string& op) {
  return kernels().count(op) != 0;
}

std::vector<NDArray> evalNode(const Node& node, const std::vector<const NDArray*>& inputs) {
  auto it = kernels().find(node.op);
  if (it == kernels().end())
    throw Error(node.describe() + ": the reference executor has no kernel for '" + node.op + "'");
  try {
    return it->second(node, inputs);
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind("node '", 0) == 0) throw;
    throw Error(node.describe() + ": " + msg);
  }
}

}  // namespace kiln::ref
