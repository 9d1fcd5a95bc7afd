// Every device operator compiled for the accelerator (definition -> accelerator schedule ->
// tir::lower -> accel code generator) on randomized shapes and every config: the stream run
// on the functional reference, and on the cycle model, gives exactly the bytes of the
// integer reference executor's output of the same quantized node.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <random>
#include <sstream>

#include "accel_test_run.h"
#include "kiln/codegen/graph_compiler.h"
#include "kiln/ops/op_registry.h"
#include "kiln/passes/partition.h"
#include "kiln/passes/quantize.h"
#include "kiln/ref/executor.h"

namespace kiln {
namespace {

struct Rng {
  std::mt19937 g;
  explicit Rng(uint32_t seed) : g(seed) {}
  int64_t uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(g);
  }
  NDArray i8(const Shape& s) {
    NDArray a(DType::I8, s);
    for (int64_t i = 0; i < a.numel(); ++i)
      a.data<int8_t>()[i] = static_cast<int8_t>(uniform(-128, 127));
    return a;
  }
  NDArray i32(const Shape& s, int64_t lo, int64_t hi) {
    NDArray a(DType::I32, s);
    for (int64_t i = 0; i < a.numel(); ++i)
      a.data<int32_t>()[i] = static_cast<int32_t>(uniform(lo, hi));
    return a;
  }
  // Requantization factors that keep outputs spread over the int8 range for sums of `terms`.
  void requant(Node* n, int64_t channels, int64_t terms) {
    std::vector<int64_t> m, s;
    const int base = 31 + static_cast<int>(std::log2(std::sqrt(double(terms)) * 127 * 127 / 60));
    for (int64_t c = 0; c < channels; ++c) {
      m.push_back(uniform(int64_t{1} << 30, (int64_t{1} << 31) - 1));
      s.push_back(base + uniform(-1, 1));
    }
    n->attrs["multiplier"] = m;
    n->attrs["shift"] = s;
    const int64_t kind = uniform(0, 2);  // none, ReLU, a ReLU6-like clip
    n->attrs["out_min"] = kind == 0 ? int64_t{-128} : int64_t{0};
    n->attrs["out_max"] = kind == 2 ? int64_t{50} : int64_t{127};
  }
};

std::vector<std::string> configs() {
  return {"small", "pynq-z1", "ultrascale", "kv260"};
}

void expectSame(const NDArray& got, const NDArray& want, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  int64_t diff = 0, first = -1;
  for (int64_t i = 0; i < got.numel(); ++i)
    if (got.data<int8_t>()[i] != want.data<int8_t>()[i]) {
      if (first < 0) first = i;
      ++diff;
    }
  EXPECT_EQ(diff, 0) << what << ": " << diff << " of " << got.numel() << " bytes differ, first at "
                     << first << " (got " << (first >= 0 ? int(got.data<int8_t>()[first]) : 0)
                     << ", want " << (first >= 0 ? int(want.data<int8_t>()[first]) : 0) << ")";
}

struct ConvCase {
  int64_t N, C, H, W, OC, K, stride, pad;
  bool bias;
  bool depthwise = false;  // one filter per channel (OC = C, group = C)
};

void checkConv(const ConvCase& cc, const std::string& cfgName, uint32_t seed, bool cycles) {
  accel::Config cfg = accel::Config::find(cfgName).value();
  Rng r(seed);
  Graph g;
  Value* x = g.addInput("x", DType::I8, {cc.N, cc.C, cc.H, cc.W});
  NDArray xv = r.i8(x->shape);
  NDArray wv = r.i8({cc.OC, cc.depthwise ? 1 : cc.C, cc.K, cc.K});
  NDArray bv = r.i32({cc.OC}, -20000, 20000);
  std::vector<Value*> ins{x, g.addConstant("w", wv)};
  if (cc.bias) ins.push_back(g.addConstant("b", bv));
  Value* y = g.addValue("y", DType::I8, {});
  Node* n = g.addNode("QConv", "conv", ins, {y});
  n->attrs["strides"] = std::vector<int64_t>{cc.stride, cc.stride};
  n->attrs["pads"] = std::vector<int64_t>{cc.pad, cc.pad, cc.pad, cc.pad};
  n->attrs["dilations"] = std::vector<int64_t>{1, 1};
  n->attrs["group"] = cc.depthwise ? cc.C : int64_t{1};
  r.requant(n, cc.OC, (cc.depthwise ? 1 : cc.C) * cc.K * cc.K);
  inferNode(*n);
  std::vector<const NDArray*> refIn{&xv, &wv};
  if (cc.bias) refIn.push_back(&bv);
  NDArray want = ref::evalNode(*n, refIn)[0];
  codegen::AccelKernel k = codegen::compileAccelNode(*n, cfg);
  uint64_t cyc = 0;
  NDArray got = testing::runKernel(k, {&xv}, y->shape, cfg, cycles ? &cyc : nullptr);
  std::ostringstream what;
  what << (cc.depthwise ? "depthwise " : "") << "QConv " << cc.N << "x" << cc.C << "x" << cc.H
       << "x" << cc.W << " -> " << cc.OC << " k" << cc.K << " s" << cc.stride << " p" << cc.pad
       << " on " << cfgName << " (" << k.insns.size() << " instructions)";
  expectSame(got, want, what.str());
}

TEST(AccelOps, ConvolutionsOfEveryKind) {
  // 1x1, 3x3, 7x7 stride 2, strided 3x3, strided 1x1; channel counts that do and do not
  // fill the blocks.
  const std::vector<ConvCase> cases = {
      {1, 16, 8, 8, 16, 1, 1, 0, true},  {1, 8, 9, 7, 20, 3, 1, 1, true},
      {1, 3, 20, 20, 16, 7, 2, 3, true}, {1, 24, 10, 10, 12, 3, 2, 1, false},
      {1, 32, 8, 8, 40, 1, 2, 0, true},  {1, 64, 14, 14, 64, 3, 1, 1, true},
  };
  uint32_t seed = 1;
  for (const std::string& c : configs())
    for (const ConvCase& cc : cases) checkConv(cc, c, seed++, c != "ultrascale");
}

TEST(AccelOps, DepthwiseConvolutions) {
  // MobileNet's 3x3 stride 1 and 2, odd channel counts, a 5x5.
  const std::vector<ConvCase> cases = {
      {1, 32, 12, 12, 32, 3, 1, 1, true, true},
      {1, 24, 11, 9, 24, 3, 2, 1, true, true},
      {1, 20, 8, 8, 20, 5, 1, 2, false, true},
  };
  uint32_t seed = 300;
  for (const std::string& c : configs())
    for (const ConvCase& cc : cases) checkConv(cc, c, seed++, c != "ultrascale");
}

TEST(AccelOps, RandomConvolutionShapes) {
  Rng r(99);
  for (int i = 0; i < 6; ++i) {
    ConvCase cc;
    cc.N = 1;
    cc.C = r.uniform(1, 40);
    cc.OC = r.uniform(1, 40);
    cc.K = std::vector<int64_t>{1, 3, 5}[static_cast<size_t>(r.uniform(0, 2))];
    cc.stride = r.uniform(1, 2);
    cc.pad = r.uniform(0, cc.K / 2);
    cc.H = r.uniform(cc.K, 16);
    cc.W = r.uniform(cc.K, 16);
    cc.bias = r.uniform(0, 1) == 1;
    checkConv(cc, configs()[static_cast<size_t>(i % 3)], 100 + static_cast<uint32_t>(i), true);
  }
}

// A convolution with far fewer input channels than block_in (an image network's stem: 7x7
// stride 2 over 3 channels) is folded for the accelerator (passes/fold_narrow_conv.cpp): an
// Im2col on the host, compiled by the CPU back end from its one definition, and a 1x1 QConv
// over its C * KH * KW channels on the device. The folded pair gives exactly the integer
// reference's bytes of the original convolution, in fewer cycles; convolutions that would
// not gain are left alone.
TEST(AccelOps, NarrowConvolutionsFoldTheirWindowIntoChannels) {
  struct Case {
    int64_t C, H, W, OC, K, stride, pad;
    bool mustFold;  // the stem folds on every config; a 3x3 over 3 channels where it pays
  };
  uint32_t seed = 400;
  for (const std::string cfgName : {"small", "pynq-z1"})
    for (const Case& cc : std::vector<Case>{{3, 30, 28, 24, 7, 2, 3, true},
                                            {3, 12, 12, 16, 3, 1, 1, false},
                                            {5, 15, 17, 20, 5, 2, 2, false}}) {
      accel::Config cfg = accel::Config::find(cfgName).value();
      Rng r(seed++);
      Graph g;
      Value* x = g.addInput("x", DType::I8, {1, cc.C, cc.H, cc.W});
      NDArray xv = r.i8(x->shape), wv = r.i8({cc.OC, cc.C, cc.K, cc.K});
      NDArray bv = r.i32({cc.OC}, -20000, 20000);
      Value* y = g.addValue("y", DType::I8, {});
      Node* n =
          g.addNode("QConv", "stem", {x, g.addConstant("w", wv), g.addConstant("b", bv)}, {y});
      n->attrs["strides"] = std::vector<int64_t>{cc.stride, cc.stride};
      n->attrs["pads"] = std::vector<int64_t>{cc.pad, cc.pad, cc.pad, cc.pad};
      n->attrs["dilations"] = std::vector<int64_t>{1, 1};
      n->attrs["group"] = int64_t{1};
      r.requant(n, cc.OC, cc.C * cc.K * cc.K);
      inferNode(*n);
      g.markOutput(y);
      const NDArray want = ref::evalNode(*n, {&xv, &wv, &bv})[0];
      uint64_t unfoldedCycles = 0, foldedCycles = 0;
      testing::runKernel(codegen::compileAccelNode(*n, cfg), {&xv}, y->shape, cfg, &unfoldedCycles);

      const std::string what = "QConv 1x" + std::to_string(cc.C) + "x" + std::to_string(cc.H) +
                               "x" + std::to_string(cc.W) + " k" + std::to_string(cc.K) + " s" +
                               std::to_string(cc.stride) + " on " + cfgName;
      const int folded = foldNarrowConvs(g, cfg);
      const std::vector<Node*> nodes = g.nodes();
      if (cc.mustFold) {
        ASSERT_EQ(folded, 1) << what;
      }
      if (folded == 0) {
        EXPECT_EQ(nodes.size(), 1u) << what;
        std::cout << what << ": " << unfoldedCycles << " cycles, left as is\n";
        continue;
      }
      ASSERT_EQ(nodes.size(), 2u) << what;
      ASSERT_EQ(nodes[0]->op, "Im2col") << what;
      ASSERT_EQ(nodes[1], n) << what;
      // The whole window (a 1x1 QConv) or its columns (a K x 1 QConv, stride along rows).
      const int64_t rows = nodes[0]->ints("kernel_shape")[0];
      ASSERT_TRUE(rows == cc.K || rows == 1) << what;
      EXPECT_EQ(nodes[0]->ints("kernel_shape")[1], cc.K) << what;
      EXPECT_EQ(n->inputs[0]->shape[1], cc.C * rows * cc.K) << what;
      EXPECT_EQ(n->inputs[1]->shape, (Shape{cc.OC, cc.C * rows * cc.K, cc.K / rows, 1})) << what;
      EXPECT_EQ(n->outputs[0]->shape, want.shape()) << what;

      // The host step: the CPU back end's Im2col against the reference executor's.
      Graph host;
      Value* hx = host.addInput("x", DType::I8, x->shape);
      Value* hc = host.addValue("cols", DType::I8, {});
      Node* im = host.addNode("Im2col", "im2col", {hx}, {hc});
      im->attrs = nodes[0]->attrs;
      inferNode(*im);
      host.markOutput(hc);
      const NDArray cols = codegen::CompiledGraph(host).run({{"x", xv}})[0];
      expectSame(cols, ref::evalNode(*im, {&xv})[0], "Im2col (CPU back end) for " + what);

      // The device step: the 1x1 QConv over the folded channels.
      const NDArray got = testing::runKernel(codegen::compileAccelNode(*n, cfg), {&cols}, y->shape,
                                             cfg, &foldedCycles);
      expectSame(got, want, "folded " + what);
      EXPECT_LT(foldedCycles, unfoldedCycles) << what << ": folding did not pay";
      std::cout << what << ": " << unfoldedCycles << " cycles as is, " << foldedCycles
                << " with the " << (rows == cc.K ? "whole window" : "columns") << " folded\n";
    }

  // Left alone: enough channels to fill a block, or no window to fold.
  for (auto [C, K] : std::vector<std::pair<int64_t, int64_t>>{{16, 7}, {3, 1}}) {
    accel::Config cfg = accel::Config::find("pynq-z1").value();
    Rng r(seed++);
    Graph g;
    Value* x = g.addInput("x", DType::I8, {1, C, 16, 16});
    Value* y = g.addValue("y", DType::I8, {});
    Node* n = g.addNode("QConv", "conv", {x, g.addConstant("w", r.i8({16, C, K, K}))}, {y});
    n->attrs["strides"] = std::vector<int64_t>{1, 1};
    n->attrs["pads"] = std::vector<int64_t>{K / 2, K / 2, K / 2, K / 2};
    n->attrs["dilations"] = std::vector<int64_t>{1, 1};
    n->attrs["group"] = int64_t{1};
    r.requant(n, 16, C * K * K);
    inferNode(*n);
    g.markOutput(y);
    EXPECT_EQ(foldNarrowConvs(g, cfg), 0) << C << " channels, " << K << "x" << K;
    EXPECT_EQ(g.nodes().size(), 1u);
  }
}

TEST(AccelOps, DenseLayers) {
  uint32_t seed = 7;
  for (const std::string& cfgName : configs())
    for (auto [M, K, N] :
         std::vector<std::array<int64_t, 3>>{{1, 64, 10}, {1, 100, 37}, {3, 48, 32}}) {
      accel::Config cfg = accel::Config::find(cfgName).value();
      Rng r(seed++);
      Graph g;
      Value* a = g.addInput("a", DType::I8, {M, K});
      NDArray av = r.i8({M, K}), bv = r.i8({N, K}), cv = r.i32({N}, -20000, 20000);
      Value* y = g.addValue("y", DType::I8, {});
      Node* n = g.addNode("QGemm", "fc", {a, g.addConstant("b", bv), g.addConstant("c", cv)}, {y});
      r.requant(n, N, K);
      inferNode(*n);
      NDArray want = ref::evalNode(*n, {&av, &bv, &cv})[0];
      codegen::AccelKernel k = codegen::compileAccelNode(*n, cfg);
      uint64_t cyc = 0;
      NDArray got = testing::runKernel(k, {&av}, y->shape, cfg, &cyc);
      expectSame(got, want,
                 "QGemm " + std::to_string(M) + "x" + std::to_string(K) + " -> " +
                     std::to_string(N) + " on " + cfgName);
    }
}

TEST(AccelOps, ResidualAdds) {
  uint32_t seed = 50;
  for (const std::string& cfgName : configs())
    for (Shape s : std::vector<Shape>{{1, 16, 8, 8}, {1, 40, 7, 5}, {2, 8, 3, 3}}) {
      accel::Config cfg = accel::Config::find(cfgName).value();
      Rng r(seed++);
      Graph g;
      Value* a = g.addInput("a", DType::I8, s);
      Value* b = g.addInput("b", DType::I8, s);
      NDArray av = r.i8(s), bv = r.i8(s);
      Value* y = g.addValue("y", DType::I8, {});
      Node* n = g.addNode("QAdd", "add", {a, b}, {y});
      n->attrs["a_mul"] = r.uniform(8000, 16384);
      n->attrs["b_mul"] = r.uniform(8000, 16384);
      r.requant(n, 1, 1);
      n->attrs["multiplier"] = r.uniform(int64_t{1} << 30, (int64_t{1} << 31) - 1);
      n->attrs["shift"] = int64_t{45};
      inferNode(*n);
      NDArray want = ref::evalNode(*n, {&av, &bv})[0];
      codegen::AccelKernel k = codegen::compileAccelNode(*n, cfg);
      NDArray got = testing::runKernel(k, {&av, &bv}, y->shape, cfg, nullptr);
      expectSame(got, want, "QAdd " + shapeStr(s) + " on " + cfgName);
    }
}

struct PoolCase {
  int64_t N, C, H, W, KH, KW, stride, padBegin, padEnd;
  bool isMax;
  bool nonNegative = false;  // the input comes from a layer with a ReLU folded in
};

void checkPool(const PoolCase& pc, const std::string& cfgName, uint32_t seed) {
  accel::Config cfg = accel::Config::find(cfgName).value();
  Rng r(seed);
  Graph g;
  Value* x = g.addInput("x", DType::I8, {pc.N, pc.C, pc.H, pc.W});
  NDArray xv = r.i8(x->shape);
  if (pc.nonNegative) {
    // x as the output of a residual add with a ReLU (out_min 0): the device may pad with zeros.
    Value* a = g.addInput("a", DType::I8, x->shape);
    Value* relu = g.addValue("relu", DType::I8, x->shape);
    Node* add = g.addNode("QAdd", "add", {a, a}, {relu});
    add->attrs["out_min"] = int64_t{0};
    x = relu;
    for (int64_t i = 0; i < xv.numel(); ++i)
      xv.data<int8_t>()[i] =
          static_cast<int8_t>(std::min(127, std::abs(int{xv.data<int8_t>()[i]})));
  }
  Value* y = g.addValue("y", DType::I8, {});
  Node* n = g.addNode(pc.isMax ? "QMaxPool" : "QAveragePool", "pool", {x}, {y});
  n->attrs["kernel_shape"] = std::vector<int64_t>{pc.KH, pc.KW};
  n->attrs["strides"] = std::vector<int64_t>{pc.stride, pc.stride};
  n->attrs["pads"] = std::vector<int64_t>{pc.padBegin, pc.padBegin, pc.padEnd, pc.padEnd};
  if (!pc.isMax) {
    int64_t m, sh;
    quantizeMultiplier(double(r.uniform(50, 200)) / 100.0 / double(pc.KH * pc.KW), m, sh);
    n->attrs["multiplier"] = m;
    n->attrs["shift"] = sh;
  }
  inferNode(*n);
  std::ostringstream what;
  what << (pc.isMax ? "QMaxPool " : "QAveragePool ") << shapeStr(x->shape) << " k" << pc.KH << "x"
       << pc.KW << " s" << pc.stride << " p" << pc.padBegin << "/" << pc.padEnd << " on "
       << cfgName;
  std::string why;
  ASSERT_TRUE(codegen::accelSupports(*n, cfg, &why)) << what.str() << ": " << why;
  NDArray want = ref::evalNode(*n, {&xv})[0];
  codegen::AccelKernel k = codegen::compileAccelNode(*n, cfg);
  uint64_t cyc = 0;
  NDArray got = testing::runKernel(k, {&xv}, y->shape, cfg, &cyc);
  what << " (" << k.insns.size() << " instructions, " << cyc << " cycles)";
  std::cout << what.str() << "\n";
  expectSame(got, want, what.str());
}

TEST(AccelOps, Pooling) {
  // ResNet-18's max pooling (3x3/2, padding 1, after a ReLU), SqueezeNet's (3x3/2, ceil mode:
  // padding only at the end), max pooling without padding over negative values, global
  // average pooling (ResNet's 7x7, SqueezeNet's 13x13), an average with counted padding.
  const std::vector<PoolCase> cases = {
      {1, 64, 16, 16, 3, 3, 2, 1, 1, true, true}, {1, 24, 13, 13, 3, 3, 2, 0, 1, true, true},
      {1, 20, 9, 8, 2, 2, 2, 0, 0, true},         {1, 40, 7, 7, 7, 7, 1, 0, 0, false},
      {1, 12, 13, 13, 13, 13, 1, 0, 0, false},    {1, 16, 8, 8, 3, 3, 1, 1, 1, false},
  };
  uint32_t seed = 700;
  for (const char* c : {"small", "pynq-z1"})
    for (const PoolCase& pc : cases) checkPool(pc, c, seed++);
}

TEST(AccelOps, RandomPoolingShapes) {
  Rng r(77);
  for (int i = 0; i < 8; ++i) {
    PoolCase pc;
    pc.N = 1;
    pc.C = r.uniform(1, 40);
    pc.isMax = i % 2 == 0;
    pc.KH = r.uniform(1, 4);
    pc.KW = pc.KH;
    pc.stride = r.uniform(1, 3);
    pc.padBegin = r.uniform(0, pc.KH - 1);
    pc.padEnd = r.uniform(0, pc.KH - 1);
    pc.H = r.uniform(pc.KH, 14);
    pc.W = r.uniform(pc.KW, 14);
    pc.nonNegative = pc.isMax && (pc.padBegin > 0 || pc.padEnd > 0);
    checkPool(pc, i % 2 ? "small" : "pynq-z1", 800 + static_cast<uint32_t>(i));
  }
}

TEST(AccelOps, MaxPoolingOverPaddingOfSignedDataStaysOnTheHost) {
  accel::Config cfg = accel::Config::find("pynq-z1").value();
  Graph g;
  Value* x = g.addInput("x", DType::I8, {1, 16, 8, 8});
  Value* y = g.addValue("y", DType::I8, {});
  Node* n = g.addNode("QMaxPool", "pool", {x}, {y});
  n->attrs["kernel_shape"] = std::vector<int64_t>{3, 3};
  n->attrs["strides"] = std::vector<int64_t>{2, 2};
  n->attrs["pads"] = std::vector<int64_t>{1, 1, 1, 1};
  inferNode(*n);
  std::string why;
  EXPECT_FALSE(codegen::accelSupports(*n, cfg, &why));
  EXPECT_NE(why.find("may be negative"), std::string::npos) << why;
}

}  // namespace
}  // namespace kiln
