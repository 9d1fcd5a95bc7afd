// Post-training int8 quantization on small graphs: the requantization factor encoding, and
// quantized Conv+ReLU, Gemm and residual Add against the float graph within the error
// quantization allows.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kiln/accel/reference.h"
#include "kiln/ops/op_registry.h"
#include "kiln/passes/quantize.h"
#include "kiln/ref/executor.h"

namespace kiln {
namespace {

NDArray random(Shape s, uint32_t seed, float scale = 1.0f) {
  NDArray a(DType::F32, std::move(s));
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.0f, scale);
  for (int64_t i = 0; i < a.numel(); ++i) a.data<float>()[i] = d(gen);
  return a;
}

TEST(Quantize, MultiplierAndShiftReproduceTheFactor) {
  for (double M : {0.5, 0.75, 0.001234, 1.0 / 3.0, 1.5, 12.25, 3e-7}) {
    int64_t m, s;
    quantizeMultiplier(M, m, s);
    ASSERT_GE(s, 0);
    ASSERT_LE(s, 63);
    for (int32_t x : {0, 1, -1, 1000, -777, 123456, -2000000}) {
      const int32_t got = accel::requantize(x, static_cast<int32_t>(m), static_cast<int>(s), 32);
      EXPECT_NEAR(got, x * M, 1.0) << "M=" << M << " x=" << x;
    }
  }
}

TEST(Quantize, ConvReluGemmAndResidualAddTrackTheFloatGraph) {
  Graph g;
  Value* x = g.addInput("x", DType::F32, {1, 8, 9, 7});
  std::map<std::string, Attribute> conv = {{"strides", std::vector<int64_t>{1, 1}},
                                           {"pads", std::vector<int64_t>{1, 1, 1, 1}},
                                           {"dilations", std::vector<int64_t>{1, 1}},
                                           {"group", int64_t{1}}};
  Value* c1 = addOpNode(g, "Conv",
                        {x, g.addConstant("w1", random({8, 8, 3, 3}, 1, 0.2f)),
                         g.addConstant("b1", random({8}, 2, 0.1f))},
                        conv, "c1");
  Value* r1 = addOpNode(g, "Relu", {c1}, {}, "r1");
  Value* c2 = addOpNode(g, "Conv",
                        {r1, g.addConstant("w2", random({8, 8, 3, 3}, 3, 0.2f)),
                         g.addConstant("b2", random({8}, 4, 0.1f))},
                        conv, "c2");
  Value* sum = addOpNode(g, "Add", {c2, x}, {}, "sum");
  Value* r2 = addOpNode(g, "Clip", {sum}, {{"min", 0.0}, {"max", 6.0}}, "r2");
  Value* pool = addOpNode(g, "GlobalAveragePool", {r2}, {}, "pool");
  Value* flat = addOpNode(g, "Reshape", {pool}, {{"shape", Shape{1, 8}}}, "flat");
  Value* fc = addOpNode(
      g, "Gemm",
      {flat, g.addConstant("wf", random({5, 8}, 5, 0.5f)),
       g.addConstant("bf", random({5}, 6, 0.1f))},
      {{"transA", int64_t{0}}, {"transB", int64_t{1}}, {"alpha", 1.0}, {"beta", 1.0}}, "fc");
  g.markOutput(fc);

  std::vector<std::map<std::string, NDArray>> calib;
  for (uint32_t s = 10; s < 14; ++s) calib.push_back({{"x", random({1, 8, 9, 7}, s)}});
  QuantizeReport report;
  Graph q = quantizeGraph(g, calibrate(g, calib), &report);
  EXPECT_EQ(report.quantized, 4) << "conv+relu, conv, add+clip, gemm";
  std::map<std::string, int> ops;
  for (Node* n : q.nodes()) ++ops[n->op];
  EXPECT_EQ(ops["QConv"], 2);
  EXPECT_EQ(ops["QAdd"], 1);
  EXPECT_EQ(ops["QGemm"], 1);
  EXPECT_EQ(ops["Relu"] + ops["Clip"], 0) << "activations fold into the int8 output range";
  EXPECT_EQ(q.outputs()[0]->name, "fc");
  EXPECT_EQ(q.outputs()[0]->dtype, DType::F32);

  // On fresh inputs the int8 graph stays within a few percent of the output's range.
  for (uint32_t s = 20; s < 24; ++s) {
    NDArray in = random({1, 8, 9, 7}, s);
    NDArray want = ref::Executor(g).run({{"x", in}})[0];
    NDArray got = ref::Executor(q).run({{"x", in}})[0];
    float range = 0, err = 0;
    for (int64_t i = 0; i < want.numel(); ++i) {
      range = std::max(range, std::abs(want.data<float>()[i]));
      err = std::max(err, std::abs(want.data<float>()[i] - got.data<float>()[i]));
    }
    EXPECT_LE(err, 0.05f * range) << "input seed " << s << ": int8 error " << err
                                  << " against output range " << range;
  }
}

TEST(Quantize, CalibrationNeedsSamples) {
  EXPECT_THROW(calibrate(Graph{}, {}), Error);
}

}  // namespace
}  // namespace kiln
