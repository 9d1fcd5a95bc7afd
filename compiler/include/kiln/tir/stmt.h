// Statements of the loop IR: what lowering produces and every code generator consumes.
//
// Before storage flattening a kernel writes tensors with Provide and reads them with
// te::TensorRead, and intermediate tensors live in a Realize; afterwards only flat
// Store / te::Load on Buffers and Allocate remain. Nodes are immutable; build them with make().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kiln/te/expr.h"
#include "kiln/te/tensor.h"

namespace kiln::tir {

using te::Buffer;
using te::Expr;
using te::Tensor;
using te::Var;

enum class StmtKind { For, LetStmt, Store, Provide, Allocate, Realize, IfThenElse, Seq, Evaluate };

struct StmtNode {
  StmtKind kind;
  explicit StmtNode(StmtKind k) : kind(k) {}
  virtual ~StmtNode() = default;
};

class Stmt {
 public:
  Stmt() = default;
  Stmt(std::shared_ptr<const StmtNode> n) : node_(std::move(n)) {}  // NOLINT: implicit on purpose
  bool defined() const { return node_ != nullptr; }
  const StmtNode* get() const { return node_.get(); }
  const StmtNode* operator->() const { return node_.get(); }
  bool same(const Stmt& o) const { return node_ == o.node_; }
  template <typename T>
  const T* as() const {
    return node_ && node_->kind == T::kKind ? static_cast<const T*>(node_.get()) : nullptr;
  }

 private:
  std::shared_ptr<const StmtNode> node_;
};

// How a loop runs. Vectorized and Unrolled are requests: the unroll pass expands unrolled
// loops with a constant extent; the vectorize pass turns vectorized ones into vector
// statements for a target with vector registers, and the LLVM back end asks its loop
// vectorizer for those it leaves.
// ThreadBinding: the loop is not a loop at all but the index of a GPU thread, block or
// fragment (For::threadTag says which: blockIdx.x, threadIdx.y, fragment, ...), its extent
// the launch size along that axis. Passes keep such loops intact, even of extent 1; the GPU
// and shader code generators turn them into launch dimensions, the CPU code generator refuses
// them.
enum class ForKind { Serial, Parallel, Vectorized, Unrolled, ThreadBinding };
const char* forKindName(ForKind k);

// The thread tags a loop can be bound to: blockIdx.{x,y,z}, threadIdx.{x,y,z} (CUDA and
// OpenCL: group and local ids) and "fragment" (GLSL: one output element per fragment).
bool isThreadTag(const std::string& tag);

struct For : StmtNode {
  static constexpr StmtKind kKind = StmtKind::For;
  Var var;
  Expr min, extent;
  ForKind forKind;
  Stmt body;
  std::string threadTag;  // set exactly when forKind is ThreadBinding
  For(Var v, Expr mn, Expr ext, ForKind k, Stmt b, std::string tag)
      : StmtNode(kKind),
        var(std::move(v)),
        min(std::move(mn)),
        extent(std::move(ext)),
        forKind(k),
        body(std::move(b)),
        threadTag(std::move(tag)) {}
  // Throws kiln::Error when a ThreadBinding loop has no valid tag or another kind has one.
  static Stmt make(Var var, Expr min, Expr extent, ForKind kind, Stmt body,
                   std::string threadTag = "");
  // The same loop (kind, tag, variable) around other bounds and body: what passes rebuild.
  static Stmt make(const For* like, Expr min, Expr extent, Stmt body);
};

struct LetStmt : StmtNode {
  static constexpr StmtKind kKind = StmtKind::LetStmt;
  Var var;
  Expr value;
  Stmt body;
  LetStmt(Var v, Expr val, Stmt b)
      : StmtNode(kKind), var(std::move(v)), value(std::move(val)), body(std::move(b)) {}
  static Stmt make(Var var, Expr value, Stmt body);
};

struct Store : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Store;
  Buffer buffer;
  Expr index, value;
  Store(Buffer b, Expr i, Expr v)
      : StmtNode(kKind), buffer(std::move(b)), index(std::move(i)), value(std::move(v)) {}
  static Stmt make(Buffer buffer, Expr index, Expr value);
};

// tensor[indices...] = value, before storage flattening.
struct Provide : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Provide;
  Tensor tensor;
  std::vector<Expr> indices;
  Expr value;
  Provide(Tensor t, std::vector<Expr> i, Expr v)
      : StmtNode(kKind), tensor(std::move(t)), indices(std::move(i)), value(std::move(v)) {}
  static Stmt make(Tensor tensor, std::vector<Expr> indices, Expr value);
};

// A kernel-local buffer, live for the body.
struct Allocate : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Allocate;
  Buffer buffer;
  Stmt body;
  Allocate(Buffer b, Stmt s) : StmtNode(kKind), buffer(std::move(b)), body(std::move(s)) {}
  static Stmt make(Buffer buffer, Stmt body);
};

// Storage for an intermediate tensor, live for the body (before flattening): its whole shape,
// or only the box starting at `min` with `extent` elements per dimension (a compute_at stage
// realized inside its consumer's loop). Reads and writes must stay inside the box.
struct Realize : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Realize;
  Tensor tensor;
  std::vector<Expr> min;  // empty: the whole tensor from 0
  Shape extent;
  Stmt body;
  Realize(Tensor t, std::vector<Expr> mn, Shape ext, Stmt s)
      : StmtNode(kKind),
        tensor(std::move(t)),
        min(std::move(mn)),
        extent(std::move(ext)),
        body(std::move(s)) {}
  static Stmt make(Tensor tensor, Stmt body, std::vector<Expr> min = {}, Shape extent = {});
};

struct IfThenElse : StmtNode {
  static constexpr StmtKind kKind = StmtKind::IfThenElse;
  Expr cond;
  Stmt thenCase, elseCase;  // elseCase may be undefined
  IfThenElse(Expr c, Stmt t, Stmt e)
      : StmtNode(kKind), cond(std::move(c)), thenCase(std::move(t)), elseCase(std::move(e)) {}
  static Stmt make(Expr cond, Stmt thenCase, Stmt elseCase = Stmt());
};

struct Seq : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Seq;
  std::vector<Stmt> stmts;
  explicit Seq(std::vector<Stmt> s) : StmtNode(kKind), stmts(std::move(s)) {}
  // Flattens nested Seqs; a single statement is returned as is.
  static Stmt make(std::vector<Stmt> stmts);
};

struct Evaluate : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Evaluate;
  Expr value;
  explicit Evaluate(Expr v) : StmtNode(kKind), value(std::move(v)) {}
  static Stmt make(Expr value);
};

}  // namespace kiln::tir
