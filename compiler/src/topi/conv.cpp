// 2-D convolution, NCHW data and OIHW weights, as one reduction:
//   y[n, oc, oh, ow] = sum over (rc, ry, rx) of
//       x[n, g * KC + rc, oh * sh - pt + ry * dh, ow * sw - pl + rx * dw] * w[oc, rc, ry, rx]
// with g = oc / (OC / group), padding read as zero through a guarded (clamped) read. The
// same definition covers grouped, depthwise, dilated, strided and asymmetrically padded
// convolutions. A bias is a second, elementwise stage.
#include "kiln/ops/op_registry.h"
#include "kiln/runtime/error.h"
#include "kiln/topi/topi.h"

namespace kiln::topi {

using namespace te;  // NOLINT

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const std::vector<int64_t>& st,
              const std::vector<int64_t>& pads, const std::vector<int64_t>& dil, int64_t group,
              const std::string& name) {
  if (x->rank() != 4 || w->rank() != 4)
    throw Error("'" + name + "': conv2d needs NCHW data and OIHW weights, got " +
                shapeStr(x->shape) + " and " + shapeStr(w->shape));
  const int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
  const int64_t OC = w->shape[0], KC = w->shape[1], KH = w->shape[2], KW = w->shape[3];
  if (group <= 0 || C != KC * group || OC % group != 0)
    throw Error("'" + name + "': " + std::to_string(C) + " input channels, " + std::to_string(KC) +
                " per group and group " + std::to_string(group) + " do not agree");
  const int64_t OH = windowOutputSize(H, KH, st[0], pads[0], pads[2], dil[0], false);
  const int64_t OW = windowOutputSize(W, KW, st[1], pads[1], pads[3], dil[1], false);
  const int64_t ocPerGroup = OC / group;
  // The range of input rows/columns the windows touch, for the padding guard.
  std::pair<int64_t, int64_t> hRange{-pads[0], (OH - 1) * st[0] - pads[0] + (KH - 1) * dil[0]};
  std::pair<int64_t, int64_t> wRange{-pads[1], (OW - 1) * st[1] - pads[1] + (KW - 1) * dil[1]};
  IterVar rc = makeAxis(name + ".rc", KC), ry = makeAxis(name + ".ry", KH),
          rx = makeAxis(name + ".rx", KW);
  Tensor conv = compute(
      bias ? name + ".conv" : name, {N, OC, OH, OW},
      [&](const Indices& i) {
        Expr n = i[0], oc = i[1], oh = i[2], ow = i[3];
        Expr c = group == 1 ? rc.var : (oc / ocPerGroup) * KC + rc.var;
        Expr ih = oh * st[0] - pads[0] + ry.var * dil[0];
        Expr iw = ow * st[1] - pads[1] + rx.var * dil[1];
        Expr xv = guardedRead(x, {n, c, ih, iw}, {{0, N - 1}, {0, C - 1}, hRange, wRange},
                              floatImm(0.0, x->dtype));
        return sum(xv * read(w, {oc, rc.var, ry.var, rx.var}), {rc, ry, rx});
      },
      "conv2d");
  if (!bias) return conv;
  if (bias->rank() != 1 || bias->shape[0] != OC)
    throw Error("'" + name + "': bias of shape " + shapeStr(bias->shape) + " for " +
                std::to_string(OC) + " channels");
  return compute(name, conv->shape,
                 [&](const Indices& i) { return read(conv, i) + read(bias, {i[1]}); });
}

}  // namespace kiln::topi
