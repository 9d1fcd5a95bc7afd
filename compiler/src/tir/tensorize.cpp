// Tensorize: the innermost loops of a stage become one call of a tensor intrinsic, after a
// check that they compute what the intrinsic's definition computes (see
// schedule/tensor_intrin.h).
//
// The check walks the stage's expression and the definition's side by side: the same
// operators, casts, constants and intrinsic calls, and for every read a matching read whose
// indices move with the tensorized loops exactly as the definition's move with its axes
// (each dimension of the definition's operand follows one dimension of the stage's tensor
// step for step, in the same order, and every other dimension stays put). It samples the loops at
// zero, at one and at their last value, so an index that strides, skips or reverses is refused.
#include <set>
#include <sstream>

#include "kiln/runtime/error.h"
#include "kiln/tir/eval.h"
#include "kiln/tir/ir_visitor.h"
#include "kiln/tir/passes.h"
#include "kiln/tir/printer.h"

namespace kiln::tir {

namespace {

using schedule::Loop;

class Matcher {
 public:
  Matcher(std::vector<Var> loopVars, std::vector<Var> axisVars, std::vector<int64_t> extents)
      : loopVars_(std::move(loopVars)),
        axisVars_(std::move(axisVars)),
        extents_(std::move(extents)) {
    // Sample points: all zero, each loop at 1 and at its last value, all at their last value.
    const size_t n = extents_.size();
    samples_.push_back(std::vector<int64_t>(n, 0));
    for (size_t j = 0; j < n; ++j) {
      for (int64_t v : {int64_t{1}, extents_[j] - 1}) {
        if (v <= 0) continue;
        std::vector<int64_t> s(n, 0);
        s[j] = v;
        samples_.push_back(s);
      }
    }
    std::vector<int64_t> last;
    for (int64_t e : extents_) last.push_back(e - 1);
    samples_.push_back(last);
  }

  // placeholder of the definition -> the stage's read matched to it (first occurrence)
  std::vector<std::pair<const te::TensorNode*, Expr>> reads;
  std::string why;

  bool match(const Expr& s, const Expr& d) {
    if (s->kind != d->kind || s.type() != d.type()) return fail(s, d, "differ");
    if (const int64_t* a = te::asConstInt(s)) {
      if (*a != *te::asConstInt(d)) return fail(s, d, "are different constants");
      return true;
    }
    if (const te::FloatImm* a = s.as<te::FloatImm>()) {
      if (a->value != d.as<te::FloatImm>()->value) return fail(s, d, "are different constants");
      return true;
    }
    if (s.as<te::VarNode>()) return fail(s, d, "differ (a variable outside an index)");
    if (const te::Binary* a = s.as<te::Binary>()) {
      const te::Binary* b = d.as<te::Binary>();
      return (a->op == b->op || fail(s, d, "use different operators")) && match(a->a, b->a) &&
             match(a->b, b->b);
    }
    if (const te::Cast* a = s.as<te::Cast>()) return match(a->a, d.as<te::Cast>()->a);
    if (const te::Not* a = s.as<te::Not>()) return match(a->a, d.as<te::Not>()->a);
    if (const te::Select* a = s.as<te::Select>()) {
      const te::Select* b = d.as<te::Select>();
      return match(a->cond, b->cond) && match(a->t, b->t) && match(a->f, b->f);
    }
    if (const te::Call* a = s.as<te::Call>()) {
      const te::Call* b = d.as<te::Call>();
      if (a->name != b->name || a->args.size() != b->args.size())
        return fail(s, d, "call different functions");
      for (size_t i = 0; i < a->args.size(); ++i)
        if (!match(a->args[i], b->args[i])) return false;
      return true;
    }
    if (const te::TensorRead* a = s.as<te::TensorRead>())
      return matchRead(s, a, d.as<te::TensorRead>());
    return fail(s, d, "cannot be compared");
  }

 private:
  bool fail(const Expr& s, const Expr& d, const char* what) {
    if (why.empty()) why = printExpr(s) + " and the intrinsic's " + printExpr(d) + " " + what;
    return false;
  }

  // Offsets of the indices at a sample from their values at zero.
  std::vector<int64_t> deltas(const std::vector<Expr>& idx, const std::vector<Var>& vars,
                              const std::vector<int64_t>& sample, bool& ok) {
    VarValues at, zero;
    for (size_t j = 0; j < vars.size(); ++j) {
      at[vars[j].get()] = sample[j];
      zero[vars[j].get()] = 0;
    }
    std::vector<int64_t> r;
    for (const Expr& i : idx) {
      auto a = evalInt(i, at, true), z = evalInt(i, zero, true);
      if (!a || !z) {
        ok = false;
        return r;
      }
      r.push_back(*a - *z);
    }
    return r;
  }

  bool matchRead(const Expr& s, const te::TensorRead* a, const te::TensorRead* b) {
    const te::TensorNode* p = b->tensor.get();
    bool known = false;
    for (const auto& [ph, e] : reads)
      if (ph == p) {
        known = true;
        if (e.as<te::TensorRead>()->tensor != a->tensor) {
          why = printExpr(s) + " reads another tensor where the intrinsic reads '" +
                b->tensor->name + "' again";
          return false;
        }
      }
    // Which dimension of the stage's tensor each of the definition's dimensions follows.
    std::vector<std::vector<int64_t>> ds, dd;
    for (const auto& sample : samples_) {
      bool ok = true;
      ds.push_back(deltas(a->indices, loopVars_, sample, ok));
      dd.push_back(deltas(b->indices, axisVars_, sample, ok));
      if (!ok) {
        why = "the index of " + printExpr(s) + " is not an integer expression of the loops";
        return false;
      }
    }
    // In order: the definition's dimensions follow the stage's in the same order, so the
    // region has the layout the intrinsic expects.
    std::set<size_t> used;
    size_t next = 0;
    for (size_t d = 0; d < b->indices.size(); ++d) {
      bool found = false;
      for (size_t e = next; e < a->indices.size() && !found; ++e) {
        bool same = true;
        for (size_t k = 0; k < samples_.size(); ++k) same = same && ds[k][e] == dd[k][d];
        if (same) {
          found = true;
          used.insert(e);
          next = e + 1;
        }
      }
      if (!found) {
        why = printExpr(s) + " does not move with the loops as the intrinsic's read of '" +
              b->tensor->name + "' does (dimension " + std::to_string(d) + ")";
        return false;
      }
    }
    for (size_t e = 0; e < a->indices.size(); ++e)
      for (size_t k = 0; k < samples_.size() && !used.count(e); ++k)
        if (ds[k][e] != 0) {
          why = printExpr(s) + " moves along dimension " + std::to_string(e) +
                " where the intrinsic's read of '" + b->tensor->name + "' does not";
          return false;
        }
    if (!known) reads.emplace_back(p, Expr(std::make_shared<te::TensorRead>(*a)));
    return true;
  }

  std::vector<Var> loopVars_, axisVars_;
  std::vector<int64_t> extents_;
  std::vector<std::vector<int64_t>> samples_;
};

Expr atZero(const Expr& e, const std::vector<Var>& vars) {
  std::vector<std::pair<Var, Expr>> map;
  for (const Var& v : vars) map.emplace_back(v, Expr(0));
  return simplify(substitute(e, map));
}

}  // namespace

Stmt tensorizeCall(const schedule::Stage& st, const std::vector<Loop>& loops, size_t first,
                   const std::vector<Expr>& outIdx, const Expr& body, bool reset) {
  const schedule::TensorIntrin& in = *st.tensorized();
  const Tensor& def = in.definition;
  const std::string where = "tensorize of stage '" + st.tensor()->name + "' onto '" + in.name + "'";
  const te::Reduce* dred = def->op->body.as<te::Reduce>();
  std::vector<te::IterVar> daxes = def->op->axes;
  if (dred) daxes.insert(daxes.end(), dred->axes.begin(), dred->axes.end());
  std::vector<Var> loopVars, axisVars;
  std::vector<int64_t> extents;
  if (loops.size() - first != daxes.size())
    throw Error(where + ": " + std::to_string(loops.size() - first) +
                " loops from the tensorized one inwards, but the intrinsic has " +
                std::to_string(daxes.size()) + " axes");
  for (size_t j = 0; j < daxes.size(); ++j) {
    const Loop& l = loops[first + j];
    const bool axisReduce = j >= def->op->axes.size();
    if (l.extent != daxes[j].extent || l.isReduce != axisReduce)
      throw Error(where + ": loop " + l.var.as<te::VarNode>()->name + " runs " +
                  std::to_string(l.extent) + (l.isReduce ? " reduce" : " spatial") +
                  " iterations where the intrinsic's axis " + daxes[j].name() + " runs " +
                  std::to_string(daxes[j].extent) + (axisReduce ? " reduce" : " spatial"));
    loopVars.push_back(l.var);
    axisVars.push_back(daxes[j].var);
    extents.push_back(l.extent);
  }
  const te::Reduce* sred = st.body().as<te::Reduce>();
  if (!sred != !dred || (sred && sred->combiner != dred->combiner))
    throw Error(where + ": the stage and the intrinsic reduce differently");
  Matcher m(loopVars, axisVars, extents);
  // The output: the stage writes its tensor at outIdx, the definition at its axes.
  std::vector<Expr> defIdx;
  for (const te::IterVar& a : def->op->axes) defIdx.push_back(a.var);
  if (!m.match(TensorRead::make(st.tensor(), outIdx), TensorRead::make(def, defIdx)))
    throw Error(where + ": the output " + m.why);
  std::vector<Expr> args{atZero(TensorRead::make(st.tensor(), outIdx), loopVars)};
  if (reset) {
    if (in.resetName.empty())
      throw Error(where + ": the stage is a reduction but the intrinsic has no reset call");
    return Evaluate::make(Expr(std::make_shared<te::Call>(DType::I32, in.resetName, args)));
  }
  m.reads.clear();
  if (!m.match(body, dred ? dred->source : def->op->body))
    throw Error(where + ": the stage does not compute what the intrinsic does: " + m.why);
  for (const Tensor& input : def->op->inputs) {
    bool found = false;
    for (const auto& [p, e] : m.reads)
      if (p == input.get()) {
        args.push_back(atZero(e, loopVars));
        found = true;
      }
    if (!found) throw Error(where + ": the stage never reads the intrinsic's input " + input->name);
  }
  for (const Expr& s : in.scalars) args.push_back(s);
  return Evaluate::make(Expr(std::make_shared<te::Call>(DType::I32, in.name, args)));
}

}  // namespace kiln::tir
