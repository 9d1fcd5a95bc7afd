// Property tests of the operator library compiled by a back end: every operator's
// tensor-expression definition, schedule, lowering and generated code against the
// reference executor (ref::evalNode) on seeded random shapes and attributes, including
// 1x1 kernels, odd sizes, stride 2, groups, depthwise, padding, dilation and batch > 1.
//
// The back end is KILN_OPS_BACKEND: "llvm" (the CPU schedules, JIT; kiln_unit_tests), or
// "opencl" / "cuda" (the GPU schedules, a GPU package loaded on the device; the same cases,
// built into kiln_gpu_ops_tests). Where the device cannot be opened (no GPU, no driver) a
// GPU test is skipped, saying why.
//
// Each test builds one graph of independent single-operator nodes, so one JIT compile
// covers all its cases. Tolerance: max |got - want| <= 1e-5 * max(1, max |want|) per
// output. The reference accumulates in double and the kernels in float32; over the few
// hundred terms of these reductions that differs by ~1e-6 relative, while a wrong index,
// pad or divisor differs by O(1).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <random>

#include <filesystem>
#include <fstream>

#include "kiln/codegen/graph_compiler.h"
#include "kiln/codegen/package_writer.h"
#include "kiln/ops/op_registry.h"
#include "kiln/passes/pass.h"
#include "kiln/ref/executor.h"
#include "kiln/runtime/device.h"
#include "kiln/runtime/npy.h"
#include "kiln/runtime/package.h"
#include "kiln/topi/registry.h"

#ifndef KILN_OPS_BACKEND
#define KILN_OPS_BACKEND "llvm"
#define KILN_OPS_LLVM 1
#endif

namespace kiln {
namespace {

const std::string kBackend = KILN_OPS_BACKEND;

// Why the back end's device cannot run here ("" when it can).
std::string deviceUnavailable() {
  if (kBackend == "llvm") return "";
  try {
    openDevice(kBackend);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

// The graph's outputs computed by the back end under test.
std::vector<NDArray> runOnBackend(const Graph& g, const std::map<std::string, NDArray>& feeds) {
  if (kBackend == "llvm") return codegen::CompiledGraph(g).run(feeds);
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("kiln-ops-" + kBackend + "-" + std::to_string(::getpid()) + "-" +
                                   testing::UnitTest::GetInstance()->current_test_info()->name());
  codegen::writeGpuPackage(
      g, dir.string(), kBackend == "cuda" ? codegen::CDialect::CUDA : codegen::CDialect::OpenCL);
  auto p = Package::load(dir.string());
  fs::remove_all(dir);
  if (!p) throw p.error();
  return (*p)->run(feeds);
}

// Without a CUDA GPU: the package's CUDA C compiled by NVRTC for sm_90 (the H100), which must
// succeed where NVRTC is installed.
std::string compileWithoutDevice(const Graph& g) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("kiln-ops-nvrtc-" + std::to_string(::getpid()) + "-" +
                                   testing::UnitTest::GetInstance()->current_test_info()->name());
  codegen::writeGpuPackage(g, dir.string(), codegen::CDialect::CUDA);
  std::ifstream f(dir / "kernels.cu");
  const std::string source((std::istreambuf_iterator<char>(f)), {});
  fs::remove_all(dir);
  try {
    const size_t bytes = compileCudaSource(source, "90").size();
    return "the CUDA C compiles for sm_90 (" + std::to_string(bytes) + " bytes of cubin)";
  } catch (const Error& e) {
    if (std::string(e.what()).find("not found") != std::string::npos) return e.what();
    ADD_FAILURE() << e.what();
    return "NVRTC rejected the CUDA C";
  }
}

using Ints = std::vector<int64_t>;
using Attrs = std::map<std::string, Attribute>;

class OpBatch {
 public:
  explicit OpBatch(uint32_t seed) : rng_(seed) {}

  NDArray random(const Shape& s, float lo = -1.0f, float hi = 1.0f) {
    NDArray a(DType::F32, s);
    std::uniform_real_distribution<float> d(lo, hi);
    for (int64_t i = 0; i < a.numel(); ++i) a.data<float>()[i] = d(rng_);
    return a;
  }
  Value* input(const Shape& s, float lo = -1.0f, float hi = 1.0f) {
    std::string name = "x" + std::to_string(count_++);
    feeds_[name] = random(s, lo, hi);
    return g_.addInput(name, DType::F32, s);
  }
  Value* constant(const Shape& s, float lo = -1.0f, float hi = 1.0f) {
    return g_.addConstant("c" + std::to_string(count_++), random(s, lo, hi));
  }
  Value* constant(NDArray a) {
    return g_.addConstant("c" + std::to_string(count_++), std::move(a));
  }
  void add(const std::string& op, std::vector<Value*> inputs, Attrs attrs = {}) {
    Value* y =
        addOpNode(g_, op, std::move(inputs), std::move(attrs), op + "_" + std::to_string(count_++));
    g_.markOutput(y);
  }
  int64_t pick(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }

  // Compiles the whole batch once and compares every output with the reference kernel.
  void check(double tol = 1e-5) {
    ASSERT_FALSE(g_.outputs().empty());
    if (std::string why = deviceUnavailable(); !why.empty()) {
      // No GPU: at least the generated CUDA C must compile (NVRTC needs no GPU).
      if (kBackend == "cuda") why = compileWithoutDevice(g_) + "; not run: " + why;
      exportForDevice();
      GTEST_SKIP() << why;
    }
    std::vector<NDArray> got = runOnBackend(g_, feeds_);
    for (size_t k = 0; k < got.size(); ++k) {
      const Value* out = g_.outputs()[k];
      const Node& n = *out->producer;
      std::vector<const NDArray*> args;
      for (const Value* v : n.inputs)
        args.push_back(!v ? nullptr : v->isConstant() ? &*v->constant : &feeds_.at(v->name));
      NDArray want = ref::evalNode(n, args)[0];
      ASSERT_EQ(got[k].shape(), want.shape()) << n.describe();
      ASSERT_EQ(got[k].dtype(), want.dtype()) << n.describe();
      double maxAbs = 0, maxRef = 0;
      int64_t worst = 0;
      const std::vector<float> pg = got[k].toFloatVector(), pw = want.toFloatVector();
      for (size_t i = 0; i < pw.size(); ++i) {
        double d = std::abs(double(pg[i]) - pw[i]);
        if (!(d <= maxAbs)) maxAbs = d, worst = static_cast<int64_t>(i);  // NaN counts as worst
        maxRef = std::max(maxRef, std::abs(double(pw[i])));
      }
      std::string inputs;
      for (const Value* v : n.inputs) inputs += (v ? shapeStr(v->shape) : "none") + " ";
      EXPECT_LE(maxAbs, tol * std::max(1.0, maxRef))
          << n.describe() << " on inputs " << inputs << "attrs " << attrsText(n) << ": element "
          << worst << " is " << pg[worst] << ", reference " << pw[worst] << " (max |ref| " << maxRef
          << ")";
    }
  }

 private:
  // KILN_EXPORT_DIR=DIR: the batch as a GPU package with its inputs and the reference's
  // outputs (in{k}.npy, ref{k}.npy), for a machine with the GPU to run and compare
  // (benchmarks/cuda_vs_pytorch.sh), where this one has none.
  void exportForDevice() {
    const char* root = std::getenv("KILN_EXPORT_DIR");
    if (!root || kBackend == "llvm") return;
    const std::string dir = std::string(root) + "/ops-" + kBackend + "-" +
                            testing::UnitTest::GetInstance()->current_test_info()->name();
    codegen::writeGpuPackage(
        g_, dir, kBackend == "cuda" ? codegen::CDialect::CUDA : codegen::CDialect::OpenCL);
    for (size_t k = 0; k < g_.inputs().size(); ++k)
      writeNpy(dir + "/in" + std::to_string(k) + ".npy", feeds_.at(g_.inputs()[k]->name));
    for (size_t k = 0; k < g_.outputs().size(); ++k) {
      const Node& n = *g_.outputs()[k]->producer;
      std::vector<const NDArray*> args;
      for (const Value* v : n.inputs)
        args.push_back(!v ? nullptr : v->isConstant() ? &*v->constant : &feeds_.at(v->name));
      writeNpy(dir + "/ref" + std::to_string(k) + ".npy", ref::evalNode(n, args)[0]);
    }
  }
  static std::string attrsText(const Node& n) {
    std::string s;
    for (const auto& [k, v] : n.attrs) s += k + "=" + printAttribute(v) + " ";
    return s;
  }
  Graph g_;
  std::map<std::string, NDArray> feeds_;
  std::mt19937 rng_;
  int count_ = 0;
};

Attrs convAttrs(Ints strides, Ints pads, Ints dil, int64_t group) {
  return {{"strides", strides}, {"pads", pads}, {"dilations", dil}, {"group", group}};
}

TEST(TeOps, ConvEdgeCases) {
  OpBatch b(1);
  // 1x1, batch 2, with bias.
  b.add("Conv", {b.input({2, 5, 7, 6}), b.constant({4, 5, 1, 1}), b.constant({4})},
        convAttrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 1));
  // 3x3 stride 2, pad 1, odd sizes.
  b.add("Conv", {b.input({1, 3, 13, 11}), b.constant({8, 3, 3, 3})},
        convAttrs({2, 2}, {1, 1, 1, 1}, {1, 1}, 1));
  // Depthwise 3x3 with bias, stride 2.
  b.add("Conv", {b.input({1, 6, 9, 9}), b.constant({6, 1, 3, 3}), b.constant({6})},
        convAttrs({2, 2}, {1, 1, 1, 1}, {1, 1}, 6));
  // Depthwise with channel multiplier 2.
  b.add("Conv", {b.input({1, 4, 8, 7}), b.constant({8, 1, 3, 3})},
        convAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 4));
  // Groups, dilation, asymmetric padding, different strides per axis.
  b.add("Conv", {b.input({2, 4, 17, 13}), b.constant({6, 2, 3, 3})},
        convAttrs({2, 1}, {1, 0, 2, 1}, {1, 2}, 2));
  // 7x7 stride 2 pad 3 (a ResNet stem in small).
  b.add("Conv", {b.input({1, 3, 23, 23}), b.constant({4, 3, 7, 7})},
        convAttrs({2, 2}, {3, 3, 3, 3}, {1, 1}, 1));
  // Kernel larger than the unpadded input.
  b.add("Conv", {b.input({1, 2, 2, 3}), b.constant({3, 2, 3, 3})},
        convAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1));
  b.check();
}

TEST(TeOps, ConvRandomized) {
  OpBatch b(2);
  for (int c = 0; c < 16; ++c) {
    int64_t group = std::vector<int64_t>{1, 1, 2, 3}[b.pick(0, 3)];
    int64_t cpg = b.pick(1, 4), ocpg = b.pick(1, 3);
    int64_t kh = b.pick(1, 4), kw = b.pick(1, 4), dh = b.pick(1, 2), dw = b.pick(1, 2);
    int64_t sh = b.pick(1, 2), sw = b.pick(1, 2);
    int64_t h = b.pick(1, 12) + (kh - 1) * dh, w = b.pick(1, 12) + (kw - 1) * dw;
    Ints pads{b.pick(0, kh - 1), b.pick(0, kw - 1), b.pick(0, kh - 1), b.pick(0, kw - 1)};
    std::vector<Value*> in{b.input({b.pick(1, 3), cpg * group, h, w}),
                           b.constant({ocpg * group, cpg, kh, kw})};
    if (b.pick(0, 1)) in.push_back(b.constant({ocpg * group}));
    b.add("Conv", in, convAttrs({sh, sw}, pads, {dh, dw}, group));
  }
  b.check();
}

TEST(TeOps, PoolingRandomized) {
  OpBatch b(3);
  // ResNet's 3x3 stride-2 max pool with padding, and SqueezeNet's ceil-mode pool.
  b.add("MaxPool", {b.input({1, 3, 15, 15})},
        {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}});
  b.add("MaxPool", {b.input({1, 2, 14, 14})},
        {{"kernel_shape", Ints{3, 3}},
         {"strides", Ints{2, 2}},
         {"pads", Ints{0, 0, 0, 0}},
         {"ceil_mode", int64_t{1}}});
  for (int c = 0; c < 20; ++c) {
    bool isMax = c % 2 == 0;
    int64_t kh = b.pick(1, 4), kw = b.pick(1, 4);
    int64_t dh = isMax ? b.pick(1, 2) : 1, dw = isMax ? b.pick(1, 2) : 1;
    Ints pads{b.pick(0, kh - 1), b.pick(0, kw - 1), b.pick(0, kh - 1), b.pick(0, kw - 1)};
    Attrs a{{"kernel_shape", Ints{kh, kw}},
            {"strides", Ints{b.pick(1, 3), b.pick(1, 3)}},
            {"pads", pads},
            {"ceil_mode", b.pick(0, 1)}};
    if (isMax)
      a["dilations"] = Ints{dh, dw};
    else
      a["count_include_pad"] = b.pick(0, 1);
    Shape s{b.pick(1, 2), b.pick(1, 3), b.pick(0, 9) + (kh - 1) * dh + 1,
            b.pick(0, 9) + (kw - 1) * dw + 1};
    b.add(isMax ? "MaxPool" : "AveragePool", {b.input(s)}, a);
  }
  b.add("GlobalAveragePool", {b.input({2, 5, 7, 3})});
  b.add("GlobalAveragePool", {b.input({1, 8, 1, 1})});
  b.add("GlobalMaxPool", {b.input({2, 3, 5, 4})});
  b.check();
}

TEST(TeOps, ElementwiseAndBroadcasting) {
  OpBatch b(4);
  for (const char* op :
       {"Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs", "Erf", "Floor", "Ceil", "Identity"})
    b.add(op, {b.input({2, 3, 5}, -3, 3)});
  for (const char* op : {"Log", "Sqrt", "Reciprocal"}) b.add(op, {b.input({4, 7}, 0.1f, 3)});
  b.add("LeakyRelu", {b.input({3, 9})}, {{"alpha", 0.1}});
  b.add("Clip", {b.input({2, 17}, -8, 8)}, {{"min", 0.0}, {"max", 6.0}});
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3, 4}, {2, 3, 4}},       {{2, 1, 4}, {3, 1}}, {{5}, {2, 3, 5}},
      {{1, 8, 1, 1}, {2, 8, 3, 3}}, {{}, {4, 3}},        {{7, 1}, {1, 6}}};
  for (const char* op : {"Add", "Sub", "Mul", "Div"})
    for (const auto& [sa, sb] : shapes) {
      bool div = std::string(op) == "Div";
      b.add(op, {b.input(sa), div ? b.input(sb, 0.5f, 2.0f) : b.input(sb)});
    }
  b.add("Pow", {b.input({3, 4}, 0.5f, 2.0f), b.input({4}, -2, 2)});
  b.check();
}

TEST(TeOps, BatchNormSoftmaxGemmMatMul) {
  OpBatch b(5);
  for (Shape s : {Shape{1, 4, 5, 5}, Shape{3, 7, 2, 3}, Shape{2, 3}}) {
    int64_t c = s[1];
    b.add("BatchNormalization",
          {b.input(s), b.constant({c}), b.constant({c}), b.constant({c}), b.constant({c}, 0.1f, 2)},
          {{"epsilon", 1e-5}});
  }
  for (int64_t axis = 0; axis < 3; ++axis)
    b.add("Softmax", {b.input({3, 5, 4}, -4, 4)}, {{"axis", axis}});
  b.add("Softmax", {b.input({1, 1000}, -8, 8)}, {{"axis", int64_t{1}}});
  for (int c = 0; c < 8; ++c) {
    int64_t m = b.pick(1, 7), n = b.pick(1, 9), k = b.pick(1, 17);
    bool ta = b.pick(0, 1), tb = b.pick(0, 1);
    std::vector<Value*> in{b.input(ta ? Shape{k, m} : Shape{m, k}),
                           b.constant(tb ? Shape{n, k} : Shape{k, n})};
    int cshape = static_cast<int>(b.pick(0, 3));
    if (cshape == 1) in.push_back(b.constant({n}));
    if (cshape == 2) in.push_back(b.constant({m, n}));
    if (cshape == 3) in.push_back(b.constant({m, 1}));
    b.add("Gemm", in,
          {{"transA", int64_t{ta}},
           {"transB", int64_t{tb}},
           {"alpha", c % 3 ? 1.0 : 0.5},
           {"beta", c % 2 ? 1.0 : 2.0}});
  }
  b.add("MatMul", {b.input({3, 4}), b.input({4, 5})});
  b.add("MatMul", {b.input({2, 3, 4}), b.input({4, 6})});
  b.add("MatMul", {b.input({2, 1, 3, 4}), b.input({5, 4, 2})});
  b.add("MatMul", {b.input({4}), b.input({2, 4, 3})});
  b.add("MatMul", {b.input({3, 4}), b.input({4})});
  b.check();
}

TEST(TeOps, DataMovement) {
  OpBatch b(6);
  b.add("Concat", {b.input({1, 2, 3, 3}), b.input({1, 5, 3, 3}), b.input({1, 1, 3, 3})},
        {{"axis", int64_t{1}}});
  b.add("Concat", {b.input({4, 3}), b.input({2, 3})}, {{"axis", int64_t{0}}});
  b.add("Concat", {b.input({2, 3, 1}), b.input({2, 3, 4})}, {{"axis", int64_t{2}}});
  b.add("Transpose", {b.input({2, 3, 4})}, {{"perm", Ints{2, 0, 1}}});
  b.add("Transpose", {b.input({1, 5, 6, 3})}, {{"perm", Ints{0, 3, 1, 2}}});
  b.add("Reshape", {b.input({2, 3, 4})}, {{"shape", Ints{4, 6}}});
  b.add("Reshape", {b.input({1, 512, 1, 1})}, {{"shape", Ints{1, 512}}});
  b.add("Reshape", {b.input({6, 5})}, {{"shape", Ints{2, 5, 3}}});
  b.add("Pad", {b.input({1, 2, 4, 5})}, {{"pads", Ints{0, 0, 1, 2, 0, 0, 3, 0}}, {"value", 0.5}});
  b.add("Pad", {b.input({3, 6})}, {{"pads", Ints{-1, 2, 0, -2}}, {"value", 0.0}});
  b.add("Slice", {b.input({5, 8})},
        {{"starts", Ints{1, 0}}, {"ends", Ints{4, 8}}, {"steps", Ints{1, 3}}});
  b.add("Gather",
        {b.input({5, 4}), b.constant(NDArray::fromVector<int64_t>({2, 2}, {0, -1, 3, 2}))},
        {{"axis", int64_t{0}}});
  b.add("Gather", {b.input({2, 6, 3}), b.constant(NDArray::fromVector<int64_t>({3}, {5, 0, -2}))},
        {{"axis", int64_t{1}}});
  b.add("Shape", {b.input({2, 3, 4})});
  for (DType to : {DType::I32, DType::I64, DType::I8, DType::Bool, DType::F32})
    b.add("Cast", {b.input({3, 7}, -100, 100)}, {{"to", int64_t(to)}});
  b.add("ReduceMean", {b.input({2, 3, 4})}, {{"axes", Ints{1, 2}}, {"keepdims", int64_t{1}}});
  b.add("ReduceSum", {b.input({2, 3, 4})}, {{"axes", Ints{0}}, {"keepdims", int64_t{0}}});
  b.add("ReduceMax", {b.input({2, 3, 4})}, {{"axes", Ints{2}}, {"keepdims", int64_t{0}}});
  b.check();
}

#if defined(KILN_OPS_LLVM)  // tests of the LLVM back end alone
// A fused group (conv -> bias -> residual add -> relu, and gemm -> relu) is one kernel whose
// epilogue is computed inline, and still matches the reference node by node.
TEST(TeOps, FusedGroupsAreOneKernelEach) {
  Graph g;
  Value* x = g.addInput("x", DType::F32, {1, 4, 9, 9});
  NDArray w = NDArray(DType::F32, {4, 4, 3, 3}), b = NDArray(DType::F32, {4});
  for (int64_t i = 0; i < w.numel(); ++i)
    w.data<float>()[i] = static_cast<float>((i * 37 % 17) - 8) / 16;
  for (int64_t i = 0; i < 4; ++i) b.data<float>()[i] = static_cast<float>(i) / 4 - 0.5f;
  Value* c = addOpNode(g, "Conv", {x, g.addConstant("w", w), g.addConstant("b", b)},
                       convAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1), "c");
  Value* r = addOpNode(g, "Relu", {addOpNode(g, "Add", {c, x}, {}, "sum")}, {}, "r");
  Value* f = addOpNode(g, "Reshape", {r}, {{"shape", Ints{1, 324}}}, "flat");
  NDArray wd(DType::F32, {324, 10});
  for (int64_t i = 0; i < wd.numel(); ++i)
    wd.data<float>()[i] = static_cast<float>((i * 13 % 11) - 5) / 64;
  Value* y = addOpNode(
      g, "Relu",
      {addOpNode(g, "Gemm", {f, g.addConstant("wd", wd)},
                 {{"transA", int64_t{0}}, {"transB", int64_t{0}}, {"alpha", 1.0}, {"beta", 1.0}},
                 "d")},
      {}, "y");
  g.markOutput(y);
  NDArray xv(DType::F32, {1, 4, 9, 9});
  for (int64_t i = 0; i < xv.numel(); ++i)
    xv.data<float>()[i] = static_cast<float>((i * 7 % 23) - 11) / 11;
  NDArray want = ref::Executor(g).run({{"x", xv}})[0];
  fuseOps(g);
  codegen::CompiledGraph compiled(g);
  EXPECT_EQ(compiled.kernelCount(), 3u) << "conv+add+relu, reshape, gemm+relu";
  NDArray got = compiled.run({{"x", xv}})[0];
  for (int64_t i = 0; i < want.numel(); ++i)
    ASSERT_NEAR(got.data<float>()[i], want.data<float>()[i], 1e-5) << "element " << i;
}

TEST(TeOps, UnsupportedOperatorIsAClearError) {
  // Every operator of the graph IR has a definition; a node from a newer front end might not.
  for (const std::string& op : registeredOps()) {
    if (findOp(op)->cpuCodegen) {
      EXPECT_TRUE(topi::hasCompute(op)) << op;
    }
  }
  Graph g;
  Value* x = g.addInput("x", DType::F32, {2, 3});
  Value* y = g.addValue("y", DType::F32, {2, 3});
  g.addNode("NonMaxSuppression", "nms", {x}, {y});
  g.markOutput(y);
  try {
    codegen::CompiledGraph c(g);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("node 'nms' (NonMaxSuppression)"), std::string::npos) << m;
    EXPECT_NE(m.find("no tensor-expression definition"), std::string::npos) << m;
  }
}

TEST(TeOps, OutOfRangeConstantGatherIndexIsACompileError) {
  // The reference executor refuses it; the compiled kernel must not clamp it silently.
  Graph g;
  Value* x = g.addInput("x", DType::F32, {4, 3});
  Value* idx = g.addConstant("idx", NDArray::fromVector<int64_t>({2}, {1, 4}));
  g.markOutput(addOpNode(g, "Gather", {x, idx}, {{"axis", int64_t{0}}}, "y"));
  try {
    codegen::CompiledGraph c(g);
    FAIL() << "compiled a Gather with index 4 on an axis of size 4";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("index 4 out of range for axis of size 4"),
              std::string::npos)
        << e.what();
  }
}

#endif  // KILN_OPS_LLVM

}  // namespace
}  // namespace kiln
