// The default traversals of IRVisitor and IRMutator, the statement constructors, and
// substitution (the one mutator every other pass needs).
#include "kiln/tir/ir_visitor.h"

#include <map>

#include "kiln/runtime/error.h"

namespace kiln::tir {

// ---- statement constructors ----

const char* forKindName(ForKind k) {
  switch (k) {
    case ForKind::Serial:
      return "for";
    case ForKind::Parallel:
      return "parallel for";
    case ForKind::Vectorized:
      return "vectorized for";
    case ForKind::Unrolled:
      return "unrolled for";
    case ForKind::ThreadBinding:
      return "thread";
  }
  return "for";
}

bool isThreadTag(const std::string& tag) {
  static const char* const kTags[] = {"blockIdx.x",  "blockIdx.y",  "blockIdx.z", "threadIdx.x",
                                      "threadIdx.y", "threadIdx.z", "fragment"};
  for (const char* t : kTags)
    if (tag == t) return true;
  return false;
}

Stmt For::make(Var var, Expr min, Expr extent, ForKind kind, Stmt body, std::string threadTag) {
  if (!var.as<VarNode>()) throw Error("tir: a loop variable must be a Var");
  if (kind == ForKind::ThreadBinding && !isThreadTag(threadTag))
    throw Error("tir: loop '" + var.as<VarNode>()->name + "' is bound to unknown thread tag '" +
                threadTag + "' (expected blockIdx.x/y/z, threadIdx.x/y/z or fragment)");
  if (kind != ForKind::ThreadBinding && !threadTag.empty())
    throw Error("tir: loop '" + var.as<VarNode>()->name + "' has thread tag '" + threadTag +
                "' but is not a thread binding");
  return Stmt(std::make_shared<For>(std::move(var), std::move(min), std::move(extent), kind,
                                    std::move(body), std::move(threadTag)));
}
Stmt For::make(const For* like, Expr min, Expr extent, Stmt body) {
  return make(like->var, std::move(min), std::move(extent), like->forKind, std::move(body),
              like->threadTag);
}
Stmt LetStmt::make(Var var, Expr value, Stmt body) {
  return Stmt(std::make_shared<LetStmt>(std::move(var), std::move(value), std::move(body)));
}
Stmt Store::make(Buffer buffer, Expr index, Expr value) {
  if (value.type() != buffer->dtype)
    throw Error("tir: storing " + std::string(dtypeName(value.type())) + " into " +
                std::string(dtypeName(buffer->dtype)) + " buffer '" + buffer->name + "'");
  if (value.lanes() != index.lanes())
    throw Error("tir: storing " + std::to_string(value.lanes()) + " lanes at " +
                std::to_string(index.lanes()) + " indices of buffer '" + buffer->name + "'");
  return Stmt(std::make_shared<Store>(std::move(buffer), std::move(index), std::move(value)));
}
Stmt Provide::make(Tensor tensor, std::vector<Expr> indices, Expr value) {
  if (static_cast<int64_t>(indices.size()) != tensor->rank())
    throw Error("tir: provide to '" + tensor->name + "' with the wrong number of indices");
  return Stmt(std::make_shared<Provide>(std::move(tensor), std::move(indices), std::move(value)));
}
Stmt Allocate::make(Buffer buffer, Stmt body) {
  return Stmt(std::make_shared<Allocate>(std::move(buffer), std::move(body)));
}
Stmt Realize::make(Tensor tensor, Stmt body, std::vector<Expr> min, Shape extent) {
  if (min.size() != extent.size() ||
      (!min.empty() && static_cast<int64_t>(min.size()) != tensor->rank()))
    throw Error("tir: realize of '" + tensor->name + "' with a box of the wrong rank");
  return Stmt(std::make_shared<Realize>(std::move(tensor), std::move(min), std::move(extent),
                                        std::move(body)));
}
Stmt IfThenElse::make(Expr cond, Stmt thenCase, Stmt elseCase) {
  if (cond.type() != DType::Bool) throw Error("tir: if condition must be boolean");
  return Stmt(
      std::make_shared<IfThenElse>(std::move(cond), std::move(thenCase), std::move(elseCase)));
}
Stmt Seq::make(std::vector<Stmt> stmts) {
  std::vector<Stmt> flat;
  for (Stmt& s : stmts) {
    if (!s.defined()) continue;
    if (const Seq* q = s.as<Seq>())
      flat.insert(flat.end(), q->stmts.begin(), q->stmts.end());
    else
      flat.push_back(std::move(s));
  }
  if (flat.size() == 1) return flat[0];
  return Stmt(std::make_shared<Seq>(std::move(flat)));
}
Stmt Evaluate::make(Expr value) {
  return Stmt(std::make_shared<Evaluate>(std::move(value)));
}

// ---- IRVisitor ----

void IRVisitor::visitExpr(const Expr& e) {
  if (!e.defined()) return;
  switch (e->kind) {
    case ExprKind::IntImm:
      return visit(static_cast<const IntImm*>(e.get()));
    case ExprKind::FloatImm:
      return visit(static_cast<const FloatImm*>(e.get()));
    case ExprKind::Var:
      return visit(static_cast<const VarNode*>(e.get()));
    case ExprKind::Binary:
      return visit(static_cast<const Binary*>(e.get()));
    case ExprKind::Not:
      return visit(static_cast<const Not*>(e.get()));
    case ExprKind::Select:
      return visit(static_cast<const Select*>(e.get()));
    case ExprKind::Cast:
      return visit(static_cast<const Cast*>(e.get()));
    case ExprKind::Call:
      return visit(static_cast<const Call*>(e.get()));
    case ExprKind::TensorRead:
      return visit(static_cast<const TensorRead*>(e.get()));
    case ExprKind::Load:
      return visit(static_cast<const Load*>(e.get()));
    case ExprKind::Reduce:
      return visit(static_cast<const Reduce*>(e.get()));
    case ExprKind::Ramp:
      return visit(static_cast<const Ramp*>(e.get()));
    case ExprKind::Broadcast:
      return visit(static_cast<const Broadcast*>(e.get()));
  }
}

void IRVisitor::visitStmt(const Stmt& s) {
  if (!s.defined()) return;
  switch (s->kind) {
    case StmtKind::For:
      return visit(static_cast<const For*>(s.get()));
    case StmtKind::LetStmt:
      return visit(static_cast<const LetStmt*>(s.get()));
    case StmtKind::Store:
      return visit(static_cast<const Store*>(s.get()));
    case StmtKind::Provide:
      return visit(static_cast<const Provide*>(s.get()));
    case StmtKind::Allocate:
      return visit(static_cast<const Allocate*>(s.get()));
    case StmtKind::Realize:
      return visit(static_cast<const Realize*>(s.get()));
    case StmtKind::IfThenElse:
      return visit(static_cast<const IfThenElse*>(s.get()));
    case StmtKind::Seq:
      return visit(static_cast<const Seq*>(s.get()));
    case StmtKind::Evaluate:
      return visit(static_cast<const Evaluate*>(s.get()));
  }
}

void IRVisitor::visit(const Binary* op) {
  visitExpr(op->a), visitExpr(op->b);
}
void IRVisitor::visit(const Not* op) {
  visitExpr(op->a);
}
void IRVisitor::visit(const Select* op) {
  visitExpr(op->cond), visitExpr(op->t), visitExpr(op->f);
}
void IRVisitor::visit(const Cast* op) {
  visitExpr(op->a);
}
void IRVisitor::visit(const Call* op) {
  for (const Expr& a : op->args) visitExpr(a);
}
void IRVisitor::visit(const TensorRead* op) {
  for (const Expr& i : op->indices) visitExpr(i);
}
void IRVisitor::visit(const Load* op) {
  visitExpr(op->index);
}
void IRVisitor::visit(const Reduce* op) {
  visitExpr(op->source);
}
void IRVisitor::visit(const Ramp* op) {
  visitExpr(op->base), visitExpr(op->stride);
}
void IRVisitor::visit(const Broadcast* op) {
  visitExpr(op->value);
}
void IRVisitor::visit(const For* op) {
  visitExpr(op->min), visitExpr(op->extent), visitStmt(op->body);
}
void IRVisitor::visit(const LetStmt* op) {
  visitExpr(op->value), visitStmt(op->body);
}
void IRVisitor::visit(const Store* op) {
  visitExpr(op->index), visitExpr(op->value);
}
void IRVisitor::visit(const Provide* op) {
  for (const Expr& i : op->indices) visitExpr(i);
  visitExpr(op->value);
}
void IRVisitor::visit(const Allocate* op) {
  visitStmt(op->body);
}
void IRVisitor::visit(const Realize* op) {
  for (const Expr& m : op->min) visitExpr(m);
  visitStmt(op->body);
}
void IRVisitor::visit(const IfThenElse* op) {
  visitExpr(op->cond), visitStmt(op->thenCase), visitStmt(op->elseCase);
}
void IRVisitor::visit(const Seq* op) {
  for (const Stmt& s : op->stmts) visitStmt(s);
}
void IRVisitor::visit(const Evaluate* op) {
  visitExpr(op->value);
}

// ---- IRMutator ----

Expr IRMutator::mutate(const Expr& e) {
  if (!e.defined()) return e;
  switch (e->kind) {
    case ExprKind::IntImm:
      return visit(static_cast<const IntImm*>(e.get()), e);
    case ExprKind::FloatImm:
      return visit(static_cast<const FloatImm*>(e.get()), e);
    case ExprKind::Var:
      return visit(static_cast<const VarNode*>(e.get()), e);
    case ExprKind::Binary:
      return visit(static_cast<const Binary*>(e.get()), e);
    case ExprKind::Not:
      return visit(static_cast<const Not*>(e.get()), e);
    case ExprKind::Select:
      return visit(static_cast<const Select*>(e.get()), e);
    case ExprKind::Cast:
      return visit(static_cast<const Cast*>(e.get()), e);
    case ExprKind::Call:
      return visit(static_cast<const Call*>(e.get()), e);
    case ExprKind::TensorRead:
      return visit(static_cast<const TensorRead*>(e.get()), e);
    case ExprKind::Load:
      return visit(static_cast<const Load*>(e.get()), e);
    case ExprKind::Reduce:
      return visit(static_cast<const Reduce*>(e.get()), e);
    case ExprKind::Ramp:
      return visit(static_cast<const Ramp*>(e.get()), e);
    case ExprKind::Broadcast:
      return visit(static_cast<const Broadcast*>(e.get()), e);
  }
  return e;
}

Stmt IRMutator::mutate(const Stmt& s) {
  if (!s.defined()) return s;
  switch (s->kind) {
    case StmtKind::For:
      return visit(static_cast<const For*>(s.get()), s);
    case StmtKind::LetStmt:
      return visit(static_cast<const LetStmt*>(s.get()), s);
    case StmtKind::Store:
      return visit(static_cast<const Store*>(s.get()), s);
    case StmtKind::Provide:
      return visit(static_cast<const Provide*>(s.get()), s);
    case StmtKind::Allocate:
      return visit(static_cast<const Allocate*>(s.get()), s);
    case StmtKind::Realize:
      return visit(static_cast<const Realize*>(s.get()), s);
    case StmtKind::IfThenElse:
      return visit(static_cast<const IfThenElse*>(s.get()), s);
    case StmtKind::Seq:
      return visit(static_cast<const Seq*>(s.get()), s);
    case StmtKind::Evaluate:
      return visit(static_cast<const Evaluate*>(s.get()), s);
  }
  return s;
}

namespace {
bool mutateAll(IRMutator& m, const std::vector<Expr>& in, std::vector<Expr>* out,
               Expr (IRMutator::*fn)(const Expr&)) {
  bool changed = false;
  out->reserve(in.size());
  for (const Expr& e : in) {
    out->push_back((m.*fn)(e));
    changed = changed || !out->back().same(e);
  }
  return changed;
}
}  // namespace

Expr IRMutator::visit(const Binary* op, const Expr& e) {
  Expr a = mutate(op->a), b = mutate(op->b);
  return a.same(op->a) && b.same(op->b) ? e : Binary::make(op->op, a, b);
}
Expr IRMutator::visit(const Not* op, const Expr& e) {
  Expr a = mutate(op->a);
  return a.same(op->a) ? e : Not::make(a);
}
Expr IRMutator::visit(const Select* op, const Expr& e) {
  Expr c = mutate(op->cond), t = mutate(op->t), f = mutate(op->f);
  return c.same(op->cond) && t.same(op->t) && f.same(op->f) ? e : Select::make(c, t, f);
}
Expr IRMutator::visit(const Cast* op, const Expr& e) {
  Expr a = mutate(op->a);
  return a.same(op->a) ? e : Cast::make(op->type, a);
}
Expr IRMutator::visit(const Call* op, const Expr& e) {
  std::vector<Expr> args;
  Expr (IRMutator::*fn)(const Expr&) = &IRMutator::mutate;
  if (!mutateAll(*this, op->args, &args, fn)) return e;
  // A tensor intrinsic's call (tensorize) is not a math intrinsic: keep its name and type.
  if (!isKnownIntrinsic(op->name)) return Expr(std::make_shared<Call>(op->type, op->name, args));
  return Call::make(op->name, args);
}
Expr IRMutator::visit(const TensorRead* op, const Expr& e) {
  std::vector<Expr> idx;
  Expr (IRMutator::*fn)(const Expr&) = &IRMutator::mutate;
  return mutateAll(*this, op->indices, &idx, fn) ? TensorRead::make(op->tensor, idx) : e;
}
Expr IRMutator::visit(const Load* op, const Expr& e) {
  Expr i = mutate(op->index);
  return i.same(op->index) ? e : Load::make(op->buffer, i);
}
Expr IRMutator::visit(const Reduce* op, const Expr& e) {
  Expr s = mutate(op->source);
  return s.same(op->source) ? e : Reduce::make(op->combiner, s, op->axes);
}
Expr IRMutator::visit(const Ramp* op, const Expr& e) {
  Expr b = mutate(op->base), st = mutate(op->stride);
  return b.same(op->base) && st.same(op->stride) ? e : Ramp::make(b, st, op->lanes);
}
Expr IRMutator::visit(const Broadcast* op, const Expr& e) {
  Expr v = mutate(op->value);
  return v.same(op->value) ? e : Broadcast::make(v, op->lanes);
}

Stmt IRMutator::visit(const For* op, const Stmt& s) {
  Expr mn = mutate(op->min), ext = mutate(op->extent);
  Stmt body = mutate(op->body);
  if (mn.same(op->min) && ext.same(op->extent) && body.same(op->body)) return s;
  return For::make(op, mn, ext, body);
}
Stmt IRMutator::visit(const LetStmt* op, const Stmt& s) {
  Expr v = mutate(op->value);
  Stmt body = mutate(op->body);
  return v.same(op->value) && body.same(op->body) ? s : LetStmt::make(op->var, v, body);
}
Stmt IRMutator::visit(const Store* op, const Stmt& s) {
  Expr i = mutate(op->index), v = mutate(op->value);
  return i.same(op->index) && v.same(op->value) ? s : Store::make(op->buffer, i, v);
}
Stmt IRMutator::visit(const Provide* op, const Stmt& s) {
  std::vector<Expr> idx;
  Expr (IRMutator::*fn)(const Expr&) = &IRMutator::mutate;
  bool changed = mutateAll(*this, op->indices, &idx, fn);
  Expr v = mutate(op->value);
  return !changed && v.same(op->value) ? s : Provide::make(op->tensor, idx, v);
}
Stmt IRMutator::visit(const Allocate* op, const Stmt& s) {
  Stmt body = mutate(op->body);
  return body.same(op->body) ? s : Allocate::make(op->buffer, body);
}
Stmt IRMutator::visit(const Realize* op, const Stmt& s) {
  std::vector<Expr> mn;
  Expr (IRMutator::*fn)(const Expr&) = &IRMutator::mutate;
  bool changed = mutateAll(*this, op->min, &mn, fn);
  Stmt body = mutate(op->body);
  return !changed && body.same(op->body) ? s : Realize::make(op->tensor, body, mn, op->extent);
}
Stmt IRMutator::visit(const IfThenElse* op, const Stmt& s) {
  Expr c = mutate(op->cond);
  Stmt t = mutate(op->thenCase), f = mutate(op->elseCase);
  return c.same(op->cond) && t.same(op->thenCase) && f.same(op->elseCase)
             ? s
             : IfThenElse::make(c, t, f);
}
Stmt IRMutator::visit(const Seq* op, const Stmt& s) {
  std::vector<Stmt> out;
  bool changed = false;
  for (const Stmt& x : op->stmts) {
    out.push_back(mutate(x));
    changed = changed || !out.back().same(x);
  }
  return changed ? Seq::make(out) : s;
}
Stmt IRMutator::visit(const Evaluate* op, const Stmt& s) {
  Expr v = mutate(op->value);
  return v.same(op->value) ? s : Evaluate::make(v);
}

// ---- substitution ----

namespace {
class Substitute : public IRMutator {
 public:
  explicit Substitute(const std::vector<std::pair<Var, Expr>>& m) {
    for (const auto& [v, e] : m) map_[v.get()] = e;
  }
  using IRMutator::mutate;

 protected:
  Expr visit(const VarNode* op, const Expr& e) override {
    auto it = map_.find(op);
    return it == map_.end() ? e : it->second;
  }
  using IRMutator::visit;

 private:
  std::map<const ExprNode*, Expr> map_;
};
}  // namespace

Expr substitute(const Expr& e, const std::vector<std::pair<Var, Expr>>& map) {
  if (map.empty()) return e;
  Substitute s(map);
  return s.mutate(e);
}
Stmt substitute(const Stmt& s, const std::vector<std::pair<Var, Expr>>& map) {
  if (map.empty()) return s;
  Substitute m(map);
  return m.mutate(s);
}

}  // namespace kiln::tir
