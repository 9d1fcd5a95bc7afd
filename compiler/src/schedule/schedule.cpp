// Schedule primitives: they rewrite a stage's list of loops and record how each new loop
// variable relates to the axes of the definition; lowering (schedule_ops) turns that
// record back into index expressions.
#include "kiln/schedule/schedule.h"

#include <algorithm>

#include "kiln/runtime/error.h"

namespace kiln::schedule {

using tir::ForKind;

namespace {
const std::string& varName(const Var& v) {
  return v.as<te::VarNode>()->name;
}
}  // namespace

Stage::Stage(Tensor t) : tensor_(std::move(t)) {
  if (!tensor_->op)
    throw Error("schedule: '" + tensor_->name + "' is a placeholder; it has no stage");
  axes_ = tensor_->op->axes;
  body_ = tensor_->op->body;
  if (const te::Reduce* r = tensor_->op->body.as<te::Reduce>()) reduceAxes_ = r->axes;
  for (const IterVar& a : axes_) loops_.push_back(Loop{a.var, a.extent, ForKind::Serial, false});
  for (const IterVar& a : reduceAxes_)
    loops_.push_back(Loop{a.var, a.extent, ForKind::Serial, true});
}

Var Stage::axis(size_t i) const {
  if (i >= axes_.size())
    throw Error("schedule: stage '" + tensor_->name + "' has " + std::to_string(axes_.size()) +
                " axes, asked for axis " + std::to_string(i));
  return axes_[i].var;
}

Var Stage::reduceAxis(size_t i) const {
  if (i >= reduceAxes_.size())
    throw Error("schedule: stage '" + tensor_->name + "' has " +
                std::to_string(reduceAxes_.size()) + " reduce axes, asked for reduce axis " +
                std::to_string(i));
  return reduceAxes_[i].var;
}

size_t Stage::loopIndex(const Var& v) const {
  for (size_t i = 0; i < loops_.size(); ++i)
    if (loops_[i].var.same(v)) return i;
  throw Error("schedule: '" + (v.as<te::VarNode>() ? varName(v) : std::string("?")) +
              "' is not a loop of stage '" + tensor_->name +
              "' (it may have been split or fused already)");
}

void Stage::checkNotAttached(const char* primitive) const {
  if (attachTo_)
    throw Error(std::string("schedule: ") + primitive + " of stage '" + tensor_->name +
                "', which is computed at a loop, is not supported yet");
}

void Stage::checkNotBound(const Var& v, const char* primitive) const {
  const Loop& l = loops_[loopIndex(v)];
  if (l.kind == ForKind::ThreadBinding)
    throw Error(std::string("schedule: ") + primitive + " of loop '" + varName(v) + "' of stage '" +
                tensor_->name + "', which is bound to " + l.threadTag +
                "; split and fuse first, then bind");
}

std::pair<Var, Var> Stage::split(const Var& v, int64_t factor) {
  checkNotBound(v, "split");
  size_t i = loopIndex(v);
  // An attached stage's spatial loops run over the region its consumer needs; only its
  // reduce loops keep their own extents and may be split.
  if (!loops_[i].isReduce) checkNotAttached("split of a spatial loop");
  if (factor <= 0)
    throw Error("schedule: split of '" + varName(v) + "' by non-positive factor " +
                std::to_string(factor));
  Loop l = loops_[i];
  Var outer = te::makeVar(varName(v) + ".o"), inner = te::makeVar(varName(v) + ".i");
  int64_t f = std::min(factor, l.extent);
  Loop lo{outer, (l.extent + f - 1) / f, l.kind, l.isReduce};
  Loop li{inner, f, ForKind::Serial, l.isReduce};
  loops_[i] = lo;
  loops_.insert(loops_.begin() + static_cast<long>(i) + 1, li);
  splits_.push_back(SplitRelation{v, outer, inner, f, l.extent});
  order_.emplace_back(true, splits_.size() - 1);
  return {outer, inner};
}

Var Stage::fuse(const Var& outer, const Var& inner) {
  checkNotAttached("fuse");
  checkNotBound(outer, "fuse");
  checkNotBound(inner, "fuse");
  size_t i = loopIndex(outer), j = loopIndex(inner);
  if (j != i + 1)
    throw Error("schedule: fuse needs adjacent loops, outer first; '" + varName(outer) + "' and '" +
                varName(inner) + "' of stage '" + tensor_->name + "' are not");
  if (loops_[i].isReduce != loops_[j].isReduce)
    throw Error("schedule: cannot fuse spatial and reduce loops ('" + varName(outer) + "', '" +
                varName(inner) + "')");
  // "conv.i0" fused with "conv.i1" is "conv.i0_i1".
  const std::string& in = varName(inner);
  Var fused = te::makeVar(varName(outer) + "_" + in.substr(in.rfind('.') + 1));
  Loop l{fused, loops_[i].extent * loops_[j].extent, loops_[i].kind, loops_[i].isReduce};
  fuses_.push_back(FuseRelation{outer, inner, fused, loops_[j].extent});
  order_.emplace_back(false, fuses_.size() - 1);
  loops_[i] = l;
  loops_.erase(loops_.begin() + static_cast<long>(j));
  return fused;
}

Var Stage::fuse(const std::vector<Var>& vars) {
  if (vars.empty()) throw Error("schedule: fuse of no loops");
  Var f = vars[0];
  for (size_t k = 1; k < vars.size(); ++k) f = fuse(f, vars[k]);
  return f;
}

void Stage::reorder(const std::vector<Var>& order) {
  std::vector<size_t> pos;
  for (const Var& v : order) pos.push_back(loopIndex(v));
  std::vector<size_t> sorted = pos;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw Error("schedule: reorder of stage '" + tensor_->name + "' names a loop twice");
  std::vector<Loop> picked;
  for (size_t p : pos) picked.push_back(loops_[p]);
  for (size_t k = 0; k < sorted.size(); ++k) loops_[sorted[k]] = picked[k];
}

std::vector<Var> Stage::tile(const Var& x, const Var& y, int64_t fx, int64_t fy) {
  auto [xo, xi] = split(x, fx);
  auto [yo, yi] = split(y, fy);
  reorder({xo, yo, xi, yi});
  return {xo, yo, xi, yi};
}

void Stage::setKind(const Var& v, ForKind k) {
  Loop& l = loops_[loopIndex(v)];
  l.kind = k;
  l.threadTag.clear();
}

void Stage::vectorize(const Var& v) {
  checkNotBound(v, "vectorize");
  setKind(v, ForKind::Vectorized);
}
void Stage::unroll(const Var& v) {
  checkNotBound(v, "unroll");
  setKind(v, ForKind::Unrolled);
}
void Stage::parallel(const Var& v) {
  checkNotBound(v, "parallel");
  if (loops_[loopIndex(v)].isReduce)
    throw Error("schedule: cannot run reduce loop '" + varName(v) + "' of stage '" + tensor_->name +
                "' in parallel (its iterations update the same element)");
  setKind(v, ForKind::Parallel);
}

void Stage::computeInline() {
  if (!reduceAxes_.empty())
    throw Error("schedule: stage '" + tensor_->name +
                "' is a reduction and cannot be inlined into its consumers");
  if (attachTo_)
    throw Error("schedule: stage '" + tensor_->name +
                "' is computed at a loop; it cannot also be inlined");
  inlined_ = true;
}

void Stage::computeAt(Stage& parent, const Var& v) {
  if (&parent == this)
    throw Error("schedule: stage '" + tensor_->name + "' cannot be computed at itself");
  parent.loopIndex(v);  // v must be one of the consumer's loops
  bool spatialSplit = !fuses_.empty();
  for (const SplitRelation& s : splits_)
    for (const IterVar& a : axes_) spatialSplit = spatialSplit || a.var.same(s.parent);
  if (spatialSplit)
    throw Error("schedule: compute_at of stage '" + tensor_->name +
                "', whose spatial loops are split or fused, is not supported yet; split only "
                "its reduce loops");
  if (inlined_)
    throw Error("schedule: stage '" + tensor_->name +
                "' is inlined; it cannot also be computed at a loop");
  attachTo_ = parent.tensor();
  attachVar_ = v;
}
void Stage::bind(const Var& v, const std::string& thread) {
  Loop& l = loops_[loopIndex(v)];
  if (!tir::isThreadTag(thread))
    throw Error("schedule: bind('" + varName(v) + "', '" + thread + "') of stage '" +
                tensor_->name +
                "': unknown thread tag (use blockIdx.x/y/z, threadIdx.x/y/z or fragment)");
  if (l.isReduce)
    throw Error("schedule: cannot bind reduce loop '" + varName(v) + "' of stage '" +
                tensor_->name + "' to " + thread +
                " (its iterations update the same element); bind a spatial loop");
  for (const Loop& o : loops_)
    if (o.kind == ForKind::ThreadBinding && o.threadTag == thread && !o.var.same(v))
      throw Error("schedule: stage '" + tensor_->name + "' binds both '" + varName(o.var) +
                  "' and '" + varName(v) + "' to " + thread);
  l.kind = ForKind::ThreadBinding;
  l.threadTag = thread;
}
void Stage::tensorize(const Var& v, const TensorIntrin& intrin) {
  loopIndex(v);  // v must be one of this stage's loops
  if (!intrin.definition || !intrin.definition->op)
    throw Error("schedule: tensorize of stage '" + tensor_->name + "' onto '" + intrin.name +
                "': the intrinsic has no compute definition");
  if (inlined_)
    throw Error("schedule: stage '" + tensor_->name + "' is inlined; it cannot be tensorized");
  tensorized_ = true;
  intrin_ = intrin;
  tensorizeVar_ = v;
}

Schedule::Schedule(std::vector<Tensor> outputs) : outputs_(std::move(outputs)) {
  for (const Tensor& t : te::postOrder(outputs_))
    if (t->op) stages_.emplace_back(t);
}

Stage& Schedule::operator[](const Tensor& t) {
  for (Stage& s : stages_)
    if (s.tensor() == t) return s;
  throw Error("schedule: tensor '" + t->name + "' has no stage in this schedule");
}

void readsThroughInline(const Schedule& sch, const Tensor& t, std::vector<Tensor>* out) {
  for (const Tensor& in : t->op->inputs) {
    if (!in->op) continue;
    bool inlined = false;
    for (const Stage& s : sch.stages())
      if (s.tensor() == in) inlined = s.inlined();
    if (inlined)
      readsThroughInline(sch, in, out);
    else if (std::find(out->begin(), out->end(), in) == out->end())
      out->push_back(in);
  }
}

}  // namespace kiln::schedule
