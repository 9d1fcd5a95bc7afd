// The graph IR: values (typed, shaped tensors), nodes (operators with attributes) and
// the graph that owns them in topological order.
//
// Every value has a static dtype and shape once it is in a graph: the front ends run shape
// inference node by node as they build, so a later pass never sees an unknown shape.
// Constants (initializers, folded subgraphs) are values that carry their data.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kiln/runtime/ndarray.h"

namespace kiln {

class Node;

struct Value {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  Node* producer = nullptr;         // null for graph inputs and constants
  std::optional<NDArray> constant;  // set for initializers and folded values

  bool isConstant() const { return constant.has_value(); }
};

using Attribute =
    std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>, NDArray>;

class Node {
 public:
  std::string name;            // from the model, for messages; may be empty
  std::string op;              // Kiln operator name (see ops/op_registry.h)
  std::vector<Value*> inputs;  // an absent optional input is nullptr
  std::vector<Value*> outputs;
  std::map<std::string, Attribute> attrs;

  bool has(const std::string& key) const { return attrs.count(key) != 0; }
  int64_t i(const std::string& key) const;
  int64_t i(const std::string& key, int64_t dflt) const;
  double f(const std::string& key) const;
  double f(const std::string& key, double dflt) const;
  const std::string& s(const std::string& key) const;
  const std::vector<int64_t>& ints(const std::string& key) const;
  std::vector<int64_t> ints(const std::string& key, std::vector<int64_t> dflt) const;
  const NDArray& tensor(const std::string& key) const;

  // "node 'conv1' (Conv)" for error messages.
  std::string describe() const;
  Value* input(size_t k) const { return k < inputs.size() ? inputs[k] : nullptr; }
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&&) = default;
  Graph& operator=(Graph&&) = default;

  std::string name;
  int64_t opset = 0;                            // the source model's operator set (informational)
  std::map<std::string, std::string> metadata;  // e.g. "labels" (newline separated)

  Value* addValue(std::string name, DType dtype, Shape shape);
  Value* addConstant(std::string name, NDArray data);
  Value* addInput(std::string name, DType dtype, Shape shape);
  // Appends a node; its outputs must have been created with addValue.
  Node* addNode(std::string op, std::string name, std::vector<Value*> inputs,
                std::vector<Value*> outputs);
  // Inserts a node just before `before` (which must be in this graph), keeping the order
  // topological when the new node reads only values defined before `before`.
  Node* insertNode(const Node* before, std::string op, std::string name, std::vector<Value*> inputs,
                   std::vector<Value*> outputs);
  void markOutput(Value* v) { outputs_.push_back(v); }
  // Renames a value; throws if the name is taken by another value.
  void renameValue(Value* v, const std::string& name);
  // A fresh value name derived from base ("x" -> "x", "x_1", ...).
  std::string uniqueName(const std::string& base);

  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  std::vector<Value*>& mutableOutputs() { return outputs_; }
  // Nodes in topological order.
  std::vector<Node*> nodes() const;
  std::vector<Value*> values() const;
  Value* findValue(const std::string& name) const;

  // Removes a node from the graph (its output values stay owned but unproduced).
  void removeNode(Node* n);
  // Replaces every use of `from` (node inputs and graph outputs) with `to`.
  void replaceAllUses(Value* from, Value* to);
  // Removes nodes whose outputs reach no graph output, and constants nobody uses.
  void eliminateDeadCode();

  // Number of nodes that consume each value.
  std::map<const Value*, int> useCounts() const;
  // Total elements of all constants (the model's parameters).
  int64_t parameterCount() const;

 private:
  std::vector<std::unique_ptr<Value>> values_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Value*> inputs_, outputs_;
  std::map<std::string, Value*> byName_;
};

// A readable text dump of the graph (one line per node, shapes and attributes).
std::string printGraph(const Graph& g);
std::string printAttribute(const Attribute& a);

// Checks the structural invariants every pass relies on: topological order, every input
// defined, every shape consistent with what the operator infers. Throws kiln::Error naming
// the node and the problem.
void verifyGraph(const Graph& g);

}  // namespace kiln
