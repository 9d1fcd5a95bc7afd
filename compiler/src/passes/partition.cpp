// The accelerator / CPU partition of an int8 graph (see kiln/passes/partition.h).
#include "kiln/passes/partition.h"

#include "kiln/codegen/accel.h"

namespace kiln {

bool onAccel(const Node& n) {
  auto it = n.attrs.find(kDeviceAttr);
  return it != n.attrs.end() && std::holds_alternative<std::string>(it->second) &&
         std::get<std::string>(it->second) == "accel";
}

PartitionReport partitionForAccel(Graph& g, const accel::Config& config) {
  PartitionReport r;
  r.folded = foldNarrowConvs(g, config);
  for (Node* n : g.nodes()) {
    std::string why;
    if (codegen::accelSupports(*n, config, &why)) {
      n->attrs[kDeviceAttr] = std::string("accel");
      ++r.device;
    } else {
      n->attrs.erase(kDeviceAttr);
      ++r.host;
      if (n->op.rfind("Q", 0) == 0 && n->op != "QuantizeLinear")
        r.notOnDevice.emplace_back(n->name, why);
    }
  }
  return r;
}

}  // namespace kiln
