// Vectorization: a loop scheduled `vectorize` with a constant extent becomes vector
// statements. Its variable becomes the ramp (min, min + 1, ...) and every expression that
// depends on it a vector of as many lanes; a value that does not depend on it stays a scalar
// and is broadcast where it meets a vector. Index arithmetic keeps ramps whole (ramp + x is
// a ramp with base + x, ramp * c one with stride * c), so a unit-stride access is a ramp of
// stride 1 that a code generator turns into one vector load or store; other accesses are
// gathers and scatters.
//
// Lanes come from the target: its vector register width over the widest element the loop
// stores (AVX-512: 16 floats, AVX2: 8, NEON: 4). A loop no longer than one register is one
// vector statement of its extent (the back end widens an odd count to a whole register, so a
// short row is one masked-width operation, not a vector loop plus a scalar remainder); up to
// four registers it is unrolled into whole registers and one partial register; a longer one
// becomes a loop over whole registers and a partial register at the end.
//
// Only a body of stores (with lets and branches on conditions the loop does not change) can
// run its lanes at once, and only when no lane sees another's store: a buffer the loop writes
// may be read only at the element that same statement writes (a reduction's update). A loop
// that does not qualify stays a `vectorized` loop, which the LLVM back end hands to LLVM's loop
// vectorizer. With no vector width (vectorBytes 0: a target without vector IR) nothing changes.
#include <algorithm>
#include <set>

#include "kiln/runtime/error.h"
#include "kiln/tir/ir_visitor.h"
#include "kiln/tir/passes.h"
#include "kiln/tir/printer.h"

namespace kiln::tir {

namespace {

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

// Lets whose value depends on v are substituted into their bodies (their variables are
// scalars; after vectorization the value is a vector).
class InlineDependentLets : public IRMutator {
 public:
  explicit InlineDependentLets(const ExprNode* v) : v_(v) {}
  using IRMutator::mutate;

 protected:
  using IRMutator::visit;
  Stmt visit(const LetStmt* op, const Stmt& s) override {
    if (!mentions(op->value, v_)) return IRMutator::visit(op, s);
    return mutate(substitute(op->body, {{op->var, op->value}}));
  }

 private:
  const ExprNode* v_;
};

// Can every lane of the loop over v run at once? Also finds the widest stored element.
class CanVectorize : public IRVisitor {
 public:
  explicit CanVectorize(const ExprNode* v) : v_(v) {}
  bool ok = true;
  size_t widest = 1;
  std::vector<const Store*> stores;
  using IRVisitor::visit;

  void visit(const For*) override { ok = false; }
  void visit(const Allocate*) override { ok = false; }
  void visit(const Provide*) override { ok = false; }
  void visit(const Realize*) override { ok = false; }
  void visit(const TensorRead*) override { ok = false; }
  void visit(const Reduce*) override { ok = false; }
  void visit(const Ramp*) override { ok = false; }
  void visit(const Broadcast*) override { ok = false; }
  void visit(const IfThenElse* op) override {
    if (mentions(op->cond, v_)) ok = false;
    IRVisitor::visit(op);
  }
  void visit(const Store* op) override {
    if (!mentions(op->index, v_)) ok = false;  // every lane would write one element
    stores.push_back(op);
    widest = std::max(widest, dtypeSize(op->buffer->dtype));
    IRVisitor::visit(op);
  }

  // Lanes must not see each other's stores: a stored buffer is read only at the element the
  // same statement writes.
  void checkLoads() {
    std::set<const BufferNode*> stored;
    for (const Store* st : stores) stored.insert(st->buffer.get());
    for (const Store* st : stores) {
      class Loads : public IRVisitor {
       public:
        std::vector<const Load*> found;
        using IRVisitor::visit;
        void visit(const Load* op) override {
          found.push_back(op);
          IRVisitor::visit(op);
        }
      } loads;
      loads.visitExpr(st->value);
      loads.visitExpr(st->index);
      for (const Load* l : loads.found)
        if (stored.count(l->buffer.get()) &&
            (l->buffer.get() != st->buffer.get() || printExpr(l->index) != printExpr(st->index)))
          ok = false;
    }
  }

 private:
  const ExprNode* v_;
};

Expr broadcastTo(const Expr& e, int lanes) {
  return e.lanes() == lanes || lanes == 1 ? e : Broadcast::make(e, lanes);
}
// The scalar a Broadcast repeats, or the expression itself.
Expr scalarOf(const Expr& e) {
  if (const Broadcast* b = e.as<Broadcast>()) return b->value;
  return e;
}

// Rewrites a loop body with v replaced by a ramp of `lanes` lanes.
class Widen : public IRMutator {
 public:
  Widen(const ExprNode* v, Expr ramp) : v_(v), ramp_(std::move(ramp)) {}
  using IRMutator::mutate;

 protected:
  using IRMutator::visit;
  Expr visit(const VarNode* op, const Expr& e) override { return op == v_ ? ramp_ : e; }

  Expr visit(const Binary* op, const Expr& e) override {
    Expr a = mutate(op->a), b = mutate(op->b);
    if (a.same(op->a) && b.same(op->b)) return e;
    const int lanes = std::max(a.lanes(), b.lanes());
    // Keep ramps whole in index arithmetic.
    const Ramp* ra = a.as<Ramp>();
    const Ramp* rb = b.as<Ramp>();
    const bool sa = a.lanes() == 1 || a.as<Broadcast>(), sb = b.lanes() == 1 || b.as<Broadcast>();
    auto ramp = [&](Expr base, Expr stride) {
      return Ramp::make(simplify(base), simplify(stride), lanes);
    };
    switch (op->op) {
      case BinOp::Add:
        if (ra && rb) return ramp(ra->base + rb->base, ra->stride + rb->stride);
        if (ra && sb) return ramp(ra->base + scalarOf(b), ra->stride);
        if (sa && rb) return ramp(scalarOf(a) + rb->base, rb->stride);
        break;
      case BinOp::Sub:
        if (ra && rb) return ramp(ra->base - rb->base, ra->stride - rb->stride);
        if (ra && sb) return ramp(ra->base - scalarOf(b), ra->stride);
        if (sa && rb) return ramp(scalarOf(a) - rb->base, IntImm::make(0, rb->type) - rb->stride);
        break;
      case BinOp::Mul:
        if (ra && sb) return ramp(ra->base * scalarOf(b), ra->stride * scalarOf(b));
        if (sa && rb) return ramp(scalarOf(a) * rb->base, scalarOf(a) * rb->stride);
        break;
      default:
        break;
    }
    return Binary::make(op->op, broadcastTo(a, lanes), broadcastTo(b, lanes));
  }

  Expr visit(const Select* op, const Expr& e) override {
    Expr c = mutate(op->cond), t = mutate(op->t), f = mutate(op->f);
    if (c.same(op->cond) && t.same(op->t) && f.same(op->f)) return e;
    const int lanes = std::max({c.lanes(), t.lanes(), f.lanes()});
    return Select::make(c, broadcastTo(t, lanes), broadcastTo(f, lanes));
  }

  Expr visit(const Call* op, const Expr& e) override {
    std::vector<Expr> args;
    bool changed = false;
    int lanes = 1;
    for (const Expr& a : op->args) {
      args.push_back(mutate(a));
      changed = changed || !args.back().same(a);
      lanes = std::max(lanes, args.back().lanes());
    }
    if (!changed) return e;
    for (Expr& a : args) a = broadcastTo(a, lanes);
    return Call::make(op->name, args);
  }

  Stmt visit(const Store* op, const Stmt& s) override {
    Expr i = mutate(op->index), v = mutate(op->value);
    return Store::make(op->buffer, i, broadcastTo(v, i.lanes()));
  }

 private:
  const ExprNode* v_;
  Expr ramp_;
};

class Vectorize : public IRMutator {
 public:
  explicit Vectorize(int vectorBytes) : vectorBytes_(vectorBytes) {}
  using IRMutator::mutate;

 protected:
  using IRMutator::visit;
  Stmt visit(const For* op, const Stmt& s) override {
    if (op->forKind != ForKind::Vectorized) return IRMutator::visit(op, s);
    const int64_t* ext = asConstInt(op->extent);
    const ExprNode* v = op->var.get();
    Stmt body = InlineDependentLets(v).mutate(mutate(op->body));
    CanVectorize check(v);
    check.visitStmt(body);
    if (check.ok) check.checkLoads();
    const int64_t lanes = vectorBytes_ / static_cast<int64_t>(check.widest);
    if (!ext || !check.ok || lanes < 2)
      return body.same(op->body) ? s : For::make(op, op->min, op->extent, body);

    // The body for `count` lanes starting at `base`.
    auto chunk = [&](const Expr& base, int64_t count) -> Stmt {
      if (count == 1) return substitute(body, {{op->var, simplify(base)}});
      return Widen(v, Ramp::make(simplify(base), Expr(1), static_cast<int>(count))).mutate(body);
    };
    const int64_t E = *ext;
    if (E <= lanes) return chunk(op->min, E);
    std::vector<Stmt> out;
    int64_t done = 0;
    if (E > 4 * lanes) {
      Var vo = makeVar(op->var.as<VarNode>()->name + ".v");
      done = E / lanes * lanes;
      out.push_back(For::make(vo, Expr(0), Expr(E / lanes), ForKind::Serial,
                              chunk(op->min + vo * lanes, lanes)));
    }
    for (; done < E; done += lanes) out.push_back(chunk(op->min + done, std::min(lanes, E - done)));
    return Seq::make(out);
  }

 private:
  int vectorBytes_;
};

}  // namespace

Stmt vectorizeLoops(const Stmt& s, int vectorBytes) {
  if (vectorBytes <= 0) return s;
  Vectorize v(vectorBytes);
  return v.mutate(s);
}

}  // namespace kiln::tir
