// Graph passes on small hand-built graphs: fusion boundaries, batch-norm folding, the pass
// manager's checks.
#include <gtest/gtest.h>

#include "kiln/ops/op_registry.h"
#include "kiln/passes/pass.h"
#include "kiln/ref/executor.h"

namespace kiln {
namespace {

std::map<std::string, Attribute> conv1x1() {
  return {{"strides", std::vector<int64_t>{1, 1}},
          {"pads", std::vector<int64_t>{0, 0, 0, 0}},
          {"dilations", std::vector<int64_t>{1, 1}},
          {"group", int64_t{1}}};
}

int64_t groupOf(const Graph& g, const std::string& value) {
  return g.findValue(value)->producer->i(kFuseGroupAttr);
}

TEST(FuseOps, ConvResidualAddReluIsOneKernel) {
  Graph g;
  Value* x = g.addInput("x", DType::F32, {1, 2, 4, 4});
  Value* w = g.addConstant("w", NDArray(DType::F32, {2, 2, 1, 1}));
  Value* c = addOpNode(g, "Conv", {x, w}, conv1x1(), "c");
  Value* a = addOpNode(g, "Add", {c, x}, {}, "a");
  Value* r = addOpNode(g, "Relu", {a}, {}, "r");
  g.markOutput(r);
  fuseOps(g);
  EXPECT_EQ(groupOf(g, "c"), groupOf(g, "a"));
  EXPECT_EQ(groupOf(g, "a"), groupOf(g, "r"));
  MemoryPlan plan = planMemory(g);
  ASSERT_EQ(plan.slots.size(), 1u) << "only the kernel's output needs memory";
  EXPECT_EQ(plan.slots[0].value->name, "r");
}

TEST(FuseOps, StopsAtValuesWithTwoReaders) {
  Graph g;
  Value* x = g.addInput("x", DType::F32, {1, 2, 4, 4});
  Value* w = g.addConstant("w", NDArray(DType::F32, {2, 2, 1, 1}));
  Value* c = addOpNode(g, "Conv", {x, w}, conv1x1(), "c");
  Value* r = addOpNode(g, "Relu", {c}, {}, "r");
  Value* s = addOpNode(g, "Sigmoid", {c}, {}, "s");
  g.markOutput(r);
  g.markOutput(s);
  fuseOps(g);
  EXPECT_NE(groupOf(g, "c"), groupOf(g, "r"));
  EXPECT_NE(groupOf(g, "c"), groupOf(g, "s"));
}

TEST(FoldBatchNorm, MatchesUnfoldedGraph) {
  Graph g;
  Value* x = g.addInput("x", DType::F32, {1, 3, 5, 5});
  NDArray w(DType::F32, {4, 3, 3, 3});
  for (int64_t i = 0; i < w.numel(); ++i)
    w.data<float>()[i] = 0.01f * static_cast<float>(i % 17) - 0.05f;
  auto vec = [](std::vector<float> v) { return NDArray::fromVector<float>({4}, v); };
  auto attrs = conv1x1();
  attrs["pads"] = std::vector<int64_t>{1, 1, 1, 1};
  Value* c = addOpNode(g, "Conv",
                       {x, g.addConstant("w", w), g.addConstant("b", vec({0.1f, -0.2f, 0.3f, 0}))},
                       attrs, "c");
  Value* y = addOpNode(g, "BatchNormalization",
                       {c, g.addConstant("gamma", vec({1.5f, 0.5f, 1, 2})),
                        g.addConstant("beta", vec({0, 0.1f, -0.1f, 1})),
                        g.addConstant("mean", vec({0.2f, -0.1f, 0, 0.5f})),
                        g.addConstant("var", vec({1, 0.25f, 4, 0.1f}))},
                       {{"epsilon", 1e-5}}, "y");
  g.markOutput(y);
  NDArray in(DType::F32, {1, 3, 5, 5});
  for (int64_t i = 0; i < in.numel(); ++i) in.data<float>()[i] = static_cast<float>(i % 7) - 3.0f;
  auto want = ref::Executor(g).run({{"x", in}})[0];
  optimizeGraph(g);
  ASSERT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.nodes()[0]->op, "Conv");
  EXPECT_EQ(g.outputs()[0]->name, "y") << "the output keeps its name";
  auto got = ref::Executor(g).run({{"x", in}})[0];
  for (int64_t i = 0; i < want.numel(); ++i)
    EXPECT_NEAR(got.data<float>()[i], want.data<float>()[i],
                1e-5 * (1 + std::abs(want.data<float>()[i])))
        << i;
}

TEST(SimplifyGraph, ConstantGemmWeightsReadTransposedAreTransposedOnce) {
  // y = x * B^T + c with a constant B [3, 2] (a PyTorch Linear): after simplification B is a
  // [2, 3] constant read without transposition, and the answer is the same.
  Graph g;
  Value* x = g.addInput("x", DType::F32, {1, 2});
  Value* b = g.addConstant("B", NDArray::fromVector<float>({3, 2}, {1, 2, 3, 4, 5, 6}));
  Value* c = g.addConstant("c", NDArray::fromVector<float>({3}, {0.5f, -1, 2}));
  Value* y = addOpNode(
      g, "Gemm", {x, b, c},
      {{"transA", int64_t{0}}, {"transB", int64_t{1}}, {"alpha", 1.0}, {"beta", 1.0}}, "y");
  g.markOutput(y);
  const NDArray in = NDArray::fromVector<float>({1, 2}, {0.25f, -2});
  auto want = ref::Executor(g).run({{"x", in}})[0].toFloatVector();
  simplifyGraph(g);
  const Node* gemm = g.nodes()[0];
  EXPECT_EQ(gemm->i("transB"), 0);
  EXPECT_EQ(gemm->inputs[1]->shape, (Shape{2, 3}));
  EXPECT_EQ(ref::Executor(g).run({{"x", in}})[0].toFloatVector(), want);
}

TEST(SimplifyGraph, ZeroSpatialPadBecomesTheConvolutionsPadding) {
  // TF.js's ZeroPadding2D (bottom/right by one) before a 3x3 stride-2 convolution that pads
  // (1, 1, 0, 0) itself: the Pad is gone, the convolution pads (1, 1, 1, 1), same answer. A
  // Pad with a nonzero value is left alone.
  for (double value : {0.0, 0.5}) {
    Graph g;
    Value* x = g.addInput("x", DType::F32, {1, 2, 6, 6});
    Value* p =
        addOpNode(g, "Pad", {x},
                  {{"pads", std::vector<int64_t>{0, 0, 0, 0, 0, 0, 1, 1}}, {"value", value}}, "p");
    NDArray w(DType::F32, {3, 2, 3, 3});
    for (int64_t i = 0; i < w.numel(); ++i)
      w.data<float>()[i] = 0.03f * static_cast<float>(i % 11) - 0.1f;
    auto attrs = conv1x1();
    attrs["kernel_shape"] = std::vector<int64_t>{3, 3};
    attrs["strides"] = std::vector<int64_t>{2, 2};
    attrs["pads"] = std::vector<int64_t>{1, 1, 0, 0};
    g.markOutput(addOpNode(g, "Conv", {p, g.addConstant("w", w)}, attrs, "y"));
    NDArray in(DType::F32, {1, 2, 6, 6});
    for (int64_t i = 0; i < in.numel(); ++i) in.data<float>()[i] = static_cast<float>(i % 5) - 2;
    const auto want = ref::Executor(g).run({{"x", in}})[0].toFloatVector();
    simplifyGraph(g);
    g.eliminateDeadCode();
    if (value == 0.0) {
      ASSERT_EQ(g.nodes().size(), 1u);
      EXPECT_EQ(g.nodes()[0]->ints("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
    } else {
      EXPECT_EQ(g.nodes().size(), 2u) << "a Pad with a nonzero value stays";
    }
    EXPECT_EQ(ref::Executor(g).run({{"x", in}})[0].toFloatVector(), want);
  }
}

TEST(PassManager, UnknownDisabledPassIsAnError) {
  Graph g;
  g.markOutput(addOpNode(g, "Relu", {g.addInput("x", DType::F32, {2})}, {}, "y"));
  PassOptions o;
  o.disabled = {"fold-everything"};
  try {
    optimizeGraph(g, o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown pass 'fold-everything'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace kiln
