// Batch-norm folding: Conv followed by BatchNormalization (inference) is one Conv with
// rescaled weights and a new bias:
//   a[c] = gamma[c] / sqrt(var[c] + eps)
//   W'[c] = a[c] * W[c],   b'[c] = a[c] * (b[c] - mean[c]) + beta[c]
// computed in double and rounded once. Applies when the Conv's output feeds only the batch
// norm and every parameter is a constant.
#include <cmath>

#include "graph_edit.h"
#include "kiln/passes/pass.h"

namespace kiln {

void foldBatchNorm(Graph& g) {
  auto uses = consumers(g);
  for (Node* bn : g.nodes()) {
    if (bn->op != "BatchNormalization") continue;
    Value* x = bn->inputs[0];
    Node* conv = x->producer;
    if (!conv || conv->op != "Conv" || uses[x].size() != 1 || isGraphOutput(g, x)) continue;
    bool constParams =
        conv->inputs[1]->isConstant() && (!conv->input(2) || conv->input(2)->isConstant());
    for (size_t k = 1; k < 5; ++k) constParams &= bn->inputs[k]->isConstant();
    if (!constParams) continue;

    const NDArray& w = *conv->inputs[1]->constant;
    const int64_t oc = w.shape()[0], per = w.numel() / oc;
    auto gamma = bn->inputs[1]->constant->toFloatVector(),
         beta = bn->inputs[2]->constant->toFloatVector();
    auto mean = bn->inputs[3]->constant->toFloatVector(),
         var = bn->inputs[4]->constant->toFloatVector();
    std::vector<float> bias(static_cast<size_t>(oc), 0.0f);
    if (conv->input(2)) bias = conv->input(2)->constant->toFloatVector();
    const double eps = bn->f("epsilon");

    NDArray w2(DType::F32, w.shape());
    NDArray b2(DType::F32, {oc});
    for (int64_t c = 0; c < oc; ++c) {
      const double a = gamma[c] / std::sqrt(double(var[c]) + eps);
      for (int64_t i = 0; i < per; ++i)
        w2.data<float>()[c * per + i] = static_cast<float>(a * w.data<float>()[c * per + i]);
      b2.data<float>()[c] = static_cast<float>(a * (double(bias[c]) - mean[c]) + beta[c]);
    }
    Value* wv = g.addConstant(conv->inputs[1]->name + ".bnfold", w2);
    Value* bv = g.addConstant(
        (conv->input(2) ? conv->input(2)->name : conv->outputs[0]->name + ".bias") + ".bnfold", b2);
    conv->inputs.resize(3);
    conv->inputs[1] = wv;
    conv->inputs[2] = bv;
    Value* y = bn->outputs[0];
    g.removeNode(bn);
    replaceValue(g, y, x);
  }
}

}  // namespace kiln
