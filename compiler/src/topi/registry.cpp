// The table from graph operators to their definitions in the operator library: it reads a
// node's canonical attributes (ops/op_registry.h) and calls the one definition.
#include "kiln/topi/registry.h"

#include <cctype>
#include <cmath>
#include <functional>
#include <map>

#include "kiln/runtime/error.h"
#include "kiln/topi/topi.h"

namespace kiln::topi {

namespace {

using namespace te;  // NOLINT
using Inputs = std::vector<Tensor>;
using Def = std::function<std::vector<Tensor>(const Node&, const Inputs&, const std::string& name)>;

Def unary(std::function<Expr(const Node&, Expr)> f) {
  return [f](const Node& n, const Inputs& in, const std::string& name) -> std::vector<Tensor> {
    if (!isFloat(in[0]->dtype)) throw Error(n.op + " is compiled for float tensors only");
    return {elementwise(
        in[0], [&](Expr x) { return f(n, x); }, name)};
  };
}

Def binary(BinaryKind k) {
  return [k](const Node&, const Inputs& in, const std::string& name) -> std::vector<Tensor> {
    return {broadcastBinary(in[0], in[1], k, name)};
  };
}

Expr fimm(double v, const Expr& like) {
  return floatImm(v, like.type());
}

std::map<std::string, Def> buildTable() {
  std::map<std::string, Def> t;
  t["Relu"] = unary([](const Node&, Expr x) { return max(x, fimm(0, x)); });
  t["Sigmoid"] =
      unary([](const Node&, Expr x) { return fimm(1, x) / (fimm(1, x) + call("exp", {-x})); });
  t["Tanh"] = unary([](const Node&, Expr x) { return call("tanh", {x}); });
  t["Exp"] = unary([](const Node&, Expr x) { return call("exp", {x}); });
  t["Log"] = unary([](const Node&, Expr x) { return call("log", {x}); });
  t["Sqrt"] = unary([](const Node&, Expr x) { return call("sqrt", {x}); });
  t["Neg"] = unary([](const Node&, Expr x) { return -x; });
  t["Abs"] = unary([](const Node&, Expr x) { return call("fabs", {x}); });
  t["Reciprocal"] = unary([](const Node&, Expr x) { return fimm(1, x) / x; });
  t["Erf"] = unary([](const Node&, Expr x) { return call("erf", {x}); });
  t["Floor"] = unary([](const Node&, Expr x) { return call("floor", {x}); });
  t["Ceil"] = unary([](const Node&, Expr x) { return call("ceil", {x}); });
  t["LeakyRelu"] = unary(
      [](const Node& n, Expr x) { return select(x >= fimm(0, x), x, x * fimm(n.f("alpha"), x)); });
  // Clip bounds are float32 values in a float model, as in the source framework.
  t["Clip"] = unary([](const Node& n, Expr x) {
    return min(max(x, fimm(static_cast<float>(n.f("min")), x)),
               fimm(static_cast<float>(n.f("max")), x));
  });
  t["Identity"] = [](const Node&, const Inputs& in,
                     const std::string& name) -> std::vector<Tensor> {
    return {elementwise(
        in[0], [](Expr x) { return x; }, name)};
  };
  t["QuantizeLinear"] = [](const Node& n, const Inputs& in,
                           const std::string& name) -> std::vector<Tensor> {
    return {quantizeLinear(in[0], n.f("scale"), name)};
  };
  t["DequantizeLinear"] = [](const Node& n, const Inputs& in,
                             const std::string& name) -> std::vector<Tensor> {
    return {dequantizeLinear(in[0], n.f("scale"), name)};
  };
  t["Cast"] = [](const Node& n, const Inputs& in, const std::string& name) -> std::vector<Tensor> {
    DType to = static_cast<DType>(n.i("to"));
    return {elementwise(
        in[0], [&](Expr x) { return cast(to, x); }, name)};
  };
  t["Gather"] = [](const Node& n, const Inputs& in,
                   const std::string& name) -> std::vector<Tensor> {
    // Constant indices (the usual case) are checked here, as the reference executor checks
    // them; indices computed at run time are clamped into range by the kernel.
    if (const Value* idx = n.input(1); idx && idx->isConstant()) {
      const int64_t size = n.inputs[0]->shape.at(static_cast<size_t>(n.i("axis")));
      for (int64_t i : idx->constant->toInt64Vector())
        if (i < -size || i >= size)
          throw Error(n.describe() + ": index " + std::to_string(i) +
                      " out of range for axis of size " + std::to_string(size));
    }
    return {gather(in[0], in[1], n.i("axis"), name)};
  };
  // The shape is known statically: a constant vector.
  t["Shape"] = [](const Node&, const Inputs& in, const std::string& name) -> std::vector<Tensor> {
    const Shape& s = in[0]->shape;
    if (s.empty())
      throw Error("Shape of a scalar is an empty tensor, which a kernel cannot produce");
    return {te::compute(name, {static_cast<int64_t>(s.size())}, [&](const Indices& i) {
      Expr r = Expr(s.back());
      for (size_t d = s.size() - 1; d-- > 0;)
        r = select(eq(i[0], Expr(static_cast<int64_t>(d))), Expr(s[d]), r);
      return r;
    })};
  };
  t["Add"] = binary(BinaryKind::Add);
  t["Sub"] = binary(BinaryKind::Sub);
  t["Mul"] = binary(BinaryKind::Mul);
  t["Div"] = binary(BinaryKind::Div);
  t["Pow"] = binary(BinaryKind::Pow);
  t["Conv"] = [](const Node& n, const Inputs& in, const std::string& name) -> std::vector<Tensor> {
    return {conv2d(in[0], in[1], in.size() > 2 ? in[2] : nullptr, n.ints("strides"), n.ints("pads"),
                   n.ints("dilations"), n.i("group"), name)};
  };
  auto pool = [](PoolKind k) {
    return [k](const Node& n, const Inputs& in, const std::string& name) -> std::vector<Tensor> {
      return {pool2d(in[0], k, n.ints("kernel_shape"), n.ints("strides"), n.ints("pads"),
                     n.ints("dilations", {1, 1}), n.i("ceil_mode", 0) != 0,
                     n.i("count_include_pad", 0) != 0, name)};
    };
  };
  t["MaxPool"] = pool(PoolKind::Max);
  t["AveragePool"] = pool(PoolKind::Average);
  t["GlobalAveragePool"] = [](const Node&, const Inputs& in,
                              const std::string& name) -> std::vector<Tensor> {
    return {globalPool(in[0], PoolKind::Average, name)};
  };
  t["GlobalMaxPool"] = [](const Node&, const Inputs& in,
                          const std::string& name) -> std::vector<Tensor> {
    return {globalPool(in[0], PoolKind::Max, name)};
  };
  t["BatchNormalization"] = [](const Node& n, const Inputs& in,
                               const std::string& name) -> std::vector<Tensor> {
    return {batchNorm(in[0], in[1], in[2], in[3], in[4], n.f("epsilon"), name)};
  };
  t["Gemm"] = [](const Node& n, const Inputs& in, const std::string& name) -> std::vector<Tensor> {
    return {gemm(in[0], in[1], in.size() > 2 ? in[2] : nullptr, n.i("transA") != 0,
                 n.i("transB") != 0, n.f("alpha"), n.f("beta"), name)};
  };
  t["MatMul"] = [](const Node& n, const Inputs& in,
                   const std::string& name) -> std::vector<Tensor> {
    return {matmul(in[0], in[1], n.outputs[0]->shape, name)};
  };
  t["Softmax"] = [](const Node& n, const Inputs& in,
                    const std::string& name) -> std::vector<Tensor> {
    return {softmax(in[0], n.i("axis"), name)};
  };
  t["Concat"] = [](const Node& n, const Inputs& in,
                   const std::string& name) -> std::vector<Tensor> {
    return {concat(in, n.i("axis"), name)};
  };
  t["Transpose"] = [](const Node& n, const Inputs& in,
                      const std::string& name) -> std::vector<Tensor> {
    return {transpose(in[0], n.ints("perm"), name)};
  };
  t["Reshape"] = [](const Node& n, const Inputs& in,
                    const std::string& name) -> std::vector<Tensor> {
    return {reshape(in[0], n.outputs[0]->shape, name)};
  };
  t["Pad"] = [](const Node& n, const Inputs& in, const std::string& name) -> std::vector<Tensor> {
    return {pad(in[0], n.ints("pads"), n.f("value"), name)};
  };
  t["Im2col"] = [](const Node& n, const Inputs& in,
                   const std::string& name) -> std::vector<Tensor> {
    return {im2col(in[0], n.ints("kernel_shape"), n.ints("strides"), n.ints("pads"), name)};
  };
  t["Slice"] = [](const Node& n, const Inputs& in, const std::string& name) -> std::vector<Tensor> {
    return {slice(in[0], n.ints("starts"), n.ints("steps"), n.outputs[0]->shape, name)};
  };
  auto red = [](ReduceOp op) {
    return [op](const Node& n, const Inputs& in, const std::string& name) -> std::vector<Tensor> {
      return {reduce(in[0], op, n.ints("axes"), n.i("keepdims") != 0, name)};
    };
  };
  t["ReduceSum"] = red(ReduceOp::Sum);
  t["ReduceMean"] = red(ReduceOp::Mean);
  t["ReduceMax"] = red(ReduceOp::Max);
  return t;
}

const std::map<std::string, Def>& table() {
  static const std::map<std::string, Def> t = buildTable();
  return t;
}

// A C-identifier-friendly stage name from the node's name (or its operator).
std::string stageName(const Node& n) {
  std::string s = n.name.empty() ? n.op : n.name;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  return s;
}

}  // namespace

bool hasCompute(const std::string& op) {
  return table().count(op) != 0;
}

std::vector<std::string> computeOps() {
  std::vector<std::string> ops;
  for (const auto& [k, v] : table()) ops.push_back(k);
  return ops;
}

std::vector<Tensor> computeNode(const Node& node, const std::vector<Tensor>& inputs) {
  auto it = table().find(node.op);
  if (it == table().end())
    throw Error(node.describe() + ": operator '" + node.op +
                "' has no tensor-expression definition, so the llvm target cannot compile it (use "
                "--target ref)");
  try {
    std::vector<Tensor> outs = it->second(node, inputs, stageName(node));
    for (size_t k = 0; k < outs.size() && k < node.outputs.size(); ++k)
      if (outs[k]->shape != node.outputs[k]->shape || outs[k]->dtype != node.outputs[k]->dtype)
        throw Error("the definition computes " + std::string(dtypeName(outs[k]->dtype)) +
                    shapeStr(outs[k]->shape) + " but the graph expects " +
                    std::string(dtypeName(node.outputs[k]->dtype)) +
                    shapeStr(node.outputs[k]->shape));
    return outs;
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind("node '", 0) == 0) throw;
    throw Error(node.describe() + ": " + msg);
  }
}

}  // namespace kiln::topi
