// The int8 operators on the accelerator's blocked layout, each defined once as tensor
// expressions: what QConv, QGemm and QAdd compute (kiln/passes/quantize.h), with data
// packed as [N / B, C / BC, H, W, B, BC] (B = the GEMM core's batch rows, BC its block of
// channels) and weights as [OC / BO, C / BI, KH, KW, BO, BI], so that the innermost two
// dimensions of every tensor are exactly one buffer entry of the accelerator.
//
// Arithmetic is the reference executor's: int8 products summed in int32 (wrapping), the
// bias added, requantize() (the ISA's REQUANT), then the output clamp. Each step is its own
// elementwise stage, so a schedule can map each onto one ALU operation.
#include "kiln/runtime/error.h"
#include "kiln/topi/topi.h"

namespace kiln::topi {

using namespace te;  // NOLINT: definitions read as math

namespace {

// A packed int8 tensor [N/B, C/BC, H, W, B, BC] with the rows and columns its windows reach,
// PH x PW: pads[0] rows above and pads[1] columns left of the image, zero outside it.
Tensor padPacked(const Tensor& x, const std::vector<int64_t>& pads, int64_t PH, int64_t PW,
                 const std::string& name) {
  const int64_t NB = x->shape[0], CB = x->shape[1], B = x->shape[4], BC = x->shape[5];
  return compute(
      name + ".pad", {NB, CB, PH, PW, B, BC},
      [&](const Indices& i) {
        return guardedRead(x, {i[0], i[1], i[2] - pads[0], i[3] - pads[1], i[4], i[5]},
                           {{0, NB - 1},
                            {0, CB - 1},
                            {-pads[0], PH - 1 - pads[0]},
                            {-pads[1], PW - 1 - pads[1]},
                            {0, B - 1},
                            {0, BC - 1}},
                           intImm(0, DType::I8));
      },
      "conv2d.pad");
}

}  // namespace

Tensor conv2dPacked(const Tensor& x, const Tensor& w, const std::vector<int64_t>& st,
                    const std::vector<int64_t>& pads, const std::string& name) {
  if (x->rank() != 6 || w->rank() != 6 || x->dtype != DType::I8 || w->dtype != DType::I8)
    throw Error("'" + name + "': a packed convolution needs int8 data [N/B, C/BI, H, W, B, BI] " +
                "and weights [OC/BO, C/BI, KH, KW, BO, BI], got " + shapeStr(x->shape) + " and " +
                shapeStr(w->shape));
  const int64_t NB = x->shape[0], CB = x->shape[1], H = x->shape[2], W = x->shape[3];
  const int64_t B = x->shape[4], BI = x->shape[5];
  const int64_t OB = w->shape[0], KH = w->shape[2], KW = w->shape[3], BO = w->shape[4];
  if (w->shape[1] != CB || w->shape[5] != BI)
    throw Error("'" + name + "': weights " + shapeStr(w->shape) + " do not match data " +
                shapeStr(x->shape));
  const int64_t OH = (H + pads[0] + pads[2] - KH) / st[0] + 1;
  const int64_t OW = (W + pads[1] + pads[3] - KW) / st[1] + 1;
  // The rows and columns the windows reach, zero outside the image.
  const int64_t PH = (OH - 1) * st[0] + KH, PW = (OW - 1) * st[1] + KW;
  Tensor xp = padPacked(x, pads, PH, PW, name);
  IterVar rc = makeAxis(name + ".rc", CB), ry = makeAxis(name + ".ry", KH),
          rx = makeAxis(name + ".rx", KW), ri = makeAxis(name + ".ri", BI);
  return compute(
      name + ".conv", {NB, OB, OH, OW, B, BO},
      [&](const Indices& i) {
        Expr xv =
            read(xp, {i[0], rc.var, i[2] * st[0] + ry.var, i[3] * st[1] + rx.var, i[4], ri.var});
        Expr wv = read(w, {i[1], rc.var, ry.var, rx.var, i[5], ri.var});
        return sum(cast(DType::I32, xv) * cast(DType::I32, wv), {rc, ry, rx, ri});
      },
      "conv2d");
}

Tensor depthwiseConv2dPacked(const Tensor& x, const Tensor& w, const std::vector<int64_t>& st,
                             const std::vector<int64_t>& pads, const std::string& name) {
  if (x->rank() != 6 || w->rank() != 5 || x->dtype != DType::I8 || w->dtype != DType::I8)
    throw Error("'" + name + "': a packed depthwise convolution needs int8 data [N/B, C/BC, H, " +
                "W, B, BC] and weights [C/BC, KH, KW, B, BC], got " + shapeStr(x->shape) + " and " +
                shapeStr(w->shape));
  const int64_t NB = x->shape[0], CB = x->shape[1], H = x->shape[2], W = x->shape[3];
  const int64_t B = x->shape[4], BC = x->shape[5], KH = w->shape[1], KW = w->shape[2];
  const int64_t OH = (H + pads[0] + pads[2] - KH) / st[0] + 1;
  const int64_t OW = (W + pads[1] + pads[3] - KW) / st[1] + 1;
  const int64_t PH = (OH - 1) * st[0] + KH, PW = (OW - 1) * st[1] + KW;
  Tensor xp = padPacked(x, pads, PH, PW, name);
  IterVar ry = makeAxis(name + ".ry", KH), rx = makeAxis(name + ".rx", KW);
  return compute(
      name + ".conv", {NB, CB, OH, OW, B, BC},
      [&](const Indices& i) {
        Expr xv = read(xp, {i[0], i[1], i[2] * st[0] + ry.var, i[3] * st[1] + rx.var, i[4], i[5]});
        Expr wv = read(w, {i[1], ry.var, rx.var, i[4], i[5]});
        return sum(cast(DType::I32, xv) * cast(DType::I32, wv), {ry, rx});
      },
      "depthwise_conv2d");
}

namespace {

// requantizePacked's stages, the shift per channel (a tensor) or per tensor (an immediate,
// as a QAdd's: the stage is then tagged "requant.imm").
Tensor requantStages(const Tensor& acc, const Tensor& bias, const Tensor& mult, const Tensor& shift,
                     int64_t shiftImm, int64_t lo, int64_t hi, const std::string& name) {
  // bias, mult, shift: [OC / BO, B, BO] int32 (or [B, BO] for a per-tensor scale), one
  // accumulator entry per block of channels.
  auto perChannel = [&](const Tensor& t, const Indices& i) {
    return t->rank() == 3 ? read(t, {i[1], i[4], i[5]}) : read(t, {i[4], i[5]});
  };
  Tensor y = acc;
  if (bias)
    y = compute(
        name + ".bias", acc->shape,
        [&](const Indices& i) { return read(y, i) + perChannel(bias, i); }, "requant.bias");
  y = compute(
      name + ".requant", acc->shape,
      [&](const Indices& i) {
        Expr s = shift ? perChannel(shift, i) : intImm(shiftImm, DType::I32);
        return call("requantize", {read(y, i), perChannel(mult, i), s});
      },
      shift ? "requant" : "requant.imm");
  // requantize() saturates to int8 already: only a narrower range needs a clamp.
  if (lo > -128)
    y = compute(
        name + ".max", acc->shape,
        [&](const Indices& i) { return max(read(y, i), intImm(lo, DType::I32)); }, "requant.max");
  if (hi < 127)
    y = compute(
        name + ".min", acc->shape,
        [&](const Indices& i) { return min(read(y, i), intImm(hi, DType::I32)); }, "requant.min");
  return compute(name, acc->shape, [&](const Indices& i) { return cast(DType::I8, read(y, i)); });
}

}  // namespace

Tensor requantizePacked(const Tensor& acc, const Tensor& bias, const Tensor& mult,
                        const Tensor& shift, int64_t lo, int64_t hi, const std::string& name) {
  return requantStages(acc, bias, mult, shift, 0, lo, hi, name);
}

Tensor qaddPacked(const Tensor& a, const Tensor& b, int64_t aMul, int64_t bMul, const Tensor& mult,
                  int64_t shift, int64_t lo, int64_t hi, const std::string& name) {
  if (a->shape != b->shape || a->dtype != DType::I8 || b->dtype != DType::I8)
    throw Error("'" + name + "': a quantized add needs two int8 tensors of one shape, got " +
                shapeStr(a->shape) + " and " + shapeStr(b->shape));
  // a scaled, then b's scaled values added to it: one multiply-accumulate by an immediate.
  Tensor sa = compute(name + ".a", a->shape, [&](const Indices& i) {
    return cast(DType::I32, read(a, i)) * intImm(aMul, DType::I32);
  });
  Tensor s = compute(name + ".sum", a->shape, [&](const Indices& i) {
    return read(sa, i) + cast(DType::I32, read(b, i)) * intImm(bMul, DType::I32);
  });
  return requantStages(s, nullptr, mult, nullptr, shift, lo, hi, name);
}

Tensor quantizeLinear(const Tensor& x, double scale, const std::string& name) {
  // round(x / scale) half to even (as ONNX and the reference executor), saturated.
  return compute(name, x->shape, [&](const Indices& i) {
    Expr v = read(x, i) / floatImm(scale);
    Expr r = call("floor", {v + floatImm(0.5)});
    Expr odd = (r - floatImm(2.0) * call("floor", {r * floatImm(0.5)})) > floatImm(0.5);
    Expr even = select(eq(r - v, floatImm(0.5)) && odd, r - floatImm(1.0), r);
    return cast(DType::I8, min(max(even, floatImm(-128.0)), floatImm(127.0)));
  });
}

Tensor dequantizeLinear(const Tensor& x, double scale, const std::string& name) {
  return compute(name, x->shape, [&](const Indices& i) {
    return cast(DType::F32, read(x, i)) * floatImm(static_cast<float>(scale));
  });
}

}  // namespace kiln::topi
