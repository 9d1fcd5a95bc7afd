// Whole models through `kiln run --target llvm`'s pipeline (the standard graph passes:
// constant and batch-norm folding, fusion; then one kernel per fused group, lowered from the
// operators' tensor expressions with the default schedules and JIT-compiled for this CPU)
// against the reference executor on the unoptimized graph, on seeded random inputs.
//
// Tolerance: max |llvm - ref| <= 1e-4 * max |ref| over each output (the project's
// whole-model bound). The kernels accumulate in float32 and the reference in double; a
// wrong pad, stride or axis shows up orders of magnitude above it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>

#include "kiln/codegen/graph_compiler.h"
#include "kiln/frontend/onnx.h"
#include "kiln/passes/pass.h"
#include "kiln/ref/executor.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

class LlvmVsReference : public ::testing::TestWithParam<std::string> {};

TEST_P(LlvmVsReference, OutputsMatch) {
  const std::string name = GetParam();
  fs::path model = fs::path(KILN_MODELS_DIR) / (name + ".onnx");
  ASSERT_TRUE(fs::exists(model)) << model << " is missing (the gen_models fixture makes it)";
  Expected<Graph> g = importOnnx(model.string());
  ASSERT_TRUE(g) << g.message();

  std::map<std::string, NDArray> feeds;
  uint32_t seed = 1;
  for (Value* in : g->inputs()) {
    NDArray x(DType::F32, in->shape);
    std::mt19937 gen(seed++);
    std::uniform_real_distribution<float> d(-1, 1);
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = d(gen);
    feeds[in->name] = x;
  }
  Expected<Graph> optimized = importOnnx(model.string());
  ASSERT_TRUE(optimized) << optimized.message();
  auto t0 = Clock::now();
  optimizeGraph(*optimized);
  codegen::CompiledGraph compiled(*optimized);
  double compileMs = msSince(t0);
  auto t1 = Clock::now();
  std::vector<NDArray> got = compiled.run(feeds);
  double runMs = msSince(t1);
  auto t2 = Clock::now();
  std::vector<NDArray> want = ref::Executor(*g).run(feeds);
  double refMs = msSince(t2);
  std::cout << "[ " << name << " ] " << g->nodes().size() << " nodes -> " << compiled.kernelCount()
            << " kernels; compile " << compileMs << " ms (LLVM " << compiled.llvmMs()
            << " ms); run " << runMs << " ms, reference " << refMs << " ms, on "
            << compiled.target() << "\n";
  ASSERT_EQ(got.size(), want.size());
  // A second run reuses the activation arena and kernel scratch: same answer, bit for bit.
  std::vector<NDArray> again = compiled.run(feeds);
  for (size_t k = 0; k < got.size(); ++k)
    EXPECT_EQ(got[k].toFloatVector(), again[k].toFloatVector())
        << name << ": a second run gave another output " << k;
  for (size_t k = 0; k < got.size(); ++k) {
    ASSERT_EQ(got[k].shape(), want[k].shape());
    auto gv = got[k].toFloatVector(), wv = want[k].toFloatVector();
    double maxAbs = 0, maxRef = 0;
    for (size_t i = 0; i < wv.size(); ++i) {
      double d = std::abs(double(gv[i]) - wv[i]);
      if (!(d <= maxAbs)) maxAbs = d;
      maxRef = std::max(maxRef, std::abs(double(wv[i])));
    }
    EXPECT_LE(maxAbs, 1e-4 * maxRef)
        << name << " output " << g->outputs()[k]->name << ": max abs diff " << maxAbs
        << " against max |ref| " << maxRef;
    std::cout << "[ " << name << " ] " << g->outputs()[k]->name << " max|diff| " << maxAbs
              << " / max|ref| " << maxRef << "\n";
  }
}

// The reference networks and the generated models nobody tuned for (scripts/gen_models.py).
INSTANTIATE_TEST_SUITE_P(Models, LlvmVsReference,
                         ::testing::Values("resnet18", "mobilenetv2", "squeezenet1_1", "resnet50",
                                           "odd_input", "nhwc_transpose", "batch3", "asym_pads",
                                           "grouped_dilated", "auto_pad", "avgpool_pad",
                                           "gemm_variants", "broadcast_ops", "softmax_opset11",
                                           "concat_reshape"));

}  // namespace
}  // namespace kiln
