// Graph operator -> tensor-expression definition. One entry per operator Kiln compiles;
// an operator without one is refused with a message naming it.
#pragma once

#include <string>
#include <vector>

#include "kiln/ir/graph.h"
#include "kiln/te/tensor.h"

namespace kiln::topi {

// The output tensors of `node` computed from `inputs` (one per node input, null where an
// optional input is absent). Throws kiln::Error naming the node when its operator has no
// definition or its attributes are unsupported.
std::vector<te::Tensor> computeNode(const Node& node, const std::vector<te::Tensor>& inputs);
bool hasCompute(const std::string& op);
std::vector<std::string> computeOps();

}  // namespace kiln::topi
