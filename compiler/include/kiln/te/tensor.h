// Tensors and the operations that produce them: placeholders (inputs bound at run time)
// and computes (a value for every point of an index space, possibly a reduction).
//
// This is the whole language in which Kiln defines an operator, once, for every target:
//   Tensor y = compute("relu", x->shape, [&](const Indices& i) { return max(read(x, i),
//   Expr(0.0f)); });
// Nothing here says how to loop; schedules (kiln/schedule) decide that.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "kiln/te/expr.h"

namespace kiln::te {

using Indices = std::vector<Expr>;

// A compute op: out[axes...] = body, where body may be a Reduce over extra axes.
struct ComputeOp {
  std::vector<IterVar> axes;
  Expr body;
  // Tensors this compute reads (filled by compute()), in first-read order.
  std::vector<Tensor> inputs;
};

struct TensorNode {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  // Null for a placeholder.
  std::shared_ptr<const ComputeOp> op;
  // What kind of computation this is ("injective", "reduce", "conv2d", "matmul"): default
  // schedules pick their recipe by it.
  std::string tag;
  // Where its storage lives when it is an intermediate: "" for ordinary memory, or a target's
  // memory scope such as the accelerator's "accel.inp" / "accel.wgt" / "accel.acc" buffers
  // (set by Schedule::cacheRead / cacheWrite).
  std::string scope;

  bool isPlaceholder() const { return op == nullptr; }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
};

Tensor placeholder(const std::string& name, DType dtype, Shape shape);

// A tensor whose element at `i` is fcompute(i). The axes are named name.i0, name.i1, ...
// The tag defaults to "reduce" when the body is a reduction, "injective" otherwise.
Tensor compute(const std::string& name, const Shape& shape,
               const std::function<Expr(const Indices&)>& fcompute, const std::string& tag = "");

// A read of t at the given indices (rank must match).
Expr read(const Tensor& t, Indices indices);

// Reductions over reduce axes (created with makeAxis), for use as a compute's body.
Expr sum(Expr source, std::vector<IterVar> axes);
Expr maximum(Expr source, std::vector<IterVar> axes);
Expr minimum(Expr source, std::vector<IterVar> axes);

// Every tensor the given outputs depend on, producers before consumers (inputs included).
std::vector<Tensor> postOrder(const std::vector<Tensor>& outputs);

}  // namespace kiln::te
