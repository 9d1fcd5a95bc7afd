// The loop IR printer: C-like text, one statement per line, two spaces per nesting level.
#include "kiln/tir/printer.h"

#include <sstream>

#include "kiln/tir/ir_visitor.h"

namespace kiln::tir {

namespace {

class Printer : public IRVisitor {
 public:
  std::ostringstream os;
  int indent = 0;
  using IRVisitor::visit;

  void line() { os << std::string(static_cast<size_t>(indent) * 2, ' '); }

  void visit(const IntImm* op) override { os << op->value; }
  void visit(const FloatImm* op) override {
    std::ostringstream s;
    s.precision(9);
    s << op->value;
    os << s.str() << "f";
  }
  void visit(const VarNode* op) override { os << op->name; }
  void visit(const Binary* op) override {
    if (op->op == BinOp::Min || op->op == BinOp::Max) {
      os << binOpName(op->op) << "(";
      visitExpr(op->a);
      os << ", ";
      visitExpr(op->b);
      os << ")";
      return;
    }
    os << "(";
    visitExpr(op->a);
    os << " " << binOpName(op->op) << " ";
    visitExpr(op->b);
    os << ")";
  }
  void visit(const Not* op) override {
    os << "!";
    visitExpr(op->a);
  }
  void visit(const Select* op) override {
    os << "select(";
    visitExpr(op->cond);
    os << ", ";
    visitExpr(op->t);
    os << ", ";
    visitExpr(op->f);
    os << ")";
  }
  void visit(const Cast* op) override {
    os << dtypeName(op->type) << "(";
    visitExpr(op->a);
    os << ")";
  }
  void visit(const Call* op) override {
    os << op->name << "(";
    for (size_t i = 0; i < op->args.size(); ++i) {
      if (i) os << ", ";
      visitExpr(op->args[i]);
    }
    os << ")";
  }
  void visit(const TensorRead* op) override {
    os << op->tensor->name << "(";
    for (size_t i = 0; i < op->indices.size(); ++i) {
      if (i) os << ", ";
      visitExpr(op->indices[i]);
    }
    os << ")";
  }
  void visit(const Load* op) override {
    os << op->buffer->name << "[";
    visitExpr(op->index);
    os << "]";
  }
  void visit(const Ramp* op) override {
    os << "ramp(";
    visitExpr(op->base);
    os << ", ";
    visitExpr(op->stride);
    os << ", " << op->lanes << ")";
  }
  void visit(const Broadcast* op) override {
    os << "x" << op->lanes << "(";
    visitExpr(op->value);
    os << ")";
  }
  void visit(const Reduce* op) override {
    os << reduceName(op->combiner) << "(";
    visitExpr(op->source);
    os << ", axes=[";
    for (size_t i = 0; i < op->axes.size(); ++i)
      os << (i ? ", " : "") << op->axes[i].name() << ":" << op->axes[i].extent;
    os << "])";
  }

  void visit(const For* op) override {
    line();
    os << forKindName(op->forKind);
    if (op->forKind == ForKind::ThreadBinding) os << " " << op->threadTag;
    os << " (" << op->var.as<VarNode>()->name << ", ";
    visitExpr(op->min);
    os << ", ";
    visitExpr(op->extent);
    os << ") {\n";
    body(op->body);
  }
  void visit(const LetStmt* op) override {
    line();
    os << "let " << op->var.as<VarNode>()->name << " = ";
    visitExpr(op->value);
    os << "\n";
    visitStmt(op->body);
  }
  void visit(const Store* op) override {
    line();
    os << op->buffer->name << "[";
    visitExpr(op->index);
    os << "] = ";
    visitExpr(op->value);
    os << "\n";
  }
  void visit(const Provide* op) override {
    line();
    os << op->tensor->name << "(";
    for (size_t i = 0; i < op->indices.size(); ++i) {
      if (i) os << ", ";
      visitExpr(op->indices[i]);
    }
    os << ") = ";
    visitExpr(op->value);
    os << "\n";
  }
  void visit(const Allocate* op) override {
    line();
    os << "allocate " << op->buffer->name << "[" << dtypeName(op->buffer->dtype) << " * "
       << op->buffer->numel << "]";
    if (!op->buffer->scope.empty()) os << " in " << op->buffer->scope;
    os << "\n";
    visitStmt(op->body);
  }
  void visit(const Realize* op) override {
    line();
    os << "realize " << op->tensor->name << dtypeName(op->tensor->dtype)
       << shapeStr(op->tensor->shape);
    if (!op->min.empty()) {
      os << " box [";
      for (size_t d = 0; d < op->min.size(); ++d) {
        os << (d ? ", " : "");
        visitExpr(op->min[d]);
        os << " + " << op->extent[d];
      }
      os << "]";
    }
    os << " {\n";
    body(op->body);
  }
  void visit(const IfThenElse* op) override {
    line();
    os << "if (";
    visitExpr(op->cond);
    os << ") {\n";
    if (op->elseCase.defined()) {
      ++indent;
      visitStmt(op->thenCase);
      --indent;
      line();
      os << "} else {\n";
      body(op->elseCase);
    } else {
      body(op->thenCase);
    }
  }
  void visit(const Evaluate* op) override {
    line();
    visitExpr(op->value);
    os << "\n";
  }

  void body(const Stmt& s) {
    ++indent;
    visitStmt(s);
    --indent;
    line();
    os << "}\n";
  }
};

}  // namespace

std::string printExpr(const Expr& e) {
  Printer p;
  p.visitExpr(e);
  return p.os.str();
}

std::string printStmt(const Stmt& s) {
  Printer p;
  p.visitStmt(s);
  return p.os.str();
}

std::string printKernel(const Kernel& k) {
  std::ostringstream os;
  os << "kernel " << k.name << "(";
  for (size_t i = 0; i < k.params.size(); ++i)
    os << (i ? ", " : "") << k.params[i]->name << ": " << dtypeName(k.params[i]->dtype) << "["
       << k.params[i]->numel << "]";
  os << ") {\n";
  Printer p;
  p.indent = 1;
  p.visitStmt(k.body);
  os << p.os.str() << "}\n";
  return os.str();
}

}  // namespace kiln::tir
