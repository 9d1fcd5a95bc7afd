// Small helpers shared by graph passes.
#pragma once

#include <map>
#include <vector>

#include "kiln/ir/graph.h"

namespace kiln {

// Makes every use of `from` use `to` instead. When `from` is a graph output, `to` takes over
// its name, so the outputs a user sees keep their names through optimisation.
void replaceValue(Graph& g, Value* from, Value* to);

// The nodes that read each value.
std::map<const Value*, std::vector<Node*>> consumers(const Graph& g);

bool isGraphOutput(const Graph& g, const Value* v);

}  // namespace kiln
