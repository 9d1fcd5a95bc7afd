// Elementwise operators: numpy-broadcast binary arithmetic, unary maps, and the guarded
// read every padded operator uses.
#include "kiln/ops/op_registry.h"
#include "kiln/runtime/error.h"
#include "kiln/topi/topi.h"

namespace kiln::topi {

using namespace te;  // NOLINT: definitions read as math

Expr guardedRead(const Tensor& t, const Indices& idx,
                 const std::vector<std::pair<int64_t, int64_t>>& ranges, Expr pad) {
  Indices clamped;
  Expr inside;
  for (size_t d = 0; d < idx.size(); ++d) {
    const int64_t extent = t->shape[d];
    Expr i = idx[d];
    Expr cond;
    if (ranges[d].first < 0) {
      cond = i >= Expr(0);
      i = max(i, Expr(0));
    }
    if (ranges[d].second >= extent) {
      Expr c = i < Expr(extent);
      cond = cond.defined() ? cond && c : c;
      i = min(i, Expr(extent - 1));
    }
    if (cond.defined()) inside = inside.defined() ? inside && cond : cond;
    clamped.push_back(i);
  }
  Expr v = read(t, clamped);
  return inside.defined() ? select(inside, v, pad) : v;
}

namespace {
// The index into `t` (of rank <= out rank, aligned right) for an output index, broadcasting size-1
// axes.
Indices broadcastIndex(const Tensor& t, const Indices& out) {
  Indices r;
  size_t off = out.size() - t->shape.size();
  for (size_t d = 0; d < t->shape.size(); ++d)
    r.push_back(t->shape[d] == 1 ? Expr(0) : out[off + d]);
  return r;
}
}  // namespace

Tensor broadcastBinary(const Tensor& a, const Tensor& b, BinaryKind kind, const std::string& name) {
  if (a->dtype != b->dtype)
    throw Error("'" + name + "': operand types " + std::string(dtypeName(a->dtype)) + " and " +
                std::string(dtypeName(b->dtype)) + " differ");
  Shape out = broadcastShapes(a->shape, b->shape);
  return compute(name, out, [&](const Indices& i) {
    Expr x = read(a, broadcastIndex(a, i)), y = read(b, broadcastIndex(b, i));
    switch (kind) {
      case BinaryKind::Add:
        return x + y;
      case BinaryKind::Sub:
        return x - y;
      case BinaryKind::Mul:
        return x * y;
      case BinaryKind::Div:
        return x / y;
      case BinaryKind::Pow:
        if (!isFloat(x.type()))
          throw Error("'" + name + "': Pow is compiled for float tensors only");
        return call("pow", {x, y});
    }
    return Expr();
  });
}

Tensor elementwise(const Tensor& x, const std::function<Expr(Expr)>& f, const std::string& name) {
  return compute(name, x->shape, [&](const Indices& i) { return f(read(x, i)); });
}

}  // namespace kiln::topi
