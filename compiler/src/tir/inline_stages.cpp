// compute_inline: a stage marked inlined gets no loop nest of its own; every read of it in
// a consumer is replaced by its defining expression at the read's indices. This is how an
// elementwise epilogue (bias, activation, padding guard) fuses into the loop that uses it.
// A stage's reads that cache_read redirected to a cache are redirected first, so a cache
// of an inlined producer copies the producer's expression (a padding guard included).
#include "kiln/runtime/error.h"
#include "kiln/tir/ir_visitor.h"
#include "kiln/tir/passes.h"

namespace kiln::tir {

namespace {

class InlineReads : public IRMutator {
 public:
  explicit InlineReads(const StageBodies& inlined) : inlined_(inlined) {}
  using IRMutator::mutate;

 protected:
  using IRMutator::visit;
  Expr visit(const TensorRead* op, const Expr& e) override {
    Expr read = IRMutator::visit(op, e);
    auto it = inlined_.find(op->tensor.get());
    if (it == inlined_.end()) return read;
    const TensorRead* r = read.as<TensorRead>();
    std::vector<std::pair<Var, Expr>> map;
    for (size_t d = 0; d < r->indices.size(); ++d)
      map.emplace_back(op->tensor->op->axes[d].var, r->indices[d]);
    return substitute(it->second, map);
  }

 private:
  const StageBodies& inlined_;
};

class Redirect : public IRMutator {
 public:
  explicit Redirect(const std::vector<std::pair<Tensor, Tensor>>& map) : map_(map) {}
  using IRMutator::mutate;

 protected:
  using IRMutator::visit;
  Expr visit(const TensorRead* op, const Expr& e) override {
    Expr read = IRMutator::visit(op, e);
    for (const auto& [from, to] : map_)
      if (from == op->tensor) return TensorRead::make(to, read.as<TensorRead>()->indices);
    return read;
  }

 private:
  const std::vector<std::pair<Tensor, Tensor>>& map_;
};

}  // namespace

StageBodies inlineStages(const schedule::Schedule& sch) {
  StageBodies bodies, inlined;
  for (const schedule::Stage& st :
       sch.stages()) {  // producers first: an inlined body is already expanded
    InlineReads m(inlined);
    Redirect r(st.readRedirects());
    Expr body = m.mutate(r.mutate(st.body()));
    if (st.inlined()) {
      for (const Tensor& out : sch.outputs())
        if (out == st.tensor())
          throw Error("schedule: output '" + out->name + "' cannot be computed inline");
      inlined[st.tensor().get()] = body;
    } else {
      bodies[st.tensor().get()] = body;
    }
  }
  return bodies;
}

}  // namespace kiln::tir
