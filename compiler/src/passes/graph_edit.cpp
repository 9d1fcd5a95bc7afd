// Helpers shared by graph passes.
#include "graph_edit.h"

#include <algorithm>

namespace kiln {

bool isGraphOutput(const Graph& g, const Value* v) {
  return std::find(g.outputs().begin(), g.outputs().end(), v) != g.outputs().end();
}

void replaceValue(Graph& g, Value* from, Value* to) {
  const bool wasOutput = isGraphOutput(g, from);
  g.replaceAllUses(from, to);
  if (wasOutput && to->producer && !std::count(g.inputs().begin(), g.inputs().end(), to)) {
    std::string name = from->name;
    g.renameValue(from, g.uniqueName(name + ".replaced"));
    g.renameValue(to, name);
  }
}

std::map<const Value*, std::vector<Node*>> consumers(const Graph& g) {
  std::map<const Value*, std::vector<Node*>> c;
  for (Node* n : g.nodes())
    for (Value* in : n->inputs)
      if (in) c[in].push_back(n);
  return c;
}

}  // namespace kiln
