// compute_inline: a stage marked inlined gets no loop nest of its own; every read of it in
// a consumer is replaced by its defining expression at the read's indices. This is how an
// elementwise epilogue (bias, activation, padding guard) fuses into the loop that uses it.
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

}  // namespace

StageBodies inlineStages(const schedule::Schedule& sch) {
  StageBodies bodies, inlined;
  for (const schedule::Stage& st :
       sch.stages()) {  // producers first: an inlined body is already expanded
    InlineReads m(inlined);
    Expr body = m.mutate(st.tensor()->op->body);
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
