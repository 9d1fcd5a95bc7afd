// Simplification: folds constants and applies the identities that index arithmetic after
// splitting, fusing, unrolling and flattening is full of (x * 1, x + 0, (x + 2) + 3,
// constant comparisons, selects and branches on constants), and removes loops that run
// zero times or once. Floats are folded only where the result is exact in float32.
#include <algorithm>
#include <cmath>

#include "kiln/tir/ir_visitor.h"
#include "kiln/tir/passes.h"

namespace kiln::tir {

namespace {

int64_t floorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
int64_t floorMod(int64_t a, int64_t b) {
  return a - floorDiv(a, b) * b;
}

Expr boolImm(bool v) {
  return IntImm::make(v ? 1 : 0, DType::Bool);
}

// Structural equality, enough for the index patterns below (variables by identity).
bool equal(const Expr& a, const Expr& b) {
  if (a.same(b)) return true;
  if (!a.defined() || !b.defined() || a->kind != b->kind || a.type() != b.type()) return false;
  if (const int64_t* x = asConstInt(a)) return *x == *asConstInt(b);
  if (const Binary* x = a.as<Binary>()) {
    const Binary* y = b.as<Binary>();
    return x->op == y->op && equal(x->a, y->a) && equal(x->b, y->b);
  }
  return false;
}

// Matches e = x * c + k or x * c (k = 0), c the given constant and k a constant.
bool matchScaled(const Expr& e, int64_t c, Expr* x, int64_t* k) {
  Expr m = e;
  *k = 0;
  if (const Binary* add = e.as<Binary>(); add && add->op == BinOp::Add)
    if (const int64_t* kk = asConstInt(add->b)) {
      m = add->a;
      *k = *kk;
    }
  const Binary* mul = m.as<Binary>();
  if (!mul || mul->op != BinOp::Mul) return false;
  const int64_t* f = asConstInt(mul->b);
  if (!f || *f != c) return false;
  *x = mul->a;
  return true;
}

// Matches x / c (c a positive constant); x / 1 is x.
bool matchDiv(const Expr& e, Expr* x, int64_t* c) {
  if (const Binary* d = e.as<Binary>(); d && d->op == BinOp::Div)
    if (const int64_t* k = asConstInt(d->b); k && *k > 0) {
      *x = d->a;
      *c = *k;
      return true;
    }
  *x = e;
  *c = 1;
  return true;
}
const int64_t* constBool(const Expr& e) {
  return e.type() == DType::Bool ? asConstInt(e) : nullptr;
}

class Simplify : public IRMutator {
 public:
  using IRMutator::mutate;

 protected:
  using IRMutator::visit;

  Expr visit(const Binary* op, const Expr& e) override {
    Expr a = mutate(op->a), b = mutate(op->b);
    if (a.lanes() > 1)  // vectors: no scalar identities (they would yield scalars)
      return a.same(op->a) && b.same(op->b) ? e : Binary::make(op->op, a, b);
    const int64_t* ca = asConstInt(a);
    const int64_t* cb = asConstInt(b);
    const bool isInt = !isFloat(a.type()) && a.type() != DType::Bool;
    if (ca && cb && a.type() != DType::Bool) {
      int64_t x = *ca, y = *cb;
      switch (op->op) {
        case BinOp::Add:
          return IntImm::make(x + y, a.type());
        case BinOp::Sub:
          return IntImm::make(x - y, a.type());
        case BinOp::Mul:
          return IntImm::make(x * y, a.type());
        case BinOp::Div:
          if (y != 0) return IntImm::make(floorDiv(x, y), a.type());
          break;
        case BinOp::Mod:
          if (y != 0) return IntImm::make(floorMod(x, y), a.type());
          break;
        case BinOp::Min:
          return IntImm::make(std::min(x, y), a.type());
        case BinOp::Max:
          return IntImm::make(std::max(x, y), a.type());
        case BinOp::EQ:
          return boolImm(x == y);
        case BinOp::NE:
          return boolImm(x != y);
        case BinOp::LT:
          return boolImm(x < y);
        case BinOp::LE:
          return boolImm(x <= y);
        case BinOp::GT:
          return boolImm(x > y);
        case BinOp::GE:
          return boolImm(x >= y);
        default:
          break;
      }
    }
    if (a.type() == DType::Bool && (op->op == BinOp::And || op->op == BinOp::Or)) {
      const int64_t* ba = constBool(a);
      const int64_t* bb = constBool(b);
      bool isAnd = op->op == BinOp::And;
      if (ba) return (*ba != 0) == isAnd ? b : a;
      if (bb) return (*bb != 0) == isAnd ? a : b;
    }
    if (isInt) {
      switch (op->op) {
        case BinOp::Add:
          if (ca && *ca == 0) return b;
          if (cb && *cb == 0) return a;
          // (x / (c * k)) * c + (x / k) % c -> x / k: re-flattening a fused index
          if (const Binary* m = a.as<Binary>(); m && m->op == BinOp::Mul)
            if (const Binary* r = b.as<Binary>(); r && r->op == BinOp::Mod)
              if (const int64_t* c = asConstInt(m->b); c && *c > 0 && equal(m->b, r->b)) {
                Expr x1, x2;
                int64_t ck, k;
                matchDiv(m->a, &x1, &ck);
                matchDiv(r->a, &x2, &k);
                if (ck > 1 && ck == *c * k && equal(x1, x2)) return k == 1 ? x2 : r->a;
              }
          // (x + c1) + c2 -> x + (c1 + c2)
          if (cb)
            if (const Binary* ia = a.as<Binary>(); ia && ia->op == BinOp::Add)
              if (const int64_t* c1 = asConstInt(ia->b))
                return mutate(ia->a + IntImm::make(*c1 + *cb, a.type()));
          break;
        case BinOp::Sub:
          if (cb && *cb == 0) return a;
          if (equal(a, b)) return IntImm::make(0, a.type());
          // (x + y) - x -> y and (x + y) - y -> x: an index relative to a box start
          if (const Binary* s = a.as<Binary>(); s && s->op == BinOp::Add) {
            if (equal(s->a, b)) return s->b;
            if (equal(s->b, b)) return s->a;
          }
          break;
        case BinOp::Mul:
          if ((ca && *ca == 0) || (cb && *cb == 0)) return IntImm::make(0, a.type());
          if (ca && *ca == 1) return b;
          if (cb && *cb == 1) return a;
          break;
        case BinOp::Div:
          if (cb && *cb == 1) return a;
          // (x * c + k) / c -> x + floor(k / c), (x * c) / c -> x: floor division of a
          // re-blocked index (channel c * 4 + lane, unrolled)
          if (cb && *cb > 0) {
            Expr x;
            int64_t k = 0;
            if (matchScaled(a, *cb, &x, &k)) {
              const int64_t q = floorDiv(k, *cb);
              return q == 0 ? x : mutate(x + IntImm::make(q, a.type()));
            }
          }
          // (x / c1) / c2 -> x / (c1 * c2) for positive constants (floor division composes)
          if (cb && *cb > 0)
            if (const Binary* d = a.as<Binary>(); d && d->op == BinOp::Div)
              if (const int64_t* c1 = asConstInt(d->b); c1 && *c1 > 0)
                return d->a / IntImm::make(*c1 * *cb, a.type());
          break;
        case BinOp::Mod:
          if (cb && *cb == 1) return IntImm::make(0, a.type());
          // (x * c + k) % c -> k mod c
          if (cb && *cb > 0) {
            Expr x;
            int64_t k = 0;
            if (matchScaled(a, *cb, &x, &k)) return IntImm::make(floorMod(k, *cb), a.type());
          }
          break;
        default:
          break;
      }
    }
    return a.same(op->a) && b.same(op->b) ? e : Binary::make(op->op, a, b);
  }

  Expr visit(const Not* op, const Expr& e) override {
    Expr a = mutate(op->a);
    if (const int64_t* c = constBool(a)) return boolImm(*c == 0);
    return a.same(op->a) ? e : Not::make(a);
  }

  Expr visit(const Select* op, const Expr& e) override {
    Expr c = mutate(op->cond);
    if (const int64_t* k = constBool(c)) return mutate(*k ? op->t : op->f);
    Expr t = mutate(op->t), f = mutate(op->f);
    return c.same(op->cond) && t.same(op->t) && f.same(op->f) ? e : Select::make(c, t, f);
  }

  Expr visit(const Cast* op, const Expr& e) override {
    Expr a = mutate(op->a);
    if (const int64_t* c = asConstInt(a)) {
      if (isFloat(op->type)) return FloatImm::make(static_cast<double>(*c), op->type);
      if (op->type == DType::I64 || op->type == DType::I32) return IntImm::make(*c, op->type);
    }
    return a.same(op->a) ? e : Cast::make(op->type, a);
  }

  Stmt visit(const For* op, const Stmt& s) override {
    Expr mn = mutate(op->min), ext = mutate(op->extent);
    if (const int64_t* c = asConstInt(ext)) {
      if (*c <= 0) return Stmt();
      // A thread binding of extent 1 stays: it is a launch dimension, not a loop.
      if (*c == 1 && op->forKind != ForKind::ThreadBinding)
        return mutate(substitute(op->body, {{op->var, mn}}));
    }
    Stmt body = mutate(op->body);
    if (!body.defined()) return Stmt();
    if (mn.same(op->min) && ext.same(op->extent) && body.same(op->body)) return s;
    return For::make(op, mn, ext, body);
  }

  Stmt visit(const LetStmt* op, const Stmt& s) override {
    Expr v = mutate(op->value);
    if (v.as<IntImm>() || v.as<FloatImm>() || v.as<VarNode>())
      return mutate(substitute(op->body, {{op->var, v}}));
    Stmt body = mutate(op->body);
    return v.same(op->value) && body.same(op->body) ? s : LetStmt::make(op->var, v, body);
  }

  Stmt visit(const IfThenElse* op, const Stmt& s) override {
    Expr c = mutate(op->cond);
    if (const int64_t* k = constBool(c)) return mutate(*k ? op->thenCase : op->elseCase);
    Stmt t = mutate(op->thenCase), f = mutate(op->elseCase);
    if (!t.defined() && !f.defined()) return Stmt();
    if (!t.defined()) return IfThenElse::make(Not::make(c), f);
    return c.same(op->cond) && t.same(op->thenCase) && f.same(op->elseCase)
               ? s
               : IfThenElse::make(c, t, f);
  }

  Stmt visit(const Allocate* op, const Stmt& s) override {
    Stmt body = mutate(op->body);
    if (!body.defined()) return Stmt();
    return body.same(op->body) ? s : Allocate::make(op->buffer, body);
  }
};

}  // namespace

Expr simplify(const Expr& e) {
  Simplify s;
  return s.mutate(e);
}

Stmt simplify(const Stmt& st) {
  Simplify s;
  return s.mutate(st);
}

}  // namespace kiln::tir
