// Cooperative copies into GPU shared memory, with the barriers around them.
//
// A stage cached in "shared" scope (Schedule::cacheRead(t, "shared")) and computed at a loop
// inside a thread block is, after storage flattening, an Allocate of a shared buffer whose
// body starts with the copy nest (a perfect nest of loops over the block's region, one
// Store) followed by the code that reads it. As built, every thread would copy the whole
// region; this pass spreads it over the block instead: the nest becomes one loop over the
// region's elements in steps of the block's thread count, element k * T + tid going to
// thread tid (neighbouring threads copy neighbouring elements: coalesced loads), then a
// barrier so that every element is written before any thread reads, and a second barrier
// after the readers so that the next iteration's copy does not overwrite what a slower
// thread still reads. A barrier is `Evaluate(kiln.barrier())`; the C code generator prints
// __syncthreads() or barrier(CLK_LOCAL_MEM_FENCE).
//
// Every thread of the block must reach each barrier: a shared copy under a condition (a
// guard of a split that does not divide, a thread loop narrower than the launch) is refused
// with an error that says so. A shared buffer outside any threadIdx loop (the CPU, a nest
// that runs as one thread) is left as it is: one thread copies it all.
#include "kiln/runtime/error.h"
#include "kiln/tir/ir_visitor.h"
#include "kiln/tir/passes.h"

namespace kiln::tir {

namespace {

class Cooperative : public IRMutator {
 public:
  using IRMutator::mutate;

 protected:
  using IRMutator::visit;

  Stmt visit(const For* op, const Stmt& s) override {
    if (op->forKind != ForKind::ThreadBinding || op->threadTag.rfind("threadIdx", 0) != 0)
      return IRMutator::visit(op, s);
    const int64_t* e = asConstInt(op->extent);
    if (!e) return IRMutator::visit(op, s);
    threads_.push_back({op->var, *e, op->threadTag});
    const int saved = conditions_;
    conditions_ = 0;  // conditions outside the thread loop hold for the whole block
    Stmt r = IRMutator::visit(op, s);
    conditions_ = saved;
    threads_.pop_back();
    return r;
  }

  Stmt visit(const IfThenElse* op, const Stmt& s) override {
    ++conditions_;
    Stmt r = IRMutator::visit(op, s);
    --conditions_;
    return r;
  }

  Stmt visit(const Allocate* op, const Stmt& s) override {
    if (op->buffer->scope != "shared") return IRMutator::visit(op, s);
    const std::string& name = op->buffer->name;
    // No threads around it (a CPU nest, or a GPU nest that runs as one thread): the copy as
    // built is already the whole of it, and there is nobody to wait for.
    if (threads_.empty()) return IRMutator::visit(op, s);
    if (conditions_ > 0)
      throw Error("shared memory: the copy into '" + name +
                  "' lies under a condition, so not every thread of the block would reach its "
                  "barrier; use splits that divide their loops");
    const Seq* seq = op->body.as<Seq>();
    if (!seq || seq->stmts.size() < 2)
      throw Error("shared memory: '" + name + "' is not a copy followed by its readers");
    // The copy nest: perfect loops down to one store into the buffer.
    std::vector<const For*> loops;
    Stmt inner = seq->stmts[0];
    while (const For* f = inner.as<For>()) {
      if (f->forKind == ForKind::ThreadBinding || !asConstInt(f->extent) || !asConstInt(f->min))
        throw Error("shared memory: the copy into '" + name + "' is not a nest of constant loops");
      loops.push_back(f);
      inner = f->body;
    }
    const Store* store = inner.as<Store>();
    if (!store || store->buffer.get() != op->buffer.get())
      throw Error("shared memory: the copy into '" + name + "' is not a single store");

    // The thread's index within the block (x fastest) and the block's thread count.
    Expr tid;
    int64_t block = 1;
    for (const char* tag : {"threadIdx.z", "threadIdx.y", "threadIdx.x"}) {
      for (auto it = threads_.rbegin(); it != threads_.rend(); ++it) {
        if (it->tag != tag) continue;
        tid = tid.defined() ? tid * Expr(it->extent) + it->var : it->var;
        block *= it->extent;
        break;
      }
    }
    int64_t total = 1;
    for (const For* f : loops) total *= *asConstInt(f->extent);
    Var k = te::makeVar(name + ".k");
    Expr idx = k * Expr(block) + tid;
    std::vector<std::pair<Var, Expr>> map;
    int64_t stride = total;
    for (const For* f : loops) {
      const int64_t e = *asConstInt(f->extent);
      stride /= e;
      Expr v = stride > 1 ? idx / Expr(stride) : idx;
      if (stride * e < total) v = v % Expr(e);
      map.emplace_back(f->var, v + f->min);
    }
    Stmt copy = substitute(inner, map);
    if (total % block != 0) copy = IfThenElse::make(idx < Expr(total), copy);
    copy = For::make(k, 0, (total + block - 1) / block, ForKind::Serial, copy, "");

    Stmt barrier = Evaluate::make(
        Expr(std::make_shared<te::Call>(DType::I32, "kiln.barrier", std::vector<Expr>{})));
    std::vector<Stmt> rest(seq->stmts.begin() + 1, seq->stmts.end());
    Stmt readers = mutate(Seq::make(rest));
    return Allocate::make(op->buffer, Seq::make({copy, barrier, readers, barrier}));
  }

 private:
  struct Thread {
    Var var;
    int64_t extent;
    std::string tag;
  };
  std::vector<Thread> threads_;
  int conditions_ = 0;
};

}  // namespace

Stmt cooperativeCopies(const Stmt& s) {
  return Cooperative().mutate(s);
}

}  // namespace kiln::tir
