// IRVisitor walks expressions and statements; IRMutator rebuilds them.
//
// A pass subclasses one of them and overrides only the nodes it cares about (add
// `using IRVisitor::visit;` / `using IRMutator::mutate;` so the other overloads stay
// visible). The defaults visit every child; the mutator returns the same node when no
// child changed, so untouched subtrees are shared, never copied.
#pragma once

#include "kiln/tir/stmt.h"

namespace kiln::tir {

using namespace te;  // NOLINT: the loop IR is written in terms of te's expression nodes

class IRVisitor {
 public:
  virtual ~IRVisitor() = default;
  void visitExpr(const Expr& e);
  void visitStmt(const Stmt& s);

  virtual void visit(const IntImm*) {}
  virtual void visit(const FloatImm*) {}
  virtual void visit(const VarNode*) {}
  virtual void visit(const Binary* op);
  virtual void visit(const Not* op);
  virtual void visit(const Select* op);
  virtual void visit(const Cast* op);
  virtual void visit(const Call* op);
  virtual void visit(const TensorRead* op);
  virtual void visit(const Load* op);
  virtual void visit(const Reduce* op);
  virtual void visit(const Ramp* op);
  virtual void visit(const Broadcast* op);

  virtual void visit(const For* op);
  virtual void visit(const LetStmt* op);
  virtual void visit(const Store* op);
  virtual void visit(const Provide* op);
  virtual void visit(const Allocate* op);
  virtual void visit(const Realize* op);
  virtual void visit(const IfThenElse* op);
  virtual void visit(const Seq* op);
  virtual void visit(const Evaluate* op);
};

class IRMutator {
 public:
  virtual ~IRMutator() = default;
  Expr mutate(const Expr& e);
  Stmt mutate(const Stmt& s);

 protected:
  // Each receives the node and the Expr/Stmt that holds it (to return when unchanged).
  virtual Expr visit(const IntImm*, const Expr& e) { return e; }
  virtual Expr visit(const FloatImm*, const Expr& e) { return e; }
  virtual Expr visit(const VarNode*, const Expr& e) { return e; }
  virtual Expr visit(const Binary* op, const Expr& e);
  virtual Expr visit(const Not* op, const Expr& e);
  virtual Expr visit(const Select* op, const Expr& e);
  virtual Expr visit(const Cast* op, const Expr& e);
  virtual Expr visit(const Call* op, const Expr& e);
  virtual Expr visit(const TensorRead* op, const Expr& e);
  virtual Expr visit(const Load* op, const Expr& e);
  virtual Expr visit(const Reduce* op, const Expr& e);
  virtual Expr visit(const Ramp* op, const Expr& e);
  virtual Expr visit(const Broadcast* op, const Expr& e);

  virtual Stmt visit(const For* op, const Stmt& s);
  virtual Stmt visit(const LetStmt* op, const Stmt& s);
  virtual Stmt visit(const Store* op, const Stmt& s);
  virtual Stmt visit(const Provide* op, const Stmt& s);
  virtual Stmt visit(const Allocate* op, const Stmt& s);
  virtual Stmt visit(const Realize* op, const Stmt& s);
  virtual Stmt visit(const IfThenElse* op, const Stmt& s);
  virtual Stmt visit(const Seq* op, const Stmt& s);
  virtual Stmt visit(const Evaluate* op, const Stmt& s);
};

// Replaces variables (by node identity) with expressions.
Expr substitute(const Expr& e, const std::vector<std::pair<Var, Expr>>& map);
Stmt substitute(const Stmt& s, const std::vector<std::pair<Var, Expr>>& map);

}  // namespace kiln::tir
