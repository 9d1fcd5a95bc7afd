// Loop unrolling: a loop scheduled `unroll` with a constant extent becomes that many copies
// of its body, each with the loop variable replaced by its value; the simplifier then folds
// the constant indices. An unrolled loop whose extent is not constant, or too large to be
// worth copying, stays a serial loop.
#include "kiln/tir/ir_visitor.h"
#include "kiln/tir/passes.h"

namespace kiln::tir {

namespace {

constexpr int64_t kMaxUnroll = 64;

class Unroll : public IRMutator {
 public:
  using IRMutator::mutate;

 protected:
  using IRMutator::visit;
  Stmt visit(const For* op, const Stmt& s) override {
    Stmt body = mutate(op->body);
    const int64_t* ext = asConstInt(op->extent);
    if (op->forKind != ForKind::Unrolled)
      return body.same(op->body) ? s : For::make(op, op->min, op->extent, body);
    if (!ext || *ext > kMaxUnroll)
      return For::make(op->var, op->min, op->extent, ForKind::Serial, body);
    std::vector<Stmt> copies;
    for (int64_t i = 0; i < *ext; ++i)
      copies.push_back(substitute(body, {{op->var, op->min + Expr(i)}}));
    return Seq::make(copies);
  }
};

}  // namespace

Stmt unrollLoops(const Stmt& s) {
  Unroll u;
  return u.mutate(s);
}

}  // namespace kiln::tir
