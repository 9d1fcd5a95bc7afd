// Pooling over NCHW data. Max pooling reads padding as -inf; average pooling sums with
// padding read as zero, then divides by the window size that ONNX prescribes: the whole
// window clipped to the padded input (count_include_pad) or only the elements inside the
// input. ceil_mode windows that run past the padding are clipped the same way.
#include <limits>

#include "kiln/ops/op_registry.h"
#include "kiln/runtime/error.h"
#include "kiln/topi/topi.h"

namespace kiln::topi {

using namespace te;  // NOLINT

Tensor pool2d(const Tensor& x, PoolKind kind, const std::vector<int64_t>& k,
              const std::vector<int64_t>& st, const std::vector<int64_t>& pads,
              const std::vector<int64_t>& dil, bool ceilMode, bool countIncludePad,
              const std::string& name) {
  if (x->rank() != 4)
    throw Error("'" + name + "': pooling needs NCHW data, got " + shapeStr(x->shape));
  const int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
  const int64_t OH = windowOutputSize(H, k[0], st[0], pads[0], pads[2], dil[0], ceilMode);
  const int64_t OW = windowOutputSize(W, k[1], st[1], pads[1], pads[3], dil[1], ceilMode);
  std::pair<int64_t, int64_t> hRange{-pads[0], (OH - 1) * st[0] - pads[0] + (k[0] - 1) * dil[0]};
  std::pair<int64_t, int64_t> wRange{-pads[1], (OW - 1) * st[1] - pads[1] + (k[1] - 1) * dil[1]};
  IterVar ry = makeAxis(name + ".ry", k[0]), rx = makeAxis(name + ".rx", k[1]);
  const bool isMax = kind == PoolKind::Max;
  Expr padValue = floatImm(isMax ? -std::numeric_limits<double>::infinity() : 0.0, x->dtype);
  Tensor acc = compute(isMax ? name : name + ".sum", {N, C, OH, OW}, [&](const Indices& i) {
    Expr ih = i[2] * st[0] - pads[0] + ry.var * dil[0];
    Expr iw = i[3] * st[1] - pads[1] + rx.var * dil[1];
    Expr v =
        guardedRead(x, {i[0], i[1], ih, iw}, {{0, N - 1}, {0, C - 1}, hRange, wRange}, padValue);
    return isMax ? maximum(v, {ry, rx}) : sum(v, {ry, rx});
  });
  if (isMax) return acc;
  return compute(name, acc->shape, [&](const Indices& i) {
    Expr h0 = i[2] * st[0] - pads[0], w0 = i[3] * st[1] - pads[1];
    Expr count;
    if (countIncludePad) {
      count = (min(h0 + k[0], Expr(H + pads[2])) - h0) * (min(w0 + k[1], Expr(W + pads[3])) - w0);
    } else {
      count = (min(h0 + k[0], Expr(H)) - max(h0, Expr(0))) *
              (min(w0 + k[1], Expr(W)) - max(w0, Expr(0)));
    }
    return read(acc, i) / cast(x->dtype, max(count, Expr(1)));
  });
}

Tensor globalPool(const Tensor& x, PoolKind kind, const std::string& name) {
  if (x->rank() < 3)
    throw Error("'" + name + "': global pooling needs N x C x spatial data, got " +
                shapeStr(x->shape));
  Shape out = x->shape;
  std::vector<IterVar> axes;
  int64_t count = 1;
  for (size_t d = 2; d < out.size(); ++d) {
    axes.push_back(makeAxis(name + ".r" + std::to_string(d), out[d]));
    count *= out[d];
    out[d] = 1;
  }
  const bool isMax = kind == PoolKind::Max;
  Tensor acc = compute(isMax ? name : name + ".sum", out, [&](const Indices& i) {
    Indices src{i[0], i[1]};
    for (const IterVar& a : axes) src.push_back(a.var);
    return isMax ? maximum(read(x, src), axes) : sum(read(x, src), axes);
  });
  if (isMax) return acc;
  return compute(name, out, [&](const Indices& i) {
    return read(acc, i) / floatImm(static_cast<double>(count), x->dtype);
  });
}

}  // namespace kiln::topi
