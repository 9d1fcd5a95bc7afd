// Graph IR: building, shape inference, the verifier, the text dump, dead-code elimination,
// and a few reference kernels checked against hand-computed values.
#include <gtest/gtest.h>

#include "kiln/ir/graph.h"
#include "kiln/ops/op_registry.h"
#include "kiln/ref/executor.h"

namespace kiln {
namespace {

TEST(Graph, ConvShapeInferenceWithStridePadDilation) {
  Graph g;
  Value* x = g.addInput("x", DType::F32, {2, 4, 17, 13});
  Value* w = g.addConstant("w", NDArray(DType::F32, {6, 2, 3, 3}));
  Value* y = addOpNode(g, "Conv", {x, w},
                       {{"strides", std::vector<int64_t>{2, 1}},
                        {"pads", std::vector<int64_t>{1, 0, 2, 1}},
                        {"dilations", std::vector<int64_t>{1, 2}},
                        {"group", int64_t{2}}},
                       "y");
  // H: (17 + 1 + 2 - 3) / 2 + 1 = 9; W: (13 + 0 + 1 - 5) / 1 + 1 = 10
  EXPECT_EQ(y->shape, (Shape{2, 6, 9, 10}));
}

TEST(Graph, PoolCeilModeDropsWindowStartingInPadding) {
  // in 6, k 2, s 2, pad end 1, ceil: ceil((6+1-2)/2)+1 = 4, but the 4th window would start
  // at 6 (past the input) so onnxruntime/PyTorch give 3.
  EXPECT_EQ(windowOutputSize(6, 2, 2, 0, 1, 1, true), 3);
  EXPECT_EQ(windowOutputSize(112, 3, 2, 0, 0, 1, true), 56);
  EXPECT_EQ(windowOutputSize(112, 3, 2, 0, 0, 1, false), 55);
}

TEST(Graph, BroadcastRules) {
  EXPECT_EQ(broadcastShapes({2, 1, 4}, {3, 1}), (Shape{2, 3, 4}));
  EXPECT_EQ(broadcastShapes({}, {5}), (Shape{5}));
  EXPECT_THROW(broadcastShapes({2, 3}, {4}), Error);
}

TEST(Graph, ShapeErrorsNameTheNode) {
  Graph g;
  Value* a = g.addInput("a", DType::F32, {3, 4});
  Value* b = g.addInput("b", DType::F32, {5, 6});
  Value* o = g.addValue("sum", DType::F32, {});
  Node* n = g.addNode("Add", "add_1", {a, b}, {o});
  try {
    inferNode(*n);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("node 'add_1' (Add)"), std::string::npos) << m;
    EXPECT_NE(m.find("[3,4]"), std::string::npos) << m;
  }
}

TEST(Graph, VerifierCatchesStaleShapes) {
  Graph g;
  Value* x = g.addInput("x", DType::F32, {1, 8});
  Value* y = addOpNode(g, "Relu", {x}, {}, "y");
  g.markOutput(y);
  EXPECT_NO_THROW(verifyGraph(g));
  y->shape = {1, 9};  // a pass that forgot to update the shape
  try {
    verifyGraph(g);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("recorded as f32[1,9]"), std::string::npos) << e.what();
  }
}

TEST(Graph, VerifierCatchesUseBeforeDefinition) {
  Graph g;
  Value* x = g.addInput("x", DType::F32, {4});
  Value* later = g.addValue("later", DType::F32, {4});
  Value* y = g.addValue("y", DType::F32, {4});
  g.addNode("Add", "first", {x, later}, {y});
  g.addNode("Relu", "second", {x}, {later});
  g.markOutput(y);
  EXPECT_THROW(verifyGraph(g), Error);
}

TEST(Graph, DeadCodeEliminationAndDump) {
  Graph g;
  g.name = "tiny";
  Value* x = g.addInput("x", DType::F32, {1, 3});
  Value* used = addOpNode(g, "Relu", {x}, {}, "used");
  addOpNode(g, "Sigmoid", {x}, {}, "unused");
  g.markOutput(used);
  g.eliminateDeadCode();
  ASSERT_EQ(g.nodes().size(), 1u);
  std::string dump = printGraph(g);
  EXPECT_NE(dump.find("graph tiny"), std::string::npos) << dump;
  EXPECT_NE(dump.find("%used : f32[1,3] = Relu(%x)"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("Sigmoid"), std::string::npos) << dump;
}

TEST(RefKernels, AveragePoolCountIncludePad) {
  Graph g;
  Value* x = g.addInput("x", DType::F32, {1, 1, 2, 2});
  std::map<std::string, Attribute> attrs = {{"kernel_shape", std::vector<int64_t>{2, 2}},
                                            {"strides", std::vector<int64_t>{1, 1}},
                                            {"pads", std::vector<int64_t>{1, 1, 0, 0}},
                                            {"ceil_mode", int64_t{0}}};
  attrs["count_include_pad"] = int64_t{1};
  Value* inc = addOpNode(g, "AveragePool", {x}, attrs, "inc");
  attrs["count_include_pad"] = int64_t{0};
  Value* exc = addOpNode(g, "AveragePool", {x}, attrs, "exc");
  g.markOutput(inc);
  g.markOutput(exc);
  auto out = ref::Executor(g).run({{"x", NDArray::fromVector<float>({1, 1, 2, 2}, {1, 2, 3, 4})}});
  // Top-left window covers only x[0][0] = 1 plus three padded zeros.
  EXPECT_FLOAT_EQ(out[0].data<float>()[0], 0.25f);
  EXPECT_FLOAT_EQ(out[1].data<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(out[0].data<float>()[3], 2.5f);  // full window: (1+2+3+4)/4
}

TEST(RefKernels, ConvMatchesHandComputation) {
  Graph g;
  Value* x = g.addInput("x", DType::F32, {1, 1, 3, 3});
  Value* w = g.addConstant("w", NDArray::fromVector<float>({1, 1, 2, 2}, {1, 0, 0, -1}));
  Value* b = g.addConstant("b", NDArray::fromVector<float>({1}, {0.5f}));
  Value* y = addOpNode(g, "Conv", {x, w, b},
                       {{"strides", std::vector<int64_t>{1, 1}},
                        {"pads", std::vector<int64_t>{0, 0, 0, 0}},
                        {"dilations", std::vector<int64_t>{1, 1}},
                        {"group", int64_t{1}}},
                       "y");
  g.markOutput(y);
  auto out = ref::Executor(g).run(
      {{"x", NDArray::fromVector<float>({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9})}});
  // y[i][j] = x[i][j] - x[i+1][j+1] + 0.5 = -4 + 0.5
  for (float v : out[0].values<float>()) EXPECT_FLOAT_EQ(v, -3.5f);
}

TEST(RefKernels, ExecutorChecksInputs) {
  Graph g;
  Value* x = g.addInput("x", DType::F32, {2});
  g.markOutput(addOpNode(g, "Relu", {x}, {}, "y"));
  ref::Executor e(g);
  EXPECT_THROW(e.run({}), Error);
  EXPECT_THROW(e.run({{"x", NDArray(DType::F32, {3})}}), Error);
  EXPECT_THROW(e.run({{"x", NDArray(DType::F32, {2})}, {"z", NDArray(DType::F32, {2})}}), Error);
}

}  // namespace
}  // namespace kiln
