// Folding a narrow convolution's kernel window into its channels, for the accelerator.
//
// The GEMM core reduces over a block of block_in input channels per cycle; a convolution
// with C < block_in input channels (an image network's stem: 3) fills a block with zeros at
// every one of its KH x KW taps, so a 7x7 stem with 3 channels on a 16-wide core does 5.3
// times its useful work. Such a QConv can become an Im2col on the way in (windows as
// channels, one definition in topi/transform.cpp, run on the host beside the input's
// quantization) and a smaller QConv over those channels, with the weights laid out to
// match at compile time:
//   - the whole window: Im2col KH x KW, then a 1x1 QConv over C * KH * KW channels;
//   - its columns: Im2col 1 x KW (stride 1 x SW), then a KH x 1 QConv over C * KW channels
//     (less data to move, more blocks to reduce over).
// The compiler's tile model (codegen::estimateAccelCycles) picks the form with the fewest
// predicted cycles, the convolution as it is included, so a config on which folding does
// not pay (narrow DMA, small buffers) keeps it. The same products are summed in another
// order, and int32 sums wrap, so the result is bit-identical.
#include "kiln/codegen/accel.h"
#include "kiln/ops/op_registry.h"
#include "kiln/passes/partition.h"

namespace kiln {

namespace {

struct Fold {
  int64_t rows = 1;  // kernel rows folded: 1 (columns only) or KH (the whole window)
  double cycles = 0;
};

// The attributes of the QConv over folded channels (the window's rows too when `whole`).
void setFoldedConv(Node& n, const std::vector<int64_t>& pads0, const std::vector<int64_t>& st0,
                   bool whole) {
  n.attrs["strides"] = std::vector<int64_t>{whole ? 1 : st0[0], 1};
  n.attrs["pads"] =
      whole ? std::vector<int64_t>{0, 0, 0, 0} : std::vector<int64_t>{pads0[0], 0, pads0[2], 0};
  n.attrs["dilations"] = std::vector<int64_t>{1, 1};
  n.attrs.erase("kernel_shape");
}

// The attributes of the Im2col that folds the window's columns (and rows when `whole`).
void setIm2col(Node& im, int64_t KH, int64_t KW, const std::vector<int64_t>& pads0,
               const std::vector<int64_t>& st0, bool whole) {
  im.attrs["kernel_shape"] = std::vector<int64_t>{whole ? KH : 1, KW};
  im.attrs["strides"] = std::vector<int64_t>{whole ? st0[0] : 1, st0[1]};
  im.attrs["pads"] =
      std::vector<int64_t>{whole ? pads0[0] : 0, pads0[1], whole ? pads0[2] : 0, pads0[3]};
}

// The predicted cycles of `n` folded one way, built from shapes in a scratch graph.
double foldedCycles(const Node& n, bool whole, const accel::Config& config) {
  const Shape& xs = n.inputs[0]->shape;
  const Shape& ws = n.inputs[1]->shape;
  const int64_t rows = whole ? ws[2] : 1;
  Graph g;
  Value* x = g.addInput("x", DType::I8, xs);
  Value* cols = g.addValue("cols", DType::I8, {});
  Node* im = g.addNode("Im2col", "im2col", {x}, {cols});
  setIm2col(*im, ws[2], ws[3], n.ints("pads"), n.ints("strides"), whole);
  inferNode(*im);
  std::vector<Value*> ins{
      cols, g.addInput("w", DType::I8, {ws[0], ws[1] * rows * ws[3], ws[2] / rows, 1})};
  if (n.input(2)) ins.push_back(g.addInput("b", DType::I32, n.input(2)->shape));
  Node* c = g.addNode("QConv", n.name, ins, {g.addValue("y", DType::I8, {})});
  c->attrs = n.attrs;
  setFoldedConv(*c, n.ints("pads"), n.ints("strides"), whole);
  inferNode(*c);
  return codegen::estimateAccelCycles(*c, config);
}

}  // namespace

int foldNarrowConvs(Graph& g, const accel::Config& config) {
  int folded = 0;
  for (Node* n : g.nodes()) {
    if (n->op != "QConv" || n->i("group") != 1 || !n->inputs[1]->isConstant()) continue;
    bool dilated = false;
    for (int64_t d : n->ints("dilations")) dilated |= d != 1;
    const NDArray& w = *n->inputs[1]->constant;
    const int64_t OC = w.shape()[0], C = w.shape()[1], KH = w.shape()[2], KW = w.shape()[3];
    if (dilated || KW == 1 || C >= config.params().block_in || !codegen::accelSupports(*n, config))
      continue;
    Fold best{0, codegen::estimateAccelCycles(*n, config)};
    for (bool whole : {true, false}) {
      if (!whole && KH == 1) continue;  // the same as the whole window
      const double cyc = foldedCycles(*n, whole, config);
      if (cyc < best.cycles) best = {whole ? KH : 1, cyc};
    }
    if (best.rows == 0) continue;
    const bool whole = best.rows == KH;
    const std::vector<int64_t> pads0 = n->ints("pads"), st0 = n->ints("strides");
    Value* x = n->inputs[0];
    Value* cols = g.addValue(g.uniqueName(n->name + ".im2col"), x->dtype, {});
    Node* im = g.insertNode(n, "Im2col", n->name + ".im2col", {x}, {cols});
    setIm2col(*im, KH, KW, pads0, st0, whole);
    inferNode(*im);
    // Weights [OC, C, KH, KW] -> [OC, C * rows * KW, KH / rows, 1]: channel
    // (c * rows + ky % rows) * KW + kx, kernel row ky / rows.
    const int64_t rows = best.rows, FC = C * rows * KW, FH = KH / rows;
    NDArray wf(DType::I8, {OC, FC, FH, 1});
    for (int64_t o = 0; o < OC; ++o)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t ky = 0; ky < KH; ++ky)
          for (int64_t kx = 0; kx < KW; ++kx)
            wf.data<int8_t>()[(o * FC + (c * rows + ky % rows) * KW + kx) * FH + ky / rows] =
                w.data<int8_t>()[((o * C + c) * KH + ky) * KW + kx];
    n->inputs[0] = cols;
    n->inputs[1] = g.addConstant(g.uniqueName(n->inputs[1]->name + ".im2col"), std::move(wf));
    setFoldedConv(*n, pads0, st0, whole);
    inferNode(*n);
    ++folded;
  }
  if (folded) g.eliminateDeadCode();
  return folded;
}

}  // namespace kiln
