// The reference executor: a plain, obviously correct interpreter of the graph IR.
//
// It is the oracle every back end is checked against, so it favours clarity over speed:
// direct loops, float32 data with double-precision accumulation, no layout tricks.
// The importers also use evalNode to fold constant subgraphs.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kiln/ir/graph.h"

namespace kiln::ref {

// Evaluates one node on concrete inputs (nullptr for an absent optional input).
// Throws kiln::Error for an operator without a reference kernel.
std::vector<NDArray> evalNode(const Node& node, const std::vector<const NDArray*>& inputs);
bool hasKernel(const std::string& op);

class Executor {
 public:
  explicit Executor(const Graph& graph) : graph_(graph) {}
  // Inputs by graph-input name; returns the graph outputs in order. Throws kiln::Error when
  // an input is missing or has the wrong dtype or shape.
  std::vector<NDArray> run(const std::map<std::string, NDArray>& inputs) const;
  // Called after each node with its outputs (for tracing and per-layer comparison).
  std::function<void(const Node&, const std::vector<NDArray>&)> onNode;

 private:
  const Graph& graph_;
};

}  // namespace kiln::ref
