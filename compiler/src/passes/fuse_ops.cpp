// Operator fusion: decides which nodes become one kernel.
//
// A group starts at an anchor — a convolution, a matrix product, or any elementwise node —
// and absorbs the chain of elementwise nodes after it (bias or residual Add, Mul, ReLU, Clip,
// ...), as long as each value in the chain has a single reader, is not a graph output and
// keeps the anchor's shape. Code generators emit one kernel per group, computing the chain
// in registers; the memory planner never allocates the values inside a group. Grouping is an
// annotation ("kiln.group" on every node): the graph keeps its meaning, so the reference
// executor and the verifier are unaffected.
#include <set>

#include "graph_edit.h"
#include "kiln/passes/pass.h"

namespace kiln {

namespace {
const std::set<std::string> kElementwise = {"Add",  "Sub",     "Mul",  "Div",       "Relu",
                                            "Clip", "Sigmoid", "Tanh", "LeakyRelu", "Exp",
                                            "Neg",  "Abs",     "Sqrt"};
const std::set<std::string> kAnchors = {"Conv", "Gemm", "MatMul"};
}  // namespace

void fuseOps(Graph& g) {
  auto uses = consumers(g);
  std::set<const Node*> grouped;
  int64_t next = 0;
  for (Node* n : g.nodes()) {
    if (grouped.count(n)) continue;
    const int64_t group = next++;
    n->attrs[kFuseGroupAttr] = group;
    grouped.insert(n);
    if (!kAnchors.count(n->op) && !kElementwise.count(n->op)) continue;
    const Shape& shape = n->outputs[0]->shape;
    Value* cur = n->outputs[0];
    while (true) {
      if (isGraphOutput(g, cur) || uses[cur].size() != 1) break;
      Node* next = uses[cur][0];
      if (!kElementwise.count(next->op) || grouped.count(next) ||
          next->outputs[0]->shape != shape || next->outputs[0]->dtype != cur->dtype)
        break;
      // The other operands must be computed before the group's anchor runs (or be constants):
      // a residual Add's second input is, since nodes are in topological order and the anchor
      // comes first.
      next->attrs[kFuseGroupAttr] = group;
      grouped.insert(next);
      cur = next->outputs[0];
    }
  }
}

}  // namespace kiln
