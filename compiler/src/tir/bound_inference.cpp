// Bound inference: the interval of every index a stage reads, from the ranges of its axes.
//
// Kiln computes every stage over its whole shape (compute-root), so a stage's own bounds are
// its shape; what this pass infers is the region of each producer that its consumers touch,
// and it proves that region lies inside the producer. Operator definitions guard padded
// reads by clamping indices (te::Select evaluates both sides), so an unguarded or wrongly
// clamped read is reported here, at compile time, instead of reading past a buffer.
// (With compute_at, the same intervals will size the producer's loops.)
#include <algorithm>
#include <limits>
#include <map>
#include <sstream>

#include "kiln/runtime/error.h"
#include "kiln/tir/ir_visitor.h"
#include "kiln/tir/passes.h"
#include "kiln/tir/printer.h"

namespace kiln::tir {

namespace {

constexpr int64_t kInf = std::numeric_limits<int64_t>::max() / 4;

struct Interval {
  int64_t lo = -kInf, hi = kInf;
  bool bounded() const { return lo > -kInf && hi < kInf; }
};

int64_t floorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

class IntervalOf {
 public:
  std::map<const ExprNode*, Interval> vars;

  Interval of(const Expr& e) const {
    if (const int64_t* c = asConstInt(e)) return {*c, *c};
    if (e.as<VarNode>()) {
      auto it = vars.find(e.get());
      return it == vars.end() ? Interval{} : it->second;
    }
    if (const Cast* c = e.as<Cast>()) return isFloat(c->a.type()) ? Interval{} : of(c->a);
    if (const Select* s = e.as<Select>()) {
      Interval t = of(s->t), f = of(s->f);
      return {std::min(t.lo, f.lo), std::max(t.hi, f.hi)};
    }
    const Binary* b = e.as<Binary>();
    if (!b || isComparison(b->op)) return {};
    Interval x = of(b->a), y = of(b->b);
    // min/max bound one side even when the other operand is unbounded (a clamp).
    if (b->op == BinOp::Min) return {std::min(x.lo, y.lo), std::min(x.hi, y.hi)};
    if (b->op == BinOp::Max) return {std::max(x.lo, y.lo), std::max(x.hi, y.hi)};
    if (!x.bounded() || !y.bounded()) return {};
    switch (b->op) {
      case BinOp::Add:
        return {x.lo + y.lo, x.hi + y.hi};
      case BinOp::Sub:
        return {x.lo - y.hi, x.hi - y.lo};
      case BinOp::Mul: {
        int64_t c[4] = {x.lo * y.lo, x.lo * y.hi, x.hi * y.lo, x.hi * y.hi};
        return {*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
      }
      case BinOp::Div:
        if (y.lo == y.hi && y.lo > 0) return {floorDiv(x.lo, y.lo), floorDiv(x.hi, y.lo)};
        return {};
      case BinOp::Mod:
        if (y.lo == y.hi && y.lo > 0) {
          if (x.lo >= 0 && x.hi < y.lo) return x;
          return {0, y.lo - 1};
        }
        return {};
      case BinOp::Min:
        return {std::min(x.lo, y.lo), std::min(x.hi, y.hi)};
      case BinOp::Max:
        return {std::max(x.lo, y.lo), std::max(x.hi, y.hi)};
      default:
        return {};
    }
  }
};

class CheckReads : public IRVisitor {
 public:
  CheckReads(const IntervalOf& iv, std::map<const te::TensorNode*, std::vector<Interval>>& regions,
             const std::string& stage)
      : iv_(iv), regions_(regions), stage_(stage) {}
  using IRVisitor::visit;
  void visit(const TensorRead* op) override {
    IRVisitor::visit(op);
    auto& region = regions_[op->tensor.get()];
    if (region.empty()) region.assign(op->indices.size(), Interval{kInf, -kInf});
    for (size_t d = 0; d < op->indices.size(); ++d) {
      Interval r = iv_.of(op->indices[d]);
      int64_t extent = op->tensor->shape[d];
      if (!r.bounded())
        throw Error("bound inference: stage '" + stage_ + "' reads '" + op->tensor->name +
                    "' along dimension " + std::to_string(d) + " at index " +
                    printExpr(op->indices[d]) + ", whose range cannot be bounded; clamp the index");
      if (r.lo < 0 || r.hi >= extent)
        throw Error("bound inference: stage '" + stage_ + "' reads '" + op->tensor->name +
                    "' out of bounds: dimension " + std::to_string(d) + " index " +
                    printExpr(op->indices[d]) + " spans [" + std::to_string(r.lo) + ", " +
                    std::to_string(r.hi) + "] but the extent is " + std::to_string(extent));
      region[d].lo = std::min(region[d].lo, r.lo);
      region[d].hi = std::max(region[d].hi, r.hi);
    }
  }

 private:
  const IntervalOf& iv_;
  std::map<const te::TensorNode*, std::vector<Interval>>& regions_;
  const std::string& stage_;
};

}  // namespace

std::string inferBounds(const schedule::Schedule& sch, const StageBodies& bodies) {
  std::map<const te::TensorNode*, std::vector<Interval>> regions;
  std::vector<const te::TensorNode*> order;
  for (const schedule::Stage& st : sch.stages()) {
    auto it = bodies.find(st.tensor().get());
    if (it == bodies.end()) continue;  // inlined: checked where it is used
    IntervalOf iv;
    for (const te::IterVar& a : st.axes()) iv.vars[a.var.get()] = {0, a.extent - 1};
    for (const te::IterVar& a : st.reduceAxes()) iv.vars[a.var.get()] = {0, a.extent - 1};
    CheckReads check(iv, regions, st.tensor()->name);
    check.visitExpr(it->second);
  }
  std::ostringstream os;
  for (const Tensor& t : te::postOrder(sch.outputs())) {
    auto it = regions.find(t.get());
    if (it == regions.end()) continue;
    os << "  " << t->name << " read over ";
    for (size_t d = 0; d < it->second.size(); ++d)
      os << (d ? " x " : "") << "[" << it->second[d].lo << ", " << it->second[d].hi << "]";
    os << " of " << shapeStr(t->shape) << "\n";
  }
  return os.str();
}

}  // namespace kiln::tir
