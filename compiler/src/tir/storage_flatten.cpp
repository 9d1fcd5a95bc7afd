// Storage flattening: multi-dimensional tensors become flat, row-major buffers.
//
// Provide t(i, j, k) = v  ->  Store t[(i * J + j) * K + k] = v
// t(i, j, k) in an expr   ->  Load t[...]
// Realize t { ... }       ->  Allocate t[numel] { ... }
// A Realize of a box (compute_at storage) allocates only the box, and indices into it are
// taken relative to its start.
// The kernel's arguments become its parameters; any other tensor that is read must have
// been realized, or the kernel would read memory nobody passed it.
#include <map>

#include "kiln/runtime/error.h"
#include "kiln/tir/ir_visitor.h"
#include "kiln/tir/passes.h"

namespace kiln::tir {

namespace {

class Flatten : public IRMutator {
 public:
  struct Storage {
    Buffer buffer;
    std::vector<Expr> min;  // empty: from 0
    Shape extent;
  };
  std::map<const te::TensorNode*, Storage> buffers;
  using IRMutator::mutate;

 protected:
  using IRMutator::visit;

  const Storage& storageOf(const Tensor& t) {
    auto it = buffers.find(t.get());
    if (it == buffers.end())
      throw Error("storage flattening: tensor '" + t->name +
                  "' is used but is neither a kernel argument nor computed in this kernel");
    return it->second;
  }
  Buffer bufferOf(const Tensor& t) { return storageOf(t).buffer; }
  Expr flatIndex(const Tensor& t, const std::vector<Expr>& idx) {
    const Storage& st = storageOf(t);
    Expr flat;
    for (size_t d = 0; d < idx.size(); ++d) {
      Expr i = mutate(idx[d]);
      if (!st.min.empty()) i = i - mutate(st.min[d]);
      const int64_t extent = st.min.empty() ? t->shape[d] : st.extent[d];
      flat = flat.defined() ? flat * extent + i : i;
    }
    return flat.defined() ? flat : Expr(0);
  }

  Expr visit(const TensorRead* op, const Expr&) override {
    return Load::make(bufferOf(op->tensor), flatIndex(op->tensor, op->indices));
  }
  Stmt visit(const Provide* op, const Stmt&) override {
    return Store::make(bufferOf(op->tensor), flatIndex(op->tensor, op->indices), mutate(op->value));
  }
  Stmt visit(const Realize* op, const Stmt&) override {
    const Shape& box = op->min.empty() ? op->tensor->shape : op->extent;
    Buffer b =
        te::makeBuffer(op->tensor->name, op->tensor->dtype, shapeNumel(box), op->tensor->scope);
    buffers[op->tensor.get()] = Storage{b, op->min, op->extent};
    Stmt body = mutate(op->body);
    buffers.erase(op->tensor.get());
    return Allocate::make(b, body);
  }
};

}  // namespace

Stmt storageFlatten(const Stmt& s, const std::vector<Tensor>& args, std::vector<Buffer>* params) {
  Flatten f;
  for (const Tensor& t : args) {
    if (f.buffers.count(t.get()))
      throw Error("storage flattening: tensor '" + t->name + "' is passed twice");
    Buffer b = te::makeBuffer(t->name, t->dtype, shapeNumel(t->shape));
    f.buffers[t.get()] = Flatten::Storage{b, {}, {}};
    params->push_back(b);
  }
  return f.mutate(s);
}

}  // namespace kiln::tir
