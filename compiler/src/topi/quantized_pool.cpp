// int8 pooling, defined once for every layout whose rows and columns are dimensions 2 and 3
// (NCHW, and the accelerator's blocked [N/B, C/BC, H, W, B, BC]): every other dimension is
// elementwise. What QMaxPool and QAveragePool compute (kiln/passes/quantize.h):
//   - max pooling keeps the input's scale, so it is exact in int8: the int32 maximum of the
//     window, cast back to int8;
//   - average pooling sums the window in int32 and requantizes the sum by one multiplier and
//     shift (input scale / (output scale * window size)), as the accelerator's ALU does.
// Both start with a stage "<name>.pad" (tag "pool.pad") that borders the data with the pad
// value, so a target can copy a padded tile at once (the accelerator's DMA pads with zeros).
#include "kiln/runtime/error.h"
#include "kiln/topi/topi.h"

namespace kiln::topi {

using namespace te;  // NOLINT: definitions read as math

namespace {

// The int32 maximum or sum of every window of x, padding read as `padValue`.
Tensor windows(const Tensor& x, PoolKind kind, const std::vector<int64_t>& k,
               const std::vector<int64_t>& st, const std::vector<int64_t>& pads, int64_t padValue,
               const std::string& name) {
  if (x->rank() < 4 || x->dtype != DType::I8)
    throw Error("'" + name + "': int8 pooling needs int8 data with rows and columns as " +
                "dimensions 2 and 3, got " + std::string(dtypeName(x->dtype)) + " " +
                shapeStr(x->shape));
  const int64_t H = x->shape[2], W = x->shape[3];
  const int64_t OH = (H + pads[0] + pads[2] - k[0]) / st[0] + 1;
  const int64_t OW = (W + pads[1] + pads[3] - k[1]) / st[1] + 1;
  if (OH < 1 || OW < 1)
    throw Error("'" + name + "': the window " + shapeStr(k) + " does not fit " +
                shapeStr(x->shape));
  // The rows and columns the windows reach.
  const int64_t PH = (OH - 1) * st[0] + k[0], PW = (OW - 1) * st[1] + k[1];
  Shape padded = x->shape, out = x->shape;
  padded[2] = PH;
  padded[3] = PW;
  out[2] = OH;
  out[3] = OW;
  Tensor xp = compute(
      name + ".pad", padded,
      [&](const Indices& i) {
        Indices src = i;
        src[2] = i[2] - pads[0];
        src[3] = i[3] - pads[1];
        std::vector<std::pair<int64_t, int64_t>> ranges;
        for (size_t d = 0; d < i.size(); ++d) ranges.emplace_back(0, x->shape[d] - 1);
        ranges[2] = {-pads[0], PH - 1 - pads[0]};
        ranges[3] = {-pads[1], PW - 1 - pads[1]};
        return guardedRead(x, src, ranges, intImm(padValue, DType::I8));
      },
      "pool.pad");
  IterVar ry = makeAxis(name + ".ry", k[0]), rx = makeAxis(name + ".rx", k[1]);
  const bool isMax = kind == PoolKind::Max;
  return compute(
      name + (isMax ? ".max" : ".sum"), out,
      [&](const Indices& i) {
        Indices src = i;
        src[2] = i[2] * st[0] + ry.var;
        src[3] = i[3] * st[1] + rx.var;
        Expr v = cast(DType::I32, read(xp, src));
        return isMax ? maximum(v, {ry, rx}) : sum(v, {ry, rx});
      },
      isMax ? "qpool.max" : "qpool.sum");
}

}  // namespace

Tensor qmaxPool2d(const Tensor& x, const std::vector<int64_t>& k, const std::vector<int64_t>& st,
                  const std::vector<int64_t>& pads, int64_t padValue, const std::string& name) {
  Tensor m = windows(x, PoolKind::Max, k, st, pads, padValue, name);
  return compute(name, m->shape, [&](const Indices& i) { return cast(DType::I8, read(m, i)); });
}

Tensor qavgPool2dPacked(const Tensor& x, const std::vector<int64_t>& k,
                        const std::vector<int64_t>& st, const std::vector<int64_t>& pads,
                        const Tensor& mult, const Tensor& shift, const std::string& name) {
  if (x->rank() != 6)
    throw Error("'" + name + "': a packed average pooling needs data [N/B, C/BC, H, W, B, BC], " +
                "got " + shapeStr(x->shape));
  Tensor s = windows(x, PoolKind::Average, k, st, pads, 0, name);
  return requantizePacked(s, nullptr, mult, shift, -128, 127, name);
}

}  // namespace kiln::topi
