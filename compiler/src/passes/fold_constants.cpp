// Constant folding: a node whose inputs are all constants is evaluated once, at compile
// time, with the reference kernels, and its outputs become constants.
#include <algorithm>

#include "kiln/passes/pass.h"
#include "kiln/ref/executor.h"

namespace kiln {

void foldConstants(Graph& g) {
  for (Node* n : g.nodes()) {
    bool allConst = std::all_of(n->inputs.begin(), n->inputs.end(),
                                [](Value* v) { return !v || v->isConstant(); });
    if (!allConst || !ref::hasKernel(n->op)) continue;
    std::vector<const NDArray*> args;
    for (Value* v : n->inputs) args.push_back(v ? &*v->constant : nullptr);
    std::vector<NDArray> vals = ref::evalNode(*n, args);
    std::vector<Value*> outs = n->outputs;
    g.removeNode(n);
    for (size_t k = 0; k < outs.size(); ++k) outs[k]->constant = std::move(vals[k]);
  }
}

}  // namespace kiln
