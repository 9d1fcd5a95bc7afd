// cache_read and cache_write: copies of a tensor in another memory scope, as new stages.
//
// cacheRead(t, scope) adds a stage "<t>.<scope>" whose body is t[i] and redirects the reads
// the chosen readers make of t to it; attached to a reader's loop (computeAt), it copies
// just the region one iteration reads: the accelerator's loads of input and weight tiles
// into its on-chip buffers, a GPU's copy into shared memory.
//
// cacheWrite(t, scope) moves t's computation (reduction included) to a new stage
// "<t>.<scope>" that lives in `scope`, and turns t's stage into the copy t[i] = cache[i]:
// the accelerator accumulates in its acc buffer and stores tiles to DRAM.
#include <algorithm>

#include "kiln/runtime/error.h"
#include "kiln/schedule/schedule.h"
#include "kiln/tir/ir_visitor.h"

namespace kiln::schedule {

namespace {

class ReadsOf : public tir::IRVisitor {
 public:
  explicit ReadsOf(const te::TensorNode* t) : t_(t) {}
  bool found = false;
  using IRVisitor::visit;
  void visit(const te::TensorRead* op) override {
    found = found || op->tensor.get() == t_;
    IRVisitor::visit(op);
  }

 private:
  const te::TensorNode* t_;
};

// A copy of a computed tensor's node that lives in `scope`.
Tensor inScope(const Tensor& t, const std::string& scope) {
  auto n = std::make_shared<te::TensorNode>(*t);
  n->scope = scope;
  return n;
}

void checkScope(const std::string& scope, const char* primitive, const Tensor& t) {
  if (scope.empty())
    throw Error(std::string("schedule: ") + primitive + "('" + t->name +
                "') needs a memory scope name (such as \"accel.inp\")");
}

}  // namespace

Tensor Schedule::cacheRead(const Tensor& t, const std::string& scope,
                           const std::vector<Tensor>& readers) {
  checkScope(scope, "cache_read", t);
  // The stages that read t (after their own redirects), or the chosen ones.
  std::vector<size_t> readerIdx;
  for (size_t i = 0; i < stages_.size(); ++i) {
    Stage& st = stages_[i];
    bool chosen = readers.empty();
    for (const Tensor& r : readers) chosen = chosen || r == st.tensor();
    if (!chosen) continue;
    ReadsOf reads(t.get());
    reads.visitExpr(st.body());
    bool redirected = false;
    for (const auto& [from, to] : st.redirects_) redirected = redirected || from == t;
    if (reads.found && !redirected) readerIdx.push_back(i);
  }
  for (const Tensor& r : readers) {
    bool found = false;
    for (size_t i : readerIdx) found = found || stages_[i].tensor() == r;
    if (!found)
      throw Error("schedule: cache_read('" + t->name + "', " + scope + "): '" + r->name +
                  "' is not a stage of this schedule that reads it");
  }
  if (readerIdx.empty())
    throw Error("schedule: cache_read('" + t->name + "', " + scope +
                "): no stage of this schedule reads it");
  Tensor c = inScope(te::compute(
                         t->name + "." + scope, t->shape,
                         [&](const te::Indices& i) { return te::read(t, i); }, "cache_read"),
                     scope);
  for (size_t i : readerIdx) stages_[i].redirects_.emplace_back(t, c);
  stages_.insert(stages_.begin() + static_cast<long>(readerIdx.front()), Stage(c));
  return c;
}

Tensor Schedule::cacheWrite(const Tensor& t, const std::string& scope) {
  checkScope(scope, "cache_write", t);
  Stage& st = (*this)[t];
  if (!st.splits().empty() || !st.fuses().empty() || st.attachedTo() || st.inlined() ||
      st.tensorized())
    throw Error("schedule: cache_write('" + t->name + "', " + scope +
                "): the stage is already scheduled; call cache_write before other primitives");
  if (!st.body().same(t->op->body)) throw Error("schedule: cache_write('" + t->name + "') twice");
  // The cache computes t's definition at its own axes.
  Tensor c = inScope(te::compute(
                         t->name + "." + scope, t->shape,
                         [&](const te::Indices& i) {
                           std::vector<std::pair<Var, Expr>> map;
                           for (size_t d = 0; d < i.size(); ++d)
                             map.emplace_back(t->op->axes[d].var, i[d]);
                           return tir::substitute(t->op->body, map);
                         },
                         t->tag),
                     scope);
  std::vector<Expr> idx;
  for (const IterVar& a : st.axes_) idx.push_back(a.var);
  st.body_ = te::read(c, idx);
  st.reduceAxes_.clear();
  st.loops_.clear();
  for (const IterVar& a : st.axes_)
    st.loops_.push_back(Loop{a.var, a.extent, tir::ForKind::Serial, false, ""});
  auto it =
      std::find_if(stages_.begin(), stages_.end(), [&](const Stage& s) { return s.tensor() == t; });
  stages_.insert(it, Stage(c));
  return c;
}

}  // namespace kiln::schedule
