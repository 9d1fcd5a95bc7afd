// Post-training int8 quantization on small graphs: the requantization factor encoding,
// quantized Conv+ReLU, Gemm, residual Add and pooling against the float graph within the error
// quantization allows, and per-channel scales for depthwise inputs against per-tensor ones.
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
  EXPECT_EQ(report.quantized, 5) << "conv+relu, conv, add+clip, global pooling, gemm";
  std::map<std::string, int> ops;
  for (Node* n : q.nodes()) ++ops[n->op];
  EXPECT_EQ(ops["QConv"], 2);
  EXPECT_EQ(ops["QAdd"], 1);
  EXPECT_EQ(ops["QAveragePool"], 1);
  EXPECT_EQ(ops["QGemm"], 1);
  EXPECT_EQ(ops["DequantizeLinear"], 1) << "int8 from the input's quantization to the logits";
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
  std::vector<std::map<std::string, NDArray>> one(1);
  CalibrationOptions bad;
  bad.percentile = 0;
  EXPECT_THROW(calibrate(Graph{}, one, bad), Error);
  EXPECT_THROW(parseCalibrationMethod("mse"), Error);
}

// A convolution (+ ReLU6) whose channels differ 100-fold in range, read by a depthwise
// convolution: per-tensor scales leave the narrow channels a few int8 levels; per-channel
// scales (folded into the depthwise weights) keep them, and the int8 graph tracks the float
// one several times closer. Percentile and entropy ranges never exceed the maximum.
TEST(Quantize, PerChannelScalesForDepthwiseInputsKeepNarrowChannels) {
  Graph g;
  Value* x = g.addInput("x", DType::F32, {1, 4, 10, 10});
  NDArray w1 = random({8, 4, 1, 1}, 1, 0.5f);
  for (int64_t i = 4; i < w1.numel(); ++i) w1.data<float>()[i] *= 0.01f;  // channels 1..7 narrow
  std::map<std::string, Attribute> conv = {{"strides", std::vector<int64_t>{1, 1}},
                                           {"pads", std::vector<int64_t>{0, 0, 0, 0}},
                                           {"dilations", std::vector<int64_t>{1, 1}},
                                           {"group", int64_t{1}}};
  Value* c1 = addOpNode(g, "Conv", {x, g.addConstant("w1", w1)}, conv, "c1");
  Value* r1 = addOpNode(g, "Clip", {c1}, {{"min", 0.0}, {"max", 6.0}}, "r1");
  std::map<std::string, Attribute> dw = conv;
  dw["pads"] = std::vector<int64_t>{1, 1, 1, 1};
  dw["group"] = int64_t{8};
  // The depthwise weights undo the 100-fold difference, so the output's channels are alike and
  // only the input's scales differ between the two graphs.
  NDArray w2 = random({8, 1, 3, 3}, 2, 0.5f);
  for (int64_t i = 9; i < w2.numel(); ++i) w2.data<float>()[i] *= 100.0f;
  Value* c2 = addOpNode(g, "Conv", {r1, g.addConstant("w2", w2)}, dw, "c2");
  g.markOutput(c2);
  std::vector<std::map<std::string, NDArray>> calib;
  for (uint32_t s = 10; s < 13; ++s) calib.push_back({{"x", random({1, 4, 10, 10}, s)}});
  ChannelRanges channels;
  const auto ranges = calibrate(g, calib, {}, &channels);
  ASSERT_EQ(channels.at("r1").size(), 8u);
  Graph perTensor = quantizeGraph(g, ranges),
        perChannel = quantizeGraph(g, ranges, nullptr, &channels);
  // The error on the channels read from the narrow ones (1..7), against their float range.
  auto narrowError = [&](const Graph& q) {
    double err = 0, range = 0;
    for (uint32_t s = 20; s < 23; ++s) {
      std::map<std::string, NDArray> in{{"x", random({1, 4, 10, 10}, s)}};
      NDArray f = ref::Executor(g).run(in)[0], i = ref::Executor(q).run(in)[0];
      for (int64_t k = 100; k < f.numel(); ++k) {
        range = std::max(range, double(std::abs(f.data<float>()[k])));
        err = std::max(err, double(std::abs(f.data<float>()[k] - i.data<float>()[k])));
      }
    }
    return err / range;
  };
  const double et = narrowError(perTensor), ec = narrowError(perChannel);
  std::cout << "narrow channels' worst error / range: per-tensor " << et << ", per-channel " << ec
            << "\n";
  EXPECT_LT(ec * 4, et) << "per-channel scales should keep the narrow channels' resolution";
  EXPECT_LT(ec, 0.05);
  for (CalibrationMethod m : {CalibrationMethod::Percentile, CalibrationMethod::Entropy}) {
    CalibrationOptions o;
    o.method = m;
    for (const auto& [name, r] : calibrate(g, calib, o)) {
      EXPECT_LE(r, ranges.at(name)) << name;
      EXPECT_GT(r, 0) << name;
    }
  }
}

}  // namespace
}  // namespace kiln
