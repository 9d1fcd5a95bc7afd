// Loop partitioning: a loop whose body tests a condition that is linear in the loop's
// variable (the guard of a split that does not divide its extent, the bounds test of a
// padded read) is cut into a prologue, a main part and an epilogue, so that on the main part
// the condition is known to hold and disappears. The main part is then straight-line code
// that vectorizes (a guard inside a vectorized loop would otherwise keep it scalar) and the
// clamps of padded reads (min/max) fold away with the condition.
//
// The pass keeps the constant range of every enclosing loop (and, while it looks for
// conditions, of every loop inside the body). A condition atom `e cmp 0` with e = c * v +
// rest (c a constant, rest bounded by interval arithmetic over the known ranges) holds for
// every value of the other variables when v lies in an interval it computes; the main part
// is the intersection of those intervals over the atoms that constrain v. Every piece's body
// is then simplified under its own range: comparisons and min/max that the ranges decide
// become constants or one operand, and simplify() drops the dead branches. Loops of any kind
// are partitioned (a parallel loop becomes at most three parallel loops); a piece keeps the
// loop's kind.
#include <algorithm>
#include <map>
#include <optional>

#include "kiln/tir/ir_visitor.h"
#include "kiln/tir/passes.h"

namespace kiln::tir {

namespace {

struct Interval {
  int64_t lo, hi;  // inclusive
};
using Ranges = std::map<const ExprNode*, Interval>;

int64_t floorDiv(int64_t a, int64_t b) {  // b > 0
  return a / b - ((a % b != 0) && (a < 0));
}
int64_t ceilDiv(int64_t a, int64_t b) {  // b > 0
  return -floorDiv(-a, b);
}

bool isIndex(const Expr& e) {
  return e.lanes() == 1 && (e.type() == DType::I64 || e.type() == DType::I32);
}

// The values an integer expression takes while every variable stays in its range.
std::optional<Interval> bounds(const Expr& e, const Ranges& r) {
  if (!isIndex(e)) return std::nullopt;
  if (const int64_t* c = asConstInt(e)) return Interval{*c, *c};
  if (const VarNode* v = e.as<VarNode>()) {
    auto it = r.find(v);
    if (it == r.end()) return std::nullopt;
    return it->second;
  }
  const Binary* b = e.as<Binary>();
  if (!b) return std::nullopt;
  auto x = bounds(b->a, r);
  if (!x) return std::nullopt;
  const int64_t* k = asConstInt(b->b);
  switch (b->op) {
    case BinOp::Div:
      if (!k || *k <= 0) return std::nullopt;
      return Interval{floorDiv(x->lo, *k), floorDiv(x->hi, *k)};
    case BinOp::Mod:
      if (!k || *k <= 0) return std::nullopt;
      if (floorDiv(x->lo, *k) == floorDiv(x->hi, *k))
        return Interval{x->lo - floorDiv(x->lo, *k) * *k, x->hi - floorDiv(x->hi, *k) * *k};
      return Interval{0, *k - 1};
    default:
      break;
  }
  auto y = bounds(b->b, r);
  if (!y) return std::nullopt;
  switch (b->op) {
    case BinOp::Add:
      return Interval{x->lo + y->lo, x->hi + y->hi};
    case BinOp::Sub:
      return Interval{x->lo - y->hi, x->hi - y->lo};
    case BinOp::Mul: {
      const int64_t p[] = {x->lo * y->lo, x->lo * y->hi, x->hi * y->lo, x->hi * y->hi};
      return Interval{*std::min_element(p, p + 4), *std::max_element(p, p + 4)};
    }
    case BinOp::Min:
      return Interval{std::min(x->lo, y->lo), std::min(x->hi, y->hi)};
    case BinOp::Max:
      return Interval{std::max(x->lo, y->lo), std::max(x->hi, y->hi)};
    default:
      return std::nullopt;
  }
}

bool mentions(const Expr& e, const ExprNode* v) {
  class Find : public IRVisitor {
   public:
    explicit Find(const ExprNode* v) : v_(v) {}
    bool found = false;
    using IRVisitor::visit;
    void visit(const VarNode* op) override { found = found || op == v_; }

   private:
    const ExprNode* v_;
  } f(v);
  f.visitExpr(e);
  return f.found;
}

// The coefficient of v in e when e is affine in v (v reached only through +, - and
// multiplication by a constant); nullopt otherwise.
std::optional<int64_t> coefficient(const Expr& e, const ExprNode* v) {
  if (!mentions(e, v)) return 0;
  if (e.get() == v) return 1;
  const Binary* b = e.as<Binary>();
  if (!b) return std::nullopt;
  auto ca = coefficient(b->a, v), cb = coefficient(b->b, v);
  if (!ca || !cb) return std::nullopt;
  switch (b->op) {
    case BinOp::Add:
      return *ca + *cb;
    case BinOp::Sub:
      return *ca - *cb;
    case BinOp::Mul:
      if (const int64_t* k = asConstInt(b->b)) return *ca * *k;
      if (const int64_t* k = asConstInt(b->a)) return *cb * *k;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

// The interval of v on which the comparison `cmp` holds for every value the other variables
// take in their ranges; nullopt when the comparison is not of that form.
std::optional<Interval> trueInterval(const Binary* cmp, const ExprNode* v, const Ranges& r) {
  if (!isComparison(cmp->op) || cmp->op == BinOp::EQ || cmp->op == BinOp::NE) return std::nullopt;
  if (!isIndex(cmp->a)) return std::nullopt;
  // Normalise to c * v + rest <= K.
  Expr e = cmp->a - cmp->b;
  int64_t K = 0;
  switch (cmp->op) {
    case BinOp::LT:
      K = -1;
      break;
    case BinOp::LE:
      break;
    case BinOp::GT:
      e = cmp->b - cmp->a, K = -1;
      break;
    default:  // GE
      e = cmp->b - cmp->a;
      break;
  }
  auto c = coefficient(e, v);
  if (!c || *c == 0) return std::nullopt;
  // rest = e with v set to 0 (exact, e being affine in v), bounded over the other variables.
  class Zero : public IRMutator {
   public:
    explicit Zero(const ExprNode* v) : v_(v) {}
    using IRMutator::mutate;

   protected:
    using IRMutator::visit;
    Expr visit(const VarNode* op, const Expr& x) override {
      return op == v_ ? IntImm::make(0, op->type) : x;
    }

   private:
    const ExprNode* v_;
  } zero(v);
  Ranges without = r;
  without.erase(v);
  auto rest = bounds(zero.mutate(e), without);
  if (!rest) return std::nullopt;
  const int64_t M = K - rest->hi;  // c * v <= M
  constexpr int64_t kInf = int64_t{1} << 60;
  if (*c > 0) return Interval{-kInf, floorDiv(M, *c)};
  return Interval{ceilDiv(-M, -*c), kInf};
}

// Collects the comparison atoms of the conditions in a statement (if conditions and select
// conditions, split at &&), each with the ranges of the loops around it.
class Conditions : public IRVisitor {
 public:
  explicit Conditions(Ranges r) : ranges_(std::move(r)) {}
  std::vector<std::pair<const Binary*, Ranges>> atoms;
  using IRVisitor::visit;

  void visit(const For* op) override {
    const int64_t* mn = asConstInt(op->min);
    const int64_t* ext = asConstInt(op->extent);
    Ranges saved = ranges_;
    if (mn && ext && *ext > 0) ranges_[op->var.get()] = {*mn, *mn + *ext - 1};
    IRVisitor::visit(op);
    ranges_ = std::move(saved);
  }
  void visit(const IfThenElse* op) override {
    addAtoms(op->cond);
    IRVisitor::visit(op);
  }
  void visit(const Select* op) override {
    addAtoms(op->cond);
    IRVisitor::visit(op);
  }

 private:
  void addAtoms(const Expr& c) {
    if (const Binary* b = c.as<Binary>()) {
      if (b->op == BinOp::And) {
        addAtoms(b->a);
        addAtoms(b->b);
      } else if (isComparison(b->op)) {
        atoms.emplace_back(b, ranges_);
      }
    }
  }
  Ranges ranges_;
};

// Replaces the comparisons and min/max that the known ranges decide.
class Decide : public IRMutator {
 public:
  explicit Decide(Ranges r) : ranges_(std::move(r)) {}
  using IRMutator::mutate;

 protected:
  using IRMutator::visit;
  Stmt visit(const For* op, const Stmt& s) override {
    const int64_t* mn = asConstInt(op->min);
    const int64_t* ext = asConstInt(op->extent);
    Ranges saved = ranges_;
    if (mn && ext && *ext > 0) ranges_[op->var.get()] = {*mn, *mn + *ext - 1};
    Stmt r = IRMutator::visit(op, s);
    ranges_ = std::move(saved);
    return r;
  }
  Expr visit(const Binary* op, const Expr& e) override {
    Expr x = IRMutator::visit(op, e);
    const Binary* b = x.as<Binary>();
    if (!b || !isIndex(b->a)) return x;
    auto p = bounds(b->a, ranges_), q = bounds(b->b, ranges_);
    if (!p || !q) return x;
    auto decided = [](bool v) { return IntImm::make(v ? 1 : 0, DType::Bool); };
    switch (b->op) {
      case BinOp::LT:
        if (p->hi < q->lo) return decided(true);
        if (p->lo >= q->hi) return decided(false);
        break;
      case BinOp::LE:
        if (p->hi <= q->lo) return decided(true);
        if (p->lo > q->hi) return decided(false);
        break;
      case BinOp::GT:
        if (p->lo > q->hi) return decided(true);
        if (p->hi <= q->lo) return decided(false);
        break;
      case BinOp::GE:
        if (p->lo >= q->hi) return decided(true);
        if (p->hi < q->lo) return decided(false);
        break;
      case BinOp::Min:
        if (p->hi <= q->lo) return b->a;
        if (q->hi <= p->lo) return b->b;
        break;
      case BinOp::Max:
        if (p->lo >= q->hi) return b->a;
        if (q->lo >= p->hi) return b->b;
        break;
      default:
        break;
    }
    return x;
  }

 private:
  Ranges ranges_;
};

class Partition : public IRMutator {
 public:
  using IRMutator::mutate;

 protected:
  using IRMutator::visit;
  Stmt visit(const For* op, const Stmt& s) override {
    const int64_t* mn = asConstInt(op->min);
    const int64_t* ext = asConstInt(op->extent);
    if (!mn || !ext || *ext <= 0) return IRMutator::visit(op, s);
    const ExprNode* v = op->var.get();
    const Interval whole{*mn, *mn + *ext - 1};
    if (op->forKind == ForKind::ThreadBinding) {
      // A GPU or fragment index is a launch dimension, not a loop to cut in pieces; what it
      // bounds still informs the loops inside it.
      Ranges saved = ranges_;
      ranges_[v] = whole;
      Stmt body = mutate(op->body);
      ranges_ = std::move(saved);
      return body.same(op->body) ? s : For::make(op, op->min, op->extent, body);
    }

    // The main part: where every condition that constrains v is known to hold.
    Ranges inside = ranges_;
    inside[v] = whole;
    Conditions conds(inside);
    conds.visitStmt(op->body);
    Interval main = whole;
    for (const auto& [atom, r] : conds.atoms) {
      if (!mentions(Expr(atom->a), v) && !mentions(Expr(atom->b), v)) continue;
      auto t = trueInterval(atom, v, r);
      if (!t) continue;
      const Interval clipped{std::max(t->lo, whole.lo), std::min(t->hi, whole.hi)};
      if (clipped.lo > clipped.hi) continue;  // never holds here: no use as a main part
      main = {std::max(main.lo, clipped.lo), std::min(main.hi, clipped.hi)};
    }
    std::vector<Interval> pieces;
    if (main.lo > main.hi) {
      pieces.push_back(whole);
    } else {
      if (main.lo > whole.lo) pieces.push_back({whole.lo, main.lo - 1});
      pieces.push_back(main);
      if (main.hi < whole.hi) pieces.push_back({main.hi + 1, whole.hi});
    }
    std::vector<Stmt> out;
    for (const Interval& p : pieces) {
      Ranges saved = ranges_;
      ranges_[v] = p;
      Stmt body = Decide(ranges_).mutate(op->body);
      body = mutate(body);
      ranges_ = std::move(saved);
      out.push_back(For::make(op->var, Expr(p.lo), Expr(p.hi - p.lo + 1), op->forKind, body));
    }
    return Seq::make(out);
  }

 private:
  Ranges ranges_;  // the enclosing loops
};

}  // namespace

Stmt partitionLoops(const Stmt& s) {
  Partition p;
  return p.mutate(s);
}

}  // namespace kiln::tir
