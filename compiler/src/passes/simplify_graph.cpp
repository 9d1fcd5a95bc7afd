// Graph simplification: nodes that do nothing (Identity, a Reshape or Transpose that keeps
// the layout, a Clip with infinite bounds) are removed and their users read the input. A
// Gemm reading a constant B transposed (transB = 1, how PyTorch exports Linear) gets B
// transposed once here, so its kernel reads rows of B, consecutive in memory, for
// consecutive outputs instead of one element per row. A zero Pad of the spatial dimensions
// read only by convolutions (TF.js's ZeroPadding2D before a strided layer) becomes part of
// their padding, so no back end runs it as a step of its own.
#include <cmath>

#include "graph_edit.h"
#include "kiln/passes/pass.h"

namespace kiln {

namespace {
bool isNoOp(const Node& n) {
  const Value* in = n.input(0);
  if (!in || n.outputs.size() != 1 || in->dtype != n.outputs[0]->dtype) return false;
  if (n.op == "Identity") return true;
  if (n.op == "Reshape") return in->shape == n.outputs[0]->shape;
  if (n.op == "Transpose") {
    const auto& perm = n.ints("perm");
    for (size_t i = 0; i < perm.size(); ++i)
      if (perm[i] != static_cast<int64_t>(i)) return false;
    return true;
  }
  if (n.op == "Clip")
    return std::isinf(n.f("min")) && n.f("min") < 0 && std::isinf(n.f("max")) && n.f("max") > 0;
  return false;
}
}  // namespace

void simplifyGraph(Graph& g) {
  for (Node* n : g.nodes()) {
    if (n->op == "Gemm" && n->has("transB") && n->i("transB") != 0 && n->inputs.size() > 1 &&
        n->inputs[1] && n->inputs[1]->isConstant() && n->inputs[1]->dtype == DType::F32 &&
        n->inputs[1]->shape.size() == 2) {
      const NDArray& b = *n->inputs[1]->constant;
      const int64_t rows = b.shape()[0], cols = b.shape()[1];
      NDArray t(DType::F32, {cols, rows});
      const float* src = b.data<float>();
      float* dst = t.data<float>();
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
      n->inputs[1] = g.addConstant(n->inputs[1]->name + ".T", std::move(t));
      n->attrs["transB"] = int64_t{0};
    }
  }
  const auto readers = consumers(g);
  for (Node* n : g.nodes()) {
    if (n->op != "Pad" || n->outputs.size() != 1 || !n->input(0) || n->f("value", 0.0) != 0.0)
      continue;
    const auto& p = n->ints("pads");
    if (n->input(0)->shape.size() != 4 || p.size() != 8 || p[0] || p[1] || p[4] || p[5]) continue;
    if (p[2] < 0 || p[3] < 0 || p[6] < 0 || p[7] < 0 || isGraphOutput(g, n->outputs[0])) continue;
    auto it = readers.find(n->outputs[0]);
    if (it == readers.end() || it->second.empty()) continue;
    bool convsOnly = true;
    for (const Node* r : it->second)
      convsOnly = convsOnly && r->op == "Conv" && r->inputs[0] == n->outputs[0] &&
                  r->ints("pads").size() == 4;
    if (!convsOnly) continue;
    for (Node* r : it->second) {
      std::vector<int64_t> pads = r->ints("pads");  // top, left, bottom, right
      pads[0] += p[2], pads[1] += p[3], pads[2] += p[6], pads[3] += p[7];
      r->attrs["pads"] = pads;
      r->inputs[0] = n->inputs[0];
    }
    g.removeNode(n);
  }
  for (Node* n : g.nodes()) {
    if (!isNoOp(*n)) continue;
    Value* in = n->inputs[0];
    Value* out = n->outputs[0];
    // Keep a node whose removal would turn a graph input or constant into a named output.
    if (isGraphOutput(g, out) && (!in->producer || isGraphOutput(g, in))) continue;
    g.removeNode(n);
    replaceValue(g, out, in);
  }
}

}  // namespace kiln
