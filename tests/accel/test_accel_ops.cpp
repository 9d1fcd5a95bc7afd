// Every device operator compiled for the accelerator (definition -> accelerator schedule ->
// tir::lower -> accel code generator) on randomized shapes and every config: the stream run
// on the functional reference, and on the cycle model, gives exactly the bytes of the
// integer reference executor's output of the same quantized node.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "accel_test_run.h"
#include "kiln/ops/op_registry.h"
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

}  // namespace
}  // namespace kiln
