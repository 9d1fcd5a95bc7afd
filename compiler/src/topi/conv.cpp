// 2-D convolution, NCHW data and OIHW weights, as one reduction:
//   y[n, oc, oh, ow] = sum over (rc, ry, rx) of
//       x[n, g * KC + rc, oh * sh - pt + ry * dh, ow * sw - pl + rx * dw] * w[oc, rc, ry, rx]
// with g = oc / (OC / group). When the windows reach outside the input or the stride is
// above 1, a first stage "<name>.pad" (tag "conv2d.pad") copies x into a zero-bordered
// tensor through a guarded read, split by stride phase when strided, so the reduction
// itself reads without conditions and consecutive outputs read consecutive elements
// (contiguous, vectorizable rows); a schedule may inline it back. The same definition
// covers grouped, depthwise, dilated, strided and asymmetrically padded convolutions. A bias
// is a second, elementwise stage.
//
// Blocked weights (rank 5, [OC / b, C, KH, KW, b]: output channels in blocks of b, the
// block innermost; see packConvWeights) select the NCHWc form of the same sum: the
// reduction computes y[n, oc / b, oh, ow, oc % b] (tag "conv2d_nchwc"), so b consecutive
// output channels are b consecutive elements that read one input element and b consecutive
// weights - the vector lanes of a CPU schedule, whatever the width of the image - and a
// layout transform back to NCHW follows (tag "layout_transform", inlined into the bias or
// epilogue stage by the CPU schedule). Group 1, or depthwise ([C / b, 1, KH, KW, b]: channel
// c reads input channel c; the GLSL back end's four lanes fetch one weight texel).
#include "kiln/ops/op_registry.h"
#include "kiln/runtime/error.h"
#include "kiln/topi/topi.h"

namespace kiln::topi {

using namespace te;  // NOLINT

NDArray packConvWeights(const NDArray& w, int64_t block) {
  const Shape& s = w.shape();
  if (s.size() != 4 || w.dtype() != DType::F32 || block <= 0 || s[0] % block != 0)
    throw Error("packConvWeights: need f32 OIHW weights whose output channels divide by " +
                std::to_string(block) + ", got " + shapeStr(s));
  const int64_t OC = s[0], inner = s[1] * s[2] * s[3];
  NDArray p(DType::F32, {OC / block, s[1], s[2], s[3], block});
  const float* src = w.data<float>();
  float* dst = p.data<float>();
  for (int64_t oc = 0; oc < OC; ++oc)
    for (int64_t k = 0; k < inner; ++k)
      dst[((oc / block) * inner + k) * block + oc % block] = src[oc * inner + k];
  return p;
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const std::vector<int64_t>& st,
              const std::vector<int64_t>& pads, const std::vector<int64_t>& dil, int64_t group,
              const std::string& name) {
  const bool blocked = w->rank() == 5;
  if (x->rank() != 4 || (w->rank() != 4 && !blocked))
    throw Error("'" + name + "': conv2d needs NCHW data and OIHW (or blocked) weights, got " +
                shapeStr(x->shape) + " and " + shapeStr(w->shape));
  const int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
  const int64_t ocb = blocked ? w->shape[4] : 1;
  const int64_t OC = w->shape[0] * ocb, KC = w->shape[1], KH = w->shape[2], KW = w->shape[3];
  // Blocked weights: group 1, or depthwise (one input channel per group, [C / b, 1, KH, KW, b]).
  const bool depthwise = group > 1 && group == C && OC == C && w->shape[1] == 1;
  if (blocked && group != 1 && !depthwise)
    throw Error("'" + name + "': blocked weights are for group 1 or depthwise, not group " +
                std::to_string(group));
  if (group <= 0 || C != KC * group || OC % group != 0)
    throw Error("'" + name + "': " + std::to_string(C) + " input channels, " + std::to_string(KC) +
                " per group and group " + std::to_string(group) + " do not agree");
  const int64_t OH = windowOutputSize(H, KH, st[0], pads[0], pads[2], dil[0], false);
  const int64_t OW = windowOutputSize(W, KW, st[1], pads[1], pads[3], dil[1], false);
  const int64_t ocPerGroup = OC / group;
  // The range of input rows/columns the windows touch, for the padding guard.
  std::pair<int64_t, int64_t> hRange{-pads[0], (OH - 1) * st[0] - pads[0] + (KH - 1) * dil[0]};
  std::pair<int64_t, int64_t> wRange{-pads[1], (OW - 1) * st[1] - pads[1] + (KW - 1) * dil[1]};
  // The input as the reduction reads it. Padded: rows [-pads[0], hRange.second] and columns
  // [-pads[1], wRange.second] of x, zero outside. Strided: also split by stride phase,
  // xs[n, c, a, b, i, j] = padded[n, c, i * sh + a, j * sw + b], so that consecutive outputs
  // read consecutive elements (output oh reads padded row oh * sh + ry * dh, which is phase
  // (ry * dh) % sh, row oh + (ry * dh) / sh).
  const bool strided = st[0] > 1 || st[1] > 1;
  const bool padded =
      hRange.first < 0 || hRange.second >= H || wRange.first < 0 || wRange.second >= W;
  Tensor xp = x;
  const int64_t offH = -hRange.first, offW = -wRange.first;
  if (strided) {
    const int64_t PH = (hRange.second + offH + st[0]) / st[0];
    const int64_t PW = (wRange.second + offW + st[1]) / st[1];
    std::pair<int64_t, int64_t> rows{-offH, PH * st[0] - 1 - offH},
        cols{-offW, PW * st[1] - 1 - offW};
    // Only the phases some tap reads: a 1x1 convolution of stride 2 (ResNet's downsampling),
    // or one whose dilation is a multiple of its stride, reads phase 0 alone, and copying the
    // other phases would read the whole input.
    auto phases = [](int64_t k, int64_t stride, int64_t dilation) {
      return k == 1 || dilation % stride == 0 ? int64_t{1} : stride;
    };
    xp = compute(
        name + ".pad", {N, C, phases(KH, st[0], dil[0]), phases(KW, st[1], dil[1]), PH, PW},
        [&](const Indices& i) {
          return guardedRead(x,
                             {i[0], i[1], i[4] * st[0] + i[2] - offH, i[5] * st[1] + i[3] - offW},
                             {{0, N - 1}, {0, C - 1}, rows, cols}, floatImm(0.0, x->dtype));
        },
        "conv2d.pad");
  } else if (padded) {
    const int64_t PH = hRange.second + offH + 1, PW = wRange.second + offW + 1;
    xp = compute(
        name + ".pad", {N, C, PH, PW},
        [&](const Indices& i) {
          return guardedRead(x, {i[0], i[1], i[2] - offH, i[3] - offW},
                             {{0, N - 1}, {0, C - 1}, hRange, wRange}, floatImm(0.0, x->dtype));
        },
        "conv2d.pad");
  }
  // The padded-coordinate offset of tap r along an axis, as (phase, row) when strided.
  auto tap = [](const Expr& o, const Var& r, int64_t stride, int64_t dilation) {
    if (stride == 1) return std::pair<Expr, Expr>{Expr(0), o + r * dilation};
    if (dilation % stride == 0) return std::pair<Expr, Expr>{Expr(0), o + r * (dilation / stride)};
    return std::pair<Expr, Expr>{(r * dilation) % stride, o + (r * dilation) / stride};
  };
  IterVar rc = makeAxis(name + ".rc", KC), ry = makeAxis(name + ".ry", KH),
          rx = makeAxis(name + ".rx", KW);
  // The input element tap (ry, rx) of output (n, oh, ow) reads in channel c.
  auto input = [&](const Expr& n, const Expr& c, const Expr& oh, const Expr& ow) {
    if (strided) {
      auto [a, ih] = tap(oh, ry.var, st[0], dil[0]);
      auto [b, iw] = tap(ow, rx.var, st[1], dil[1]);
      return read(xp, {n, c, a, b, ih, iw});
    }
    return read(xp, {n, c, oh + ry.var * dil[0], ow + rx.var * dil[1]});
  };
  Tensor conv;
  if (blocked) {
    Tensor yc = compute(
        name + ".conv_c", {N, OC / ocb, OH, OW, ocb},
        [&](const Indices& i) {
          // depthwise: output channel c reads input channel c (rc has extent 1)
          Expr c = depthwise ? i[1] * ocb + i[4] + rc.var : rc.var;
          return sum(input(i[0], c, i[2], i[3]) * read(w, {i[1], rc.var, ry.var, rx.var, i[4]}),
                     {rc, ry, rx});
        },
        "conv2d_nchwc");
    conv = compute(
        bias ? name + ".conv" : name, {N, OC, OH, OW},
        [&](const Indices& i) {
          return read(yc, {i[0], i[1] / ocb, i[2], i[3], i[1] % ocb});
        },
        "layout_transform");
  } else {
    conv = compute(
        bias ? name + ".conv" : name, {N, OC, OH, OW},
        [&](const Indices& i) {
          Expr n = i[0], oc = i[1], oh = i[2], ow = i[3];
          Expr c = group == 1 ? rc.var : (oc / ocPerGroup) * KC + rc.var;
          return sum(input(n, c, oh, ow) * read(w, {oc, rc.var, ry.var, rx.var}), {rc, ry, rx});
        },
        "conv2d");
  }
  if (!bias) return conv;
  if (bias->rank() != 1 || bias->shape[0] != OC)
    throw Error("'" + name + "': bias of shape " + shapeStr(bias->shape) + " for " +
                std::to_string(OC) + " channels");
  return compute(name, conv->shape,
                 [&](const Indices& i) { return read(conv, i) + read(bias, {i[1]}); });
}

}  // namespace kiln::topi
