// The graph verifier: the invariants every pass may rely on. It re-runs shape inference on
// a copy of each node and compares, so a pass that edits a node without updating its
// output shape is caught at the pass that did it.
#include <set>

#include "kiln/ir/graph.h"
#include "kiln/ops/op_registry.h"

namespace kiln {

void verifyGraph(const Graph& g) {
  std::set<const Value*> defined;
  for (Value* v : g.inputs()) {
    if (v->isConstant()) throw Error("graph input '" + v->name + "' is also a constant");
    defined.insert(v);
  }
  for (Value* v : g.values())
    if (v->isConstant()) defined.insert(v);
  for (Node* n : g.nodes()) {
    for (size_t k = 0; k < n->inputs.size(); ++k) {
      Value* in = n->inputs[k];
      if (!in) continue;
      if (!defined.count(in))
        throw Error(n->describe() + ": input " + std::to_string(k) + " '" + in->name +
                    "' is used before it is defined (graph not in topological order)");
    }
    // Infer into scratch values and compare with what the graph records.
    Node copy = *n;
    std::vector<Value> scratch(n->outputs.size());
    for (size_t k = 0; k < n->outputs.size(); ++k) {
      scratch[k].name = n->outputs[k]->name;
      copy.outputs[k] = &scratch[k];
    }
    inferNode(copy);
    for (size_t k = 0; k < n->outputs.size(); ++k) {
      const Value* o = n->outputs[k];
      if (o->producer != n)
        throw Error(n->describe() + ": output '" + o->name + "' does not record its producer");
      if (o->isConstant()) throw Error(n->describe() + ": output '" + o->name + "' is a constant");
      if (scratch[k].shape != o->shape || scratch[k].dtype != o->dtype)
        throw Error(n->describe() + ": output '" + o->name + "' is recorded as " +
                    std::string(dtypeName(o->dtype)) + shapeStr(o->shape) +
                    " but the operator gives " + std::string(dtypeName(scratch[k].dtype)) +
                    shapeStr(scratch[k].shape));
      if (!defined.insert(o).second)
        throw Error(n->describe() + ": output '" + o->name + "' is defined twice");
    }
  }
  for (Value* v : g.outputs())
    if (!defined.count(v)) throw Error("graph output '" + v->name + "' is never produced");
}

}  // namespace kiln
