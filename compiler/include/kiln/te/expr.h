// Scalar expressions shared by tensor expressions (te) and the loop IR (tir).
//
// Nodes are small immutable structs built with make(); an Expr is a shared pointer to one.
// Index arithmetic is int64, tensor data is whatever the tensor's element type is, and
// comparisons yield Bool. An expression has `lanes` (1: a scalar); only the vectorization
// pass makes vectors, from Ramp (base, base + stride, ...) and Broadcast (one value in every
// lane), and every node built from vectors is a vector of the same lanes. Tensor reads come in two
// forms: TensorRead (multi-dimensional, what operator definitions write) and Load (a flat buffer
// read, what storage flattening turns TensorReads into). Passes walk them with tir::IRVisitor /
// tir::IRMutator.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/runtime/dtype.h"

namespace kiln::te {

enum class ExprKind {
  IntImm,
  FloatImm,
  Var,
  Binary,
  Not,
  Select,
  Cast,
  Call,
  TensorRead,
  Load,
  Reduce,
  Ramp,
  Broadcast
};

struct ExprNode {
  ExprKind kind;
  DType type;
  int lanes = 1;  // the element type is `type`; a vector when above 1
  ExprNode(ExprKind k, DType t, int l = 1) : kind(k), type(t), lanes(l) {}
  virtual ~ExprNode() = default;
};

class Expr {
 public:
  Expr() = default;
  explicit Expr(std::shared_ptr<const ExprNode> n) : node_(std::move(n)) {}
  Expr(int64_t v);  // NOLINT: an int64 immediate
  Expr(int v);      // NOLINT
  Expr(float v);    // NOLINT: a float32 immediate

  bool defined() const { return node_ != nullptr; }
  const ExprNode* get() const { return node_.get(); }
  const ExprNode* operator->() const { return node_.get(); }
  DType type() const { return node_->type; }
  int lanes() const { return node_->lanes; }
  bool same(const Expr& o) const { return node_ == o.node_; }
  template <typename T>
  const T* as() const {
    return node_ && node_->kind == T::kKind ? static_cast<const T*>(node_.get()) : nullptr;
  }

 private:
  std::shared_ptr<const ExprNode> node_;
};

struct IntImm : ExprNode {
  static constexpr ExprKind kKind = ExprKind::IntImm;
  int64_t value;
  IntImm(DType t, int64_t v) : ExprNode(kKind, t), value(v) {}
  static Expr make(int64_t v, DType t = DType::I64);
};

struct FloatImm : ExprNode {
  static constexpr ExprKind kKind = ExprKind::FloatImm;
  double value;
  FloatImm(DType t, double v) : ExprNode(kKind, t), value(v) {}
  static Expr make(double v, DType t = DType::F32);
};

// A variable: a loop index, a let binding or an axis of a compute. Identity is the node.
struct VarNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Var;
  std::string name;
  VarNode(DType t, std::string n) : ExprNode(kKind, t), name(std::move(n)) {}
};
using Var = Expr;  // an Expr whose node is a VarNode
Expr makeVar(const std::string& name, DType t = DType::I64);

enum class BinOp { Add, Sub, Mul, Div, Mod, Min, Max, EQ, NE, LT, LE, GT, GE, And, Or };
const char* binOpName(BinOp op);
bool isComparison(BinOp op);

// Div and Mod on integers round toward negative infinity (floor division), so that
// index arithmetic over negative offsets (padding) is exact.
struct Binary : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Binary;
  BinOp op;
  Expr a, b;
  Binary(DType t, BinOp o, Expr x, Expr y)
      : ExprNode(kKind, t, x.lanes()), op(o), a(std::move(x)), b(std::move(y)) {}
  // Throws kiln::Error when the operand types or lanes differ.
  static Expr make(BinOp op, Expr a, Expr b);
};

struct Not : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Not;
  Expr a;
  explicit Not(Expr x) : ExprNode(kKind, DType::Bool, x.lanes()), a(std::move(x)) {}
  static Expr make(Expr a);
};

// cond ? t : f. Both sides are evaluated (code generators may emit a branch-free select),
// so both must be safe to evaluate: guard a read with clamped indices, never rely on the
// condition to skip an out-of-bounds read. A scalar condition may select between vectors.
struct Select : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Select;
  Expr cond, t, f;
  Select(Expr c, Expr x, Expr y)
      : ExprNode(kKind, x.type(), x.lanes()),
        cond(std::move(c)),
        t(std::move(x)),
        f(std::move(y)) {}
  static Expr make(Expr cond, Expr t, Expr f);
};

struct Cast : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Cast;
  Expr a;
  Cast(DType t, Expr x) : ExprNode(kKind, t, x.lanes()), a(std::move(x)) {}
  static Expr make(DType t, Expr a);
};

// A pure math intrinsic on floats: exp, log, sqrt, tanh, erf, floor, ceil, fabs, pow; or
// requantize(x, multiplier, shift) on int32: the accelerator's REQUANT (x * multiplier, shifted
// right with rounding, saturated to int8). Tensorized loop nests also become Calls, named
// after their tensor intrinsic (see schedule/tensor_intrin.h).
struct Call : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Call;
  std::string name;
  std::vector<Expr> args;
  Call(DType t, std::string n, std::vector<Expr> a)
      : ExprNode(kKind, t, a.empty() ? 1 : a[0].lanes()), name(std::move(n)), args(std::move(a)) {}
  // Throws kiln::Error for an unknown intrinsic.
  static Expr make(const std::string& name, std::vector<Expr> args);
};
bool isKnownIntrinsic(const std::string& name);

struct TensorNode;
using Tensor = std::shared_ptr<const TensorNode>;

// tensor[indices...] before storage flattening.
struct TensorRead : ExprNode {
  static constexpr ExprKind kKind = ExprKind::TensorRead;
  Tensor tensor;
  std::vector<Expr> indices;
  TensorRead(DType t, Tensor tn, std::vector<Expr> idx);
  // Throws kiln::Error when the number of indices is not the tensor's rank.
  static Expr make(const Tensor& tensor, std::vector<Expr> indices);
};

// A flat, typed region of memory: a kernel argument or a kernel-local allocation.
struct BufferNode {
  std::string name;
  DType dtype;
  int64_t numel;
  std::string scope;  // memory scope ("" = ordinary memory), from the tensor it stores
};
using Buffer = std::shared_ptr<const BufferNode>;
Buffer makeBuffer(std::string name, DType dtype, int64_t numel, std::string scope = "");

// buffer[index] after storage flattening; a vector of loads when the index is a vector.
struct Load : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Load;
  Buffer buffer;
  Expr index;
  Load(Buffer b, Expr i)
      : ExprNode(kKind, b->dtype, i.lanes()), buffer(std::move(b)), index(std::move(i)) {}
  static Expr make(Buffer buffer, Expr index);
};

// The vector (base, base + stride, ..., base + (lanes - 1) * stride) of scalar integers
// base and stride: a vectorized loop's variable.
struct Ramp : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Ramp;
  Expr base, stride;
  Ramp(Expr b, Expr s, int l)
      : ExprNode(kKind, b.type(), l), base(std::move(b)), stride(std::move(s)) {}
  // Throws kiln::Error unless base and stride are scalar integers of one type and lanes >= 2.
  static Expr make(Expr base, Expr stride, int lanes);
};

// A scalar value in every one of `lanes` lanes.
struct Broadcast : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Broadcast;
  Expr value;
  Broadcast(Expr v, int l) : ExprNode(kKind, v.type(), l), value(std::move(v)) {}
  // Throws kiln::Error unless value is a scalar and lanes >= 2.
  static Expr make(Expr value, int lanes);
};

// An iteration axis of a compute: a variable ranging over [0, extent).
struct IterVar {
  Var var;
  int64_t extent = 0;
  const std::string& name() const;
};
IterVar makeAxis(const std::string& name, int64_t extent);

enum class ReduceKind { Sum, Max, Min };
const char* reduceName(ReduceKind k);

// A reduction over `axes` of `source`; only valid as the whole body of a compute.
struct Reduce : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Reduce;
  ReduceKind combiner;
  Expr source;
  std::vector<IterVar> axes;
  Reduce(ReduceKind c, Expr s, std::vector<IterVar> ax)
      : ExprNode(kKind, s.type()), combiner(c), source(std::move(s)), axes(std::move(ax)) {}
  static Expr make(ReduceKind c, Expr source, std::vector<IterVar> axes);
};
// The identity element of a reduction (0, -inf, +inf, or the integer extremes).
Expr reduceIdentity(ReduceKind c, DType t);
// The combined value of an accumulator and a new element.
Expr reduceCombine(ReduceKind c, Expr acc, Expr v);

// Expression-building sugar (the operator library reads like the math it computes).
Expr operator+(Expr a, Expr b);
Expr operator-(Expr a, Expr b);
Expr operator*(Expr a, Expr b);
Expr operator/(Expr a, Expr b);
Expr operator%(Expr a, Expr b);
Expr operator-(Expr a);
Expr operator<(Expr a, Expr b);
Expr operator<=(Expr a, Expr b);
Expr operator>(Expr a, Expr b);
Expr operator>=(Expr a, Expr b);
Expr operator&&(Expr a, Expr b);
Expr operator||(Expr a, Expr b);
Expr operator!(Expr a);
Expr eq(Expr a, Expr b);
Expr ne(Expr a, Expr b);
Expr min(Expr a, Expr b);
Expr max(Expr a, Expr b);
Expr select(Expr c, Expr t, Expr f);
Expr cast(DType t, Expr a);
Expr call(const std::string& name, std::vector<Expr> args);
Expr floatImm(double v, DType t = DType::F32);
Expr intImm(int64_t v, DType t = DType::I64);

bool isFloat(DType t);
// The integer value of an IntImm, or nullptr.
const int64_t* asConstInt(const Expr& e);

}  // namespace kiln::te
