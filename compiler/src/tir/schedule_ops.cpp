// Schedule -> loop nests: one nest per (non-inlined) stage, in producer-first order.
//
// Each stage's loops are emitted in the schedule's order and its axes are rebuilt from the
// loop variables by walking the split/fuse relations backwards (split: parent = outer *
// factor + inner; fuse: outer = fused / inner_extent, inner = fused % inner_extent). A
// split that does not divide its extent adds a guard. A reduction becomes an init nest
// (identity) placed just outside its outermost reduce loop, then the update nest
// out(i) = combine(out(i), source). Intermediate tensors are wrapped in a Realize.
// A compute_at stage is built inside its consumer's loop, over the region one iteration of
// that loop reads (region_inference.cpp), and realized there with storage for that region
// only. A stage in GPU "shared" memory is one copy per thread block: its region is what all
// the block's threads read in that iteration (the threadIdx loops around it are ranged too),
// and cooperative_copy.cpp later spreads its copy over those threads.
#include <functional>
#include <map>
#include <set>

#include "kiln/runtime/error.h"
#include "kiln/tir/ir_visitor.h"
#include "kiln/tir/passes.h"

namespace kiln::tir {

namespace {

using schedule::Loop;
using schedule::Stage;

// The value of every axis (and intermediate split/fuse variable) in terms of loop variables.
struct AxisValues {
  std::vector<std::pair<Var, Expr>> map;  // var -> expression in loop vars
  std::vector<Expr> guards;               // conditions from non-dividing splits
};

Expr lookup(const std::vector<std::pair<Var, Expr>>& m, const Var& v) {
  for (const auto& [k, e] : m)
    if (k.same(v)) return e;
  return v;  // a loop variable stands for itself
}

AxisValues axisValues(const Stage& st) {
  AxisValues av;
  std::set<const ExprNode*> reduceVars;
  for (const te::IterVar& a : st.reduceAxes()) reduceVars.insert(a.var.get());
  const auto& order = st.relationOrder();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    if (it->first) {
      const schedule::SplitRelation& s = st.splits()[it->second];
      Expr v = lookup(av.map, s.outer) * s.factor + lookup(av.map, s.inner);
      av.map.emplace_back(s.parent, v);
      if (s.parentExtent % s.factor != 0) av.guards.push_back(v < Expr(s.parentExtent));
    } else {
      const schedule::FuseRelation& f = st.fuses()[it->second];
      Expr fused = lookup(av.map, f.fused);
      av.map.emplace_back(f.outer, fused / f.innerExtent);
      av.map.emplace_back(f.inner, fused % f.innerExtent);
    }
  }
  return av;
}

// Is any variable of e one of the given loop variables?
class UsesVars : public IRVisitor {
 public:
  explicit UsesVars(const std::set<const ExprNode*>& vars) : vars_(vars) {}
  bool found = false;
  using IRVisitor::visit;
  void visit(const VarNode* op) override { found = found || vars_.count(op); }

 private:
  const std::set<const ExprNode*>& vars_;
};

// What to wrap around the body of a loop: the compute_at producers of that iteration.
using Wrappers = std::map<const ExprNode*, std::vector<std::function<Stmt(Stmt)>>>;

// Loops around body, outermost first, each loop's body wrapped by its wrappers.
Stmt wrapLoops(const std::vector<Loop>& loops, Stmt body, const Wrappers& wrappers = {}) {
  for (auto it = loops.rbegin(); it != loops.rend(); ++it) {
    if (auto w = wrappers.find(it->var.get()); w != wrappers.end())
      for (auto f = w->second.rbegin(); f != w->second.rend(); ++f) body = (*f)(body);
    body = For::make(it->var, 0, it->extent, it->kind, body, it->threadTag);
  }
  return body;
}

Stmt guarded(const std::vector<Expr>& guards, Stmt body) {
  if (guards.empty()) return body;
  Expr c = guards[0];
  for (size_t i = 1; i < guards.size(); ++i) c = c && guards[i];
  return IfThenElse::make(c, body);
}

// Does e read tensor t?
class ReadsTensor : public IRVisitor {
 public:
  explicit ReadsTensor(const te::TensorNode* t) : t_(t) {}
  bool found = false;
  using IRVisitor::visit;
  void visit(const TensorRead* op) override {
    found = found || op->tensor.get() == t_;
    IRVisitor::visit(op);
  }

 private:
  const te::TensorNode* t_;
};

class NestBuilder {
 public:
  NestBuilder(const schedule::Schedule& sch, const StageBodies& bodies)
      : sch_(sch), bodies_(bodies) {}

  // The nest of one stage: over its whole shape (region == nullptr) or over a region of it.
  Stmt build(const Stage& st, const Region* region) {
    const Expr& rawBody = bodies_.at(st.tensor().get());
    AxisValues av = axisValues(st);
    std::vector<Loop> loops = st.loops();
    std::vector<Var> scheduledVars;  // what compute_at names the loops by
    for (const Loop& l : loops) scheduledVars.push_back(l.var);
    if (region) {  // an attached stage has no splits or fuses: loop d is axis d
      for (Loop& l : loops)
        for (size_t d = 0; d < st.axes().size(); ++d)
          if (l.var.same(st.axes()[d].var)) {
            Var r = te::makeVar(st.axes()[d].name() + ".r");
            av.map.emplace_back(st.axes()[d].var, region->min[d] + r);
            l.var = r;
            l.extent = region->extent[d];
          }
    }
    const Tensor& t = st.tensor();
    std::vector<Expr> idx;
    for (const te::IterVar& a : st.axes()) idx.push_back(lookup(av.map, a.var));
    const Reduce* red = rawBody.as<Reduce>();
    // What this stage reads, in terms of its loop variables (for its producers' regions).
    Expr reads = substitute(red ? red->source : rawBody, av.map);
    Wrappers prepend = attachedNests(st, loops, scheduledVars, reads);

    if (st.tensorized()) return tensorized(st, loops, av, idx, reads, prepend);
    if (!red) {
      Stmt body = guarded(av.guards, Provide::make(t, idx, reads));
      return wrapLoops(loops, body, prepend);
    }
    // A guard that mentions a reduce loop belongs to the update only.
    std::set<const ExprNode*> reduceLoopVars;
    for (const Loop& l : loops)
      if (l.isReduce) reduceLoopVars.insert(l.var.get());
    std::vector<Expr> spatialGuards;
    for (const Expr& g : av.guards) {
      UsesVars u(reduceLoopVars);
      u.visitExpr(g);
      if (!u.found) spatialGuards.push_back(g);
    }
    Stmt init =
        guarded(spatialGuards, Provide::make(t, idx, reduceIdentity(red->combiner, t->dtype)));
    Stmt update = guarded(
        av.guards,
        Provide::make(t, idx, reduceCombine(red->combiner, TensorRead::make(t, idx), reads)));
    size_t firstReduce = 0;
    while (firstReduce < loops.size() && !loops[firstReduce].isReduce) ++firstReduce;
    std::vector<Loop> outer(loops.begin(), loops.begin() + static_cast<long>(firstReduce));
    std::vector<Loop> inner(loops.begin() + static_cast<long>(firstReduce), loops.end());
    std::vector<Loop> innerSpatial;
    for (const Loop& l : inner)
      if (!l.isReduce) innerSpatial.push_back(l);
    return wrapLoops(outer,
                     Seq::make({wrapLoops(innerSpatial, init), wrapLoops(inner, update, prepend)}),
                     prepend);
  }

 private:
  // A tensorized stage: its loops from the tensorize loop inwards are one intrinsic call (a
  // reduction's initialization, the intrinsic's reset call).
  Stmt tensorized(const Stage& st, const std::vector<Loop>& loops, const AxisValues& av,
                  const std::vector<Expr>& idx, const Expr& reads, const Wrappers& prepend) {
    size_t first = loops.size();
    for (size_t i = 0; i < loops.size(); ++i)
      if (st.loops()[i].var.same(st.tensorizeLoop())) first = i;
    if (!av.guards.empty())
      throw Error("schedule: tensorize of stage '" + st.tensor()->name +
                  "' needs splits that divide their loops");
    for (size_t i = first; i < loops.size(); ++i)
      if (prepend.count(loops[i].var.get()))
        throw Error("schedule: a stage is computed at loop " + loops[i].var.as<VarNode>()->name +
                    " of '" + st.tensor()->name + "', which is tensorized");
    std::vector<Loop> outer(loops.begin(), loops.begin() + static_cast<long>(first));
    Stmt call = tensorizeCall(st, loops, first, idx, reads, false);
    if (!st.body().as<Reduce>()) return wrapLoops(outer, call, prepend);
    Stmt reset = tensorizeCall(st, loops, first, idx, reads, true);
    size_t firstReduce = 0;
    while (firstReduce < outer.size() && !outer[firstReduce].isReduce) ++firstReduce;
    std::vector<Loop> before(outer.begin(), outer.begin() + static_cast<long>(firstReduce));
    std::vector<Loop> inner(outer.begin() + static_cast<long>(firstReduce), outer.end());
    std::vector<Loop> innerSpatial;
    for (const Loop& l : inner)
      if (!l.isReduce) innerSpatial.push_back(l);
    return wrapLoops(before,
                     Seq::make({wrapLoops(innerSpatial, reset), wrapLoops(inner, call, prepend)}),
                     prepend);
  }

  // The nests of the stages computed at one of st's loops, keyed by that loop's variable.
  // The stages computed at one of st's loops, keyed by that loop's variable: each iteration
  // realizes the region it reads (private storage, so parallel iterations never share it),
  // computes it, then runs the rest of the loop body.
  Wrappers attachedNests(const Stage& st, const std::vector<Loop>& loops,
                         const std::vector<Var>& scheduledVars, const Expr& reads) {
    Wrappers prepend;
    std::vector<const Stage*> children;
    for (const Stage& child : sch_.stages())
      if (child.attachedTo() == st.tensor()) children.push_back(&child);
    // Regions consumers first: a child read by a sibling computed at the same loop or inside
    // it (an elementwise chain in an accelerator's buffer, constants loaded per tile of
    // channels) covers what that sibling's region reads while the loops between run.
    std::map<const Stage*, Region> regions;
    std::map<const Stage*, size_t> positions;
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      const Stage& child = **it;
      size_t pos = loops.size();
      for (size_t i = 0; i < scheduledVars.size(); ++i)
        if (scheduledVars[i].same(child.attachLoop())) pos = i;
      if (pos == loops.size())
        throw Error("schedule: stage '" + child.tensor()->name + "' is computed at a loop of '" +
                    st.tensor()->name + "' that no longer exists (split or fused afterwards)");
      positions[&child] = pos;
      std::map<const ExprNode*, int64_t> ranged;
      for (size_t i = pos + 1; i < loops.size(); ++i) ranged[loops[i].var.get()] = loops[i].extent;
      if (child.tensor()->scope == "shared") {
        for (const Loop& l : threadLoops_) ranged[l.var.get()] = l.extent;
        for (size_t i = 0; i <= pos && i < loops.size(); ++i)
          if (isThreadIdx(loops[i])) ranged[loops[i].var.get()] = loops[i].extent;
      }
      std::vector<const Stage*> readers;
      ReadsTensor byParent(child.tensor().get());
      byParent.visitExpr(reads);
      if (byParent.found) readers.push_back(&st);
      for (const auto& [sib, region] : regions) {
        ReadsTensor r(child.tensor().get());
        r.visitExpr(bodies_.at(sib->tensor().get()));
        if (r.found) readers.push_back(sib);
      }
      if (readers.size() != 1)
        throw Error("schedule: stage '" + child.tensor()->name + "', computed at a loop of '" +
                    st.tensor()->name + "', is read by " + std::to_string(readers.size()) +
                    " stages there; it needs exactly one");
      if (readers[0] == &st) {
        regions[&child] = inferRegion(child.tensor(), reads, ranged);
        continue;
      }
      // The sibling's reads over its own region.
      const Stage& sib = *readers[0];
      if (positions.at(&sib) < pos)
        throw Error("schedule: stage '" + child.tensor()->name +
                    "' is computed inside the loop "
                    "of '" +
                    st.tensor()->name + "' where '" + sib.tensor()->name +
                    "', which reads it, is computed; compute it at that loop or outside");
      const Region& sr = regions.at(&sib);
      std::vector<std::pair<Var, Expr>> map;
      for (size_t d = 0; d < sib.axes().size(); ++d) {
        Var r = te::makeVar(sib.axes()[d].name() + ".rr");
        map.emplace_back(sib.axes()[d].var, sr.min[d] + r);
        ranged[r.get()] = sr.extent[d];
      }
      for (const te::IterVar& a : sib.reduceAxes()) ranged[a.var.get()] = a.extent;
      Expr body = bodies_.at(sib.tensor().get());
      if (const Reduce* red = body.as<Reduce>()) body = red->source;
      regions[&child] = inferRegion(child.tensor(), substitute(body, map), ranged);
    }
    for (const Stage* c : children) {
      const Region& r = regions.at(c);
      // The child's own children see the threadIdx loops around it.
      const size_t saved = threadLoops_.size();
      for (size_t i = 0; i <= positions.at(c) && i < loops.size(); ++i)
        if (isThreadIdx(loops[i])) threadLoops_.push_back(loops[i]);
      Stmt nest = build(*c, &r);
      threadLoops_.resize(saved);
      Tensor t = c->tensor();
      prepend[loops[positions.at(c)].var.get()].push_back([t, r, nest](Stmt body) {
        return Realize::make(t, Seq::make({nest, body}), r.min, r.extent);
      });
    }
    return prepend;
  }

  static bool isThreadIdx(const Loop& l) {
    return l.kind == ForKind::ThreadBinding && l.threadTag.rfind("threadIdx", 0) == 0;
  }

  const schedule::Schedule& sch_;
  const StageBodies& bodies_;
  // The threadIdx-bound loops of the consumers around the stage being built.
  std::vector<Loop> threadLoops_;
};

}  // namespace

Stmt scheduleOps(const schedule::Schedule& sch, const StageBodies& bodies) {
  // A stage computed at a loop of its consumer must be read by that consumer alone.
  for (const Stage& st : sch.stages()) {
    if (!st.attachedTo()) continue;
    if (!bodies.count(st.attachedTo().get()))
      throw Error("schedule: stage '" + st.tensor()->name + "' is computed at a loop of '" +
                  st.attachedTo()->name + "', which is inlined or not in this schedule");
    for (const Tensor& o : sch.outputs())
      if (o == st.tensor())
        throw Error("schedule: output '" + o->name +
                    "' cannot be computed at another stage's loop");
    for (const auto& [tensor, body] : bodies) {
      if (tensor == st.attachedTo().get()) continue;
      bool sibling = false;  // computed at the same consumer: checked when regions are inferred
      for (const Stage& o : sch.stages())
        sibling = sibling || (o.tensor().get() == tensor && o.attachedTo() == st.attachedTo());
      if (sibling) continue;
      ReadsTensor r(st.tensor().get());
      r.visitExpr(body);
      if (r.found)
        throw Error("schedule: stage '" + st.tensor()->name + "' is computed at a loop of '" +
                    st.attachedTo()->name + "' but '" + tensor->name +
                    "' reads it too; compute it at the root instead");
    }
  }
  NestBuilder builder(sch, bodies);
  std::vector<Stmt> nests;
  std::vector<Tensor> intermediates;
  for (const Stage& st : sch.stages()) {
    if (!bodies.count(st.tensor().get())) continue;  // inlined
    if (st.attachedTo()) continue;  // built and realized inside its consumer's loop
    nests.push_back(builder.build(st, nullptr));
    bool isOutput = false;
    for (const Tensor& o : sch.outputs()) isOutput = isOutput || o == st.tensor();
    if (!isOutput) intermediates.push_back(st.tensor());
  }
  Stmt body = Seq::make(nests);
  for (auto it = intermediates.rbegin(); it != intermediates.rend(); ++it)
    body = Realize::make(*it, body);
  return body;
}

}  // namespace kiln::tir
