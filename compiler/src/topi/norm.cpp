// Normalizations: inference-mode batch normalization (a per-channel scale and shift,
// computed once per channel in their own small stages) and softmax over one axis
// (max-subtracted for stability: max, exp, sum, divide).
#include "kiln/runtime/error.h"
#include "kiln/topi/topi.h"

namespace kiln::topi {

using namespace te;  // NOLINT

Tensor batchNorm(const Tensor& x, const Tensor& scale, const Tensor& bias, const Tensor& mean,
                 const Tensor& var, double epsilon, const std::string& name) {
  if (x->rank() < 2)
    throw Error("'" + name + "': BatchNormalization needs N x C x ... data, got " +
                shapeStr(x->shape));
  const int64_t C = x->shape[1];
  for (const Tensor& p : {scale, bias, mean, var})
    if (p->rank() != 1 || p->shape[0] != C)
      throw Error("'" + name + "': parameter '" + p->name + "' has shape " + shapeStr(p->shape) +
                  ", expected [" + std::to_string(C) + "]");
  Tensor a = compute(name + ".scale", {C}, [&](const Indices& c) {
    return read(scale, c) / call("sqrt", {read(var, c) + floatImm(epsilon, x->dtype)});
  });
  Tensor b = compute(name + ".shift", {C},
                     [&](const Indices& c) { return read(bias, c) - read(a, c) * read(mean, c); });
  return compute(name, x->shape,
                 [&](const Indices& i) { return read(a, {i[1]}) * read(x, i) + read(b, {i[1]}); });
}

Tensor softmax(const Tensor& x, int64_t axis, const std::string& name) {
  Shape reduced = x->shape;
  reduced[axis] = 1;
  IterVar k = makeAxis(name + ".k", x->shape[axis]);
  auto along = [&](const Indices& i, Expr v) {
    Indices r = i;
    r[axis] = v;
    return r;
  };
  Tensor mx = compute(name + ".max", reduced,
                      [&](const Indices& i) { return maximum(read(x, along(i, k.var)), {k}); });
  Tensor e = compute(name + ".exp", x->shape, [&](const Indices& i) {
    return call("exp", {read(x, i) - read(mx, along(i, Expr(0)))});
  });
  Tensor s = compute(name + ".sum", reduced,
                     [&](const Indices& i) { return sum(read(e, along(i, k.var)), {k}); });
  return compute(name, x->shape,
                 [&](const Indices& i) { return read(e, i) / read(s, along(i, Expr(0))); });
}

}  // namespace kiln::topi
