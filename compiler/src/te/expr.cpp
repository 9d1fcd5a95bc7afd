// Constructors of the scalar expression nodes: they check operand types, so an operator
// definition that mixes int64 indices with float data fails where it is written.
#include "kiln/te/expr.h"

#include <cmath>
#include <limits>
#include <set>

#include "kiln/runtime/error.h"
#include "kiln/te/tensor.h"

namespace kiln::te {

Expr::Expr(int64_t v) : node_(std::make_shared<IntImm>(DType::I64, v)) {}
Expr::Expr(int v) : node_(std::make_shared<IntImm>(DType::I64, v)) {}
Expr::Expr(float v) : node_(std::make_shared<FloatImm>(DType::F32, v)) {}

bool isFloat(DType t) {
  return t == DType::F32 || t == DType::F16;
}

const int64_t* asConstInt(const Expr& e) {
  const IntImm* i = e.as<IntImm>();
  return i ? &i->value : nullptr;
}

Expr IntImm::make(int64_t v, DType t) {
  return Expr(std::make_shared<IntImm>(t, v));
}
Expr FloatImm::make(double v, DType t) {
  return Expr(std::make_shared<FloatImm>(t, v));
}
Expr makeVar(const std::string& name, DType t) {
  return Expr(std::make_shared<VarNode>(t, name));
}
Expr floatImm(double v, DType t) {
  return FloatImm::make(v, t);
}
Expr intImm(int64_t v, DType t) {
  return IntImm::make(v, t);
}

const char* binOpName(BinOp op) {
  switch (op) {
    case BinOp::Add:
      return "+";
    case BinOp::Sub:
      return "-";
    case BinOp::Mul:
      return "*";
    case BinOp::Div:
      return "/";
    case BinOp::Mod:
      return "%";
    case BinOp::Min:
      return "min";
    case BinOp::Max:
      return "max";
    case BinOp::EQ:
      return "==";
    case BinOp::NE:
      return "!=";
    case BinOp::LT:
      return "<";
    case BinOp::LE:
      return "<=";
    case BinOp::GT:
      return ">";
    case BinOp::GE:
      return ">=";
    case BinOp::And:
      return "&&";
    case BinOp::Or:
      return "||";
  }
  return "?";
}

bool isComparison(BinOp op) {
  return op >= BinOp::EQ && op <= BinOp::GE;
}

Expr Binary::make(BinOp op, Expr a, Expr b) {
  if (!a.defined() || !b.defined())
    throw Error("te: binary '" + std::string(binOpName(op)) + "' on an undefined operand");
  if (a.type() != b.type())
    throw Error("te: operands of '" + std::string(binOpName(op)) + "' have types " +
                std::string(dtypeName(a.type())) + " and " + std::string(dtypeName(b.type())) +
                "; insert a cast");
  if (a.lanes() != b.lanes())
    throw Error("te: operands of '" + std::string(binOpName(op)) + "' have " +
                std::to_string(a.lanes()) + " and " + std::to_string(b.lanes()) + " lanes");
  if ((op == BinOp::And || op == BinOp::Or) && a.type() != DType::Bool)
    throw Error("te: '" + std::string(binOpName(op)) + "' needs boolean operands");
  DType t = isComparison(op) ? DType::Bool : a.type();
  return Expr(std::make_shared<Binary>(t, op, std::move(a), std::move(b)));
}

Expr Not::make(Expr a) {
  if (a.type() != DType::Bool) throw Error("te: '!' needs a boolean operand");
  return Expr(std::make_shared<Not>(std::move(a)));
}

Expr Select::make(Expr cond, Expr t, Expr f) {
  if (cond.type() != DType::Bool) throw Error("te: select condition must be boolean");
  if (t.type() != f.type())
    throw Error("te: select branches have types " + std::string(dtypeName(t.type())) + " and " +
                std::string(dtypeName(f.type())));
  if (t.lanes() != f.lanes() || (cond.lanes() != 1 && cond.lanes() != t.lanes()))
    throw Error("te: select of " + std::to_string(cond.lanes()) + "-lane condition, " +
                std::to_string(t.lanes()) + " and " + std::to_string(f.lanes()) + " lanes");
  return Expr(std::make_shared<Select>(std::move(cond), std::move(t), std::move(f)));
}

Expr Cast::make(DType t, Expr a) {
  if (a.type() == t) return a;
  return Expr(std::make_shared<Cast>(t, std::move(a)));
}

bool isKnownIntrinsic(const std::string& name) {
  static const std::set<std::string> known = {"exp",   "log",  "sqrt", "tanh", "erf",
                                              "floor", "ceil", "fabs", "pow",  "requantize"};
  return known.count(name) != 0;
}

Expr Call::make(const std::string& name, std::vector<Expr> args) {
  if (!isKnownIntrinsic(name)) throw Error("te: unknown intrinsic '" + name + "'");
  if (name == "requantize") {
    if (args.size() != 3)
      throw Error("te: intrinsic 'requantize' takes 3 arguments (x, multiplier, shift)");
    for (const Expr& a : args)
      if (isFloat(a.type()) || a.type() == DType::Bool)
        throw Error("te: intrinsic 'requantize' needs integer arguments");
    return Expr(std::make_shared<Call>(DType::I32, name, std::move(args)));
  }
  size_t arity = name == "pow" ? 2 : 1;
  if (args.size() != arity)
    throw Error("te: intrinsic '" + name + "' takes " + std::to_string(arity) + " argument(s)");
  for (const Expr& a : args)
    if (!isFloat(a.type())) throw Error("te: intrinsic '" + name + "' needs float arguments");
  DType t = args[0].type();
  return Expr(std::make_shared<Call>(t, name, std::move(args)));
}

TensorRead::TensorRead(DType t, Tensor tn, std::vector<Expr> idx)
    : ExprNode(kKind, t), tensor(std::move(tn)), indices(std::move(idx)) {}

Expr TensorRead::make(const Tensor& tensor, std::vector<Expr> indices) {
  if (static_cast<int64_t>(indices.size()) != tensor->rank())
    throw Error("te: tensor '" + tensor->name + "' of rank " + std::to_string(tensor->rank()) +
                " read with " + std::to_string(indices.size()) + " indices");
  for (const Expr& i : indices)
    if (i.type() != DType::I64) throw Error("te: index into '" + tensor->name + "' is not int64");
  return Expr(std::make_shared<TensorRead>(tensor->dtype, tensor, std::move(indices)));
}

Buffer makeBuffer(std::string name, DType dtype, int64_t numel, std::string scope) {
  return std::make_shared<BufferNode>(BufferNode{std::move(name), dtype, numel, std::move(scope)});
}

Expr Load::make(Buffer buffer, Expr index) {
  if (index.type() != DType::I64)
    throw Error("te: index into buffer '" + buffer->name + "' is not int64");
  return Expr(std::make_shared<Load>(std::move(buffer), std::move(index)));
}

Expr Ramp::make(Expr base, Expr stride, int lanes) {
  if (lanes < 2 || base.lanes() != 1 || stride.lanes() != 1 || base.type() != stride.type() ||
      isFloat(base.type()) || base.type() == DType::Bool)
    throw Error("te: a ramp needs a scalar integer base and stride of one type and 2+ lanes");
  return Expr(std::make_shared<Ramp>(std::move(base), std::move(stride), lanes));
}

Expr Broadcast::make(Expr value, int lanes) {
  if (lanes < 2 || value.lanes() != 1)
    throw Error("te: a broadcast needs a scalar value and 2+ lanes");
  return Expr(std::make_shared<Broadcast>(std::move(value), lanes));
}

const std::string& IterVar::name() const {
  return var.as<VarNode>()->name;
}

IterVar makeAxis(const std::string& name, int64_t extent) {
  if (extent <= 0) throw Error("te: axis '" + name + "' has extent " + std::to_string(extent));
  return IterVar{makeVar(name), extent};
}

const char* reduceName(ReduceKind k) {
  switch (k) {
    case ReduceKind::Sum:
      return "sum";
    case ReduceKind::Max:
      return "max";
    case ReduceKind::Min:
      return "min";
  }
  return "?";
}

Expr Reduce::make(ReduceKind c, Expr source, std::vector<IterVar> axes) {
  if (axes.empty()) throw Error("te: a reduction needs at least one axis");
  return Expr(std::make_shared<Reduce>(c, std::move(source), std::move(axes)));
}

Expr reduceIdentity(ReduceKind c, DType t) {
  if (isFloat(t)) {
    double inf = std::numeric_limits<double>::infinity();
    return FloatImm::make(c == ReduceKind::Sum ? 0.0 : c == ReduceKind::Max ? -inf : inf, t);
  }
  int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  switch (t) {
    case DType::I8:
      lo = -128, hi = 127;
      break;
    case DType::U8:
    case DType::Bool:
      lo = 0, hi = 255;
      break;
    case DType::I32:
      lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
      break;
    default:
      break;
  }
  return IntImm::make(c == ReduceKind::Sum ? 0 : c == ReduceKind::Max ? lo : hi, t);
}

Expr reduceCombine(ReduceKind c, Expr acc, Expr v) {
  switch (c) {
    case ReduceKind::Sum:
      return Binary::make(BinOp::Add, std::move(acc), std::move(v));
    case ReduceKind::Max:
      return Binary::make(BinOp::Max, std::move(acc), std::move(v));
    case ReduceKind::Min:
      return Binary::make(BinOp::Min, std::move(acc), std::move(v));
  }
  return {};
}

Expr operator+(Expr a, Expr b) {
  return Binary::make(BinOp::Add, std::move(a), std::move(b));
}
Expr operator-(Expr a, Expr b) {
  return Binary::make(BinOp::Sub, std::move(a), std::move(b));
}
Expr operator*(Expr a, Expr b) {
  return Binary::make(BinOp::Mul, std::move(a), std::move(b));
}
Expr operator/(Expr a, Expr b) {
  return Binary::make(BinOp::Div, std::move(a), std::move(b));
}
Expr operator%(Expr a, Expr b) {
  return Binary::make(BinOp::Mod, std::move(a), std::move(b));
}
Expr operator-(Expr a) {
  Expr zero = isFloat(a.type()) ? FloatImm::make(0.0, a.type()) : IntImm::make(0, a.type());
  return Binary::make(BinOp::Sub, zero, std::move(a));
}
Expr operator<(Expr a, Expr b) {
  return Binary::make(BinOp::LT, std::move(a), std::move(b));
}
Expr operator<=(Expr a, Expr b) {
  return Binary::make(BinOp::LE, std::move(a), std::move(b));
}
Expr operator>(Expr a, Expr b) {
  return Binary::make(BinOp::GT, std::move(a), std::move(b));
}
Expr operator>=(Expr a, Expr b) {
  return Binary::make(BinOp::GE, std::move(a), std::move(b));
}
Expr operator&&(Expr a, Expr b) {
  return Binary::make(BinOp::And, std::move(a), std::move(b));
}
Expr operator||(Expr a, Expr b) {
  return Binary::make(BinOp::Or, std::move(a), std::move(b));
}
Expr operator!(Expr a) {
  return Not::make(std::move(a));
}
Expr eq(Expr a, Expr b) {
  return Binary::make(BinOp::EQ, std::move(a), std::move(b));
}
Expr ne(Expr a, Expr b) {
  return Binary::make(BinOp::NE, std::move(a), std::move(b));
}
Expr min(Expr a, Expr b) {
  return Binary::make(BinOp::Min, std::move(a), std::move(b));
}
Expr max(Expr a, Expr b) {
  return Binary::make(BinOp::Max, std::move(a), std::move(b));
}
Expr select(Expr c, Expr t, Expr f) {
  return Select::make(std::move(c), std::move(t), std::move(f));
}
Expr cast(DType t, Expr a) {
  return Cast::make(t, std::move(a));
}
Expr call(const std::string& name, std::vector<Expr> args) {
  return Call::make(name, std::move(args));
}

}  // namespace kiln::te
