// A readable text form of the graph, one line per node:
//   %conv1 : f32[1,64,112,112] = Conv(%input, $conv1.weight) {dilations=[1,1], group=1, ...}
// Graph inputs are %name, constants $name with their shape, folded scalars shown inline.
#include <sstream>

#include "kiln/ir/graph.h"

namespace kiln {

namespace {
std::string valueType(const Value& v) {
  return std::string(dtypeName(v.dtype)) + shapeStr(v.shape);
}

std::string ref(const Value* v) {
  if (!v) return "_";
  return (v->isConstant() ? "$" : "%") + v->name;
}

template <typename T>
std::string list(const std::vector<T>& xs) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < xs.size(); ++i) os << (i ? "," : "") << xs[i];
  os << "]";
  return os.str();
}
}  // namespace

std::string printAttribute(const Attribute& a) {
  struct V {
    std::string operator()(int64_t x) { return std::to_string(x); }
    std::string operator()(double x) {
      std::ostringstream os;
      os << x;
      return os.str();
    }
    std::string operator()(const std::string& x) { return "\"" + x + "\""; }
    std::string operator()(const std::vector<int64_t>& x) { return list(x); }
    std::string operator()(const std::vector<double>& x) { return list(x); }
    std::string operator()(const NDArray& x) {
      return "tensor<" + std::string(dtypeName(x.dtype())) + shapeStr(x.shape()) + ">";
    }
  };
  return std::visit(V{}, a);
}

std::string printGraph(const Graph& g) {
  std::ostringstream os;
  os << "graph " << (g.name.empty() ? "main" : g.name);
  if (g.opset) os << " (opset " << g.opset << ")";
  os << " {\n";
  for (Value* v : g.inputs()) os << "  input %" << v->name << " : " << valueType(*v) << "\n";
  auto uses = g.useCounts();
  for (Value* v : g.values())
    if (v->isConstant() && uses.count(v))
      os << "  const $" << v->name << " : " << valueType(*v) << "\n";
  for (Node* n : g.nodes()) {
    os << "  ";
    for (size_t k = 0; k < n->outputs.size(); ++k)
      os << (k ? ", " : "") << "%" << n->outputs[k]->name << " : " << valueType(*n->outputs[k]);
    os << " = " << n->op << "(";
    for (size_t k = 0; k < n->inputs.size(); ++k) os << (k ? ", " : "") << ref(n->inputs[k]);
    os << ")";
    if (!n->attrs.empty()) {
      os << " {";
      bool first = true;
      for (auto& [key, val] : n->attrs) {
        os << (first ? "" : ", ") << key << "=" << printAttribute(val);
        first = false;
      }
      os << "}";
    }
    if (!n->name.empty()) os << "  # " << n->name;
    os << "\n";
  }
  for (Value* v : g.outputs()) os << "  output " << ref(v) << " : " << valueType(*v) << "\n";
  os << "}\n";
  return os.str();
}

}  // namespace kiln
