// Compile-time evaluation of integer index expressions (see kiln/tir/eval.h).
#include "kiln/tir/eval.h"

#include <algorithm>

namespace kiln::tir {

namespace {
int64_t floorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
}  // namespace

std::optional<int64_t> evalInt(const te::Expr& e, const VarValues& values, bool unboundIsZero) {
  using namespace te;  // NOLINT
  if (const int64_t* c = asConstInt(e)) return *c;
  if (e.as<VarNode>()) {
    auto it = values.find(e.get());
    if (it != values.end()) return it->second;
    if (unboundIsZero) return 0;
    return std::nullopt;
  }
  if (const Cast* c = e.as<Cast>()) {
    if (isFloat(c->a.type()) || isFloat(c->type)) return std::nullopt;
    return evalInt(c->a, values, unboundIsZero);
  }
  if (const Not* n = e.as<Not>()) {
    auto a = evalInt(n->a, values, unboundIsZero);
    if (!a) return std::nullopt;
    return *a ? 0 : 1;
  }
  if (const Select* s = e.as<Select>()) {
    auto c = evalInt(s->cond, values, unboundIsZero);
    if (!c) return std::nullopt;
    return evalInt(*c ? s->t : s->f, values, unboundIsZero);
  }
  const Binary* b = e.as<Binary>();
  if (!b || isFloat(b->a.type())) return std::nullopt;
  auto x = evalInt(b->a, values, unboundIsZero);
  auto y = evalInt(b->b, values, unboundIsZero);
  if (!x || !y) return std::nullopt;
  switch (b->op) {
    case BinOp::Add:
      return *x + *y;
    case BinOp::Sub:
      return *x - *y;
    case BinOp::Mul:
      return *x * *y;
    case BinOp::Div:
      if (*y == 0) return std::nullopt;
      return floorDiv(*x, *y);
    case BinOp::Mod:
      if (*y == 0) return std::nullopt;
      return *x - floorDiv(*x, *y) * *y;
    case BinOp::Min:
      return std::min(*x, *y);
    case BinOp::Max:
      return std::max(*x, *y);
    case BinOp::EQ:
      return *x == *y;
    case BinOp::NE:
      return *x != *y;
    case BinOp::LT:
      return *x < *y;
    case BinOp::LE:
      return *x <= *y;
    case BinOp::GT:
      return *x > *y;
    case BinOp::GE:
      return *x >= *y;
    case BinOp::And:
      return *x && *y;
    case BinOp::Or:
      return *x || *y;
  }
  return std::nullopt;
}

}  // namespace kiln::tir
