// Region inference: which part of a producer one iteration of its consumer's loop reads.
//
// Every index expression is bounded by a symbolic interval [lo, hi] (expressions in the
// variables held fixed) together with a constant bound W on hi - lo, propagated through
// + - * / % min max (clamps in guarded reads keep their width). The region along a
// dimension starts at max(lo, 0) and spans min(W + 1, extent) elements; an index that
// cannot be bounded (a data-dependent read, a select between unrelated indices) covers
// the whole dimension, which is always correct, only slower.
#include <algorithm>
#include <optional>

#include "kiln/tir/ir_visitor.h"
#include "kiln/tir/passes.h"

namespace kiln::tir {

namespace {

struct SymInterval {
  Expr lo, hi;
  int64_t width = 0;
  bool bounded = true;
};

SymInterval unbounded() {
  return SymInterval{Expr(), Expr(), 0, false};
}

bool same(const Expr& a, const Expr& b) {
  if (a.same(b)) return true;
  if (!a.defined() || !b.defined() || a->kind != b->kind || a.type() != b.type()) return false;
  if (const int64_t* x = asConstInt(a)) return *x == *asConstInt(b);
  if (const Binary* x = a.as<Binary>()) {
    const Binary* y = b.as<Binary>();
    return x->op == y->op && same(x->a, y->a) && same(x->b, y->b);
  }
  return false;
}

// e = base + offset with a constant offset peeled off the top.
std::pair<Expr, int64_t> peelOffset(const Expr& e) {
  if (const Binary* b = e.as<Binary>())
    if (const int64_t* c = asConstInt(b->b)) {
      if (b->op == BinOp::Add) return {b->a, *c};
      if (b->op == BinOp::Sub) return {b->a, -*c};
    }
  if (const int64_t* c = asConstInt(e)) return {Expr(0), *c};
  return {e, 0};
}

// e mod c (0 <= r < c) when it is the same for every value of e's variables: constants,
// multiples of c and sums of such; nullopt otherwise.
std::optional<int64_t> residue(const Expr& e, int64_t c) {
  auto mod = [c](int64_t v) { return ((v % c) + c) % c; };
  if (c == 1) return 0;
  if (const int64_t* k = asConstInt(e)) return mod(*k);
  const Binary* b = e.as<Binary>();
  if (!b) return std::nullopt;
  std::optional<int64_t> x = residue(b->a, c), y = residue(b->b, c);
  switch (b->op) {
    case BinOp::Add:
      if (x && y) return mod(*x + *y);
      return std::nullopt;
    case BinOp::Sub:
      if (x && y) return mod(*x - *y);
      return std::nullopt;
    case BinOp::Mul:
      if ((x && *x == 0) || (y && *y == 0)) return 0;
      if (x && y) return mod(*x * *y);
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

class Bounder {
 public:
  explicit Bounder(const std::map<const ExprNode*, int64_t>& ranged) : ranged_(ranged) {}

  SymInterval of(const Expr& e) const {
    if (asConstInt(e)) return {e, e, 0, true};
    if (e.as<VarNode>()) {
      auto it = ranged_.find(e.get());
      if (it == ranged_.end()) return {e, e, 0, true};  // held fixed
      return {Expr(0), Expr(it->second - 1), it->second - 1, true};
    }
    const Binary* b = e.as<Binary>();
    if (!b || e.type() != DType::I64) return unbounded();
    SymInterval x = of(b->a), y = of(b->b);
    if (!x.bounded || !y.bounded) return unbounded();
    const int64_t* cy = asConstInt(b->b);
    switch (b->op) {
      case BinOp::Add:
        return {x.lo + y.lo, x.hi + y.hi, x.width + y.width, true};
      case BinOp::Sub:
        return {x.lo - y.hi, x.hi - y.lo, x.width + y.width, true};
      case BinOp::Mul:
        if (!cy) return unbounded();
        if (*cy >= 0) return {x.lo * *cy, x.hi * *cy, x.width * *cy, true};
        return {x.hi * *cy, x.lo * *cy, -x.width * *cy, true};
      case BinOp::Div: {
        if (!cy || *cy <= 0) return unbounded();
        // [lo, lo + W] / c spans (lo mod c + W) / c + 1 values; without lo mod c, at most
        // W / c + 2 (a tile of channels that starts on a block boundary covers whole blocks).
        const std::optional<int64_t> r = residue(x.lo, *cy);
        const int64_t w = x.width == 0 ? 0 : r ? (*r + x.width) / *cy : x.width / *cy + 1;
        return {x.lo / *cy, x.hi / *cy, w, true};
      }
      case BinOp::Mod:
        if (!cy || *cy <= 0) return unbounded();
        if (x.width == 0) return {x.lo % *cy, x.lo % *cy, 0, true};  // a fixed value
        return {Expr(0), Expr(*cy - 1), *cy - 1, true};
      case BinOp::Min:
        return {min(x.lo, y.lo), min(x.hi, y.hi), std::max(x.width, y.width), true};
      case BinOp::Max:
        return {max(x.lo, y.lo), max(x.hi, y.hi), std::max(x.width, y.width), true};
      default:
        return unbounded();
    }
  }

 private:
  const std::map<const ExprNode*, int64_t>& ranged_;
};

class CollectReads : public IRVisitor {
 public:
  explicit CollectReads(const te::TensorNode* t) : t_(t) {}
  std::vector<const TensorRead*> reads;
  using IRVisitor::visit;
  void visit(const TensorRead* op) override {
    if (op->tensor.get() == t_) reads.push_back(op);
    IRVisitor::visit(op);
  }

 private:
  const te::TensorNode* t_;
};

}  // namespace

Region inferRegion(const Tensor& t, const Expr& e,
                   const std::map<const ExprNode*, int64_t>& ranged) {
  CollectReads c(t.get());
  c.visitExpr(e);
  Bounder bound(ranged);
  Region r;
  for (size_t d = 0; d < t->shape.size(); ++d) {
    const int64_t extent = t->shape[d];
    // Union of the reads: all must start at one base expression plus constant offsets.
    bool bounded = !c.reads.empty();
    Expr base;
    int64_t lo = 0, hi = 0;  // offsets from base: the region is [base + lo, base + hi]
    for (size_t k = 0; k < c.reads.size() && bounded; ++k) {
      SymInterval s = bound.of(c.reads[k]->indices[d]);
      if (!s.bounded) {
        bounded = false;
        break;
      }
      auto [b, off] = peelOffset(simplify(s.lo));
      if (k == 0) {
        base = b, lo = off, hi = off + s.width;
      } else if (same(b, base)) {
        lo = std::min(lo, off), hi = std::max(hi, off + s.width);
      } else {
        bounded = false;  // reads at unrelated places: take the whole dimension
      }
    }
    const int64_t width = hi - lo;
    if (!bounded || width + 1 >= extent) {
      r.min.push_back(Expr(0));
      r.extent.push_back(extent);
    } else {
      // Start inside the tensor, and early enough that the region still fits in it.
      r.min.push_back(simplify(min(max(base + lo, Expr(0)), Expr(extent - width - 1))));
      r.extent.push_back(width + 1);
    }
  }
  return r;
}

}  // namespace kiln::tir
