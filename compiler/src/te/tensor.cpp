// Placeholders, computes and reductions: building the dataflow graph of tensor expressions.
#include "kiln/te/tensor.h"

#include <functional>
#include <set>

#include "kiln/runtime/error.h"
#include "kiln/tir/ir_visitor.h"

namespace kiln::te {

namespace {

// Collects the tensors an expression reads, in first-read order.
class CollectReads : public tir::IRVisitor {
 public:
  std::vector<Tensor> tensors;
  using IRVisitor::visit;
  void visit(const TensorRead* op) override {
    bool seen = false;
    for (const Tensor& t : tensors) seen = seen || t == op->tensor;
    if (!seen) tensors.push_back(op->tensor);
    IRVisitor::visit(op);
  }
  int reduces = 0;
  void visit(const Reduce* op) override {
    ++reduces;
    IRVisitor::visit(op);
  }
};

}  // namespace

Tensor placeholder(const std::string& name, DType dtype, Shape shape) {
  for (int64_t d : shape)
    if (d <= 0)
      throw Error("te: placeholder '" + name + "' has a non-positive dimension " + shapeStr(shape));
  auto t = std::make_shared<TensorNode>();
  t->name = name;
  t->dtype = dtype;
  t->shape = std::move(shape);
  return t;
}

Tensor compute(const std::string& name, const Shape& shape,
               const std::function<Expr(const Indices&)>& fcompute, const std::string& tag) {
  auto op = std::make_shared<ComputeOp>();
  Indices idx;
  for (size_t d = 0; d < shape.size(); ++d) {
    op->axes.push_back(makeAxis(name + ".i" + std::to_string(d), shape[d]));
    idx.push_back(op->axes.back().var);
  }
  op->body = fcompute(idx);
  if (!op->body.defined()) throw Error("te: compute '" + name + "' returned no expression");
  for (int64_t d : shape)
    if (d <= 0)
      throw Error("te: compute '" + name + "' has a non-positive dimension " + shapeStr(shape));
  CollectReads reads;
  reads.visitExpr(op->body);
  op->inputs = reads.tensors;
  if (reads.reduces > (op->body.as<Reduce>() ? 1 : 0))
    throw Error("te: compute '" + name +
                "' has a reduction inside an expression; a reduction must be the whole body");
  auto t = std::make_shared<TensorNode>();
  t->name = name;
  t->dtype = op->body.type();
  t->shape = shape;
  t->op = op;
  t->tag = !tag.empty() ? tag : op->body.as<Reduce>() ? "reduce" : "injective";
  return t;
}

Expr read(const Tensor& t, Indices indices) {
  return TensorRead::make(t, std::move(indices));
}

Expr sum(Expr source, std::vector<IterVar> axes) {
  return Reduce::make(ReduceKind::Sum, std::move(source), std::move(axes));
}
Expr maximum(Expr source, std::vector<IterVar> axes) {
  return Reduce::make(ReduceKind::Max, std::move(source), std::move(axes));
}
Expr minimum(Expr source, std::vector<IterVar> axes) {
  return Reduce::make(ReduceKind::Min, std::move(source), std::move(axes));
}

std::vector<Tensor> postOrder(const std::vector<Tensor>& outputs) {
  std::vector<Tensor> order;
  std::set<const TensorNode*> seen;
  std::function<void(const Tensor&)> walk = [&](const Tensor& t) {
    if (!seen.insert(t.get()).second) return;
    if (t->op)
      for (const Tensor& in : t->op->inputs) walk(in);
    order.push_back(t);
  };
  for (const Tensor& t : outputs) walk(t);
  return order;
}

}  // namespace kiln::te
