// The reference executor's graph walk: nodes in topological order, each value freed after
// its last use so whole networks run in bounded memory.
#include "kiln/ref/executor.h"

namespace kiln::ref {

std::vector<NDArray> Executor::run(const std::map<std::string, NDArray>& inputs) const {
  std::map<const Value*, NDArray> env;
  for (Value* in : graph_.inputs()) {
    auto it = inputs.find(in->name);
    if (it == inputs.end()) throw Error("missing value for graph input '" + in->name + "'");
    const NDArray& a = it->second;
    if (a.dtype() != in->dtype || a.shape() != in->shape)
      throw Error("graph input '" + in->name + "' expects " + std::string(dtypeName(in->dtype)) +
                  shapeStr(in->shape) + ", got " + std::string(dtypeName(a.dtype())) +
                  shapeStr(a.shape()));
    env[in] = a;
  }
  for (auto& [name, _] : inputs)
    if (!graph_.findValue(name) || std::find(graph_.inputs().begin(), graph_.inputs().end(),
                                             graph_.findValue(name)) == graph_.inputs().end())
      throw Error("'" + name + "' is not an input of the graph");

  auto remaining = graph_.useCounts();
  for (Value* o : graph_.outputs()) remaining[o] += 1;  // never free outputs

  auto fetch = [&](const Value* v) -> const NDArray* {
    if (!v) return nullptr;
    if (v->isConstant()) return &*v->constant;
    auto it = env.find(v);
    if (it == env.end()) throw Error("value '" + v->name + "' used before it was computed");
    return &it->second;
  };

  for (Node* n : graph_.nodes()) {
    std::vector<const NDArray*> args;
    for (Value* v : n->inputs) args.push_back(fetch(v));
    std::vector<NDArray> outs = evalNode(*n, args);
    if (onNode) onNode(*n, outs);
    for (size_t k = 0; k < outs.size(); ++k) env[n->outputs[k]] = std::move(outs[k]);
    for (Value* v : n->inputs)
      if (v && !v->isConstant() && --remaining[v] == 0) env.erase(v);
  }

  std::vector<NDArray> results;
  for (Value* o : graph_.outputs()) results.push_back(*fetch(o));
  return results;
}

}  // namespace kiln::ref
