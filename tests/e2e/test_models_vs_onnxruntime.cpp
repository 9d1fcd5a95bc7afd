// Whole models through the ONNX front end and the reference executor, against onnxruntime
// (npm onnxruntime-node, CPU) on seeded random inputs.
//
// Tolerance: max |kiln - ort| <= 1e-4 * max |ort| over each output, i.e. 1e-4 relative to the
// output's scale. Both sides compute in float32 (Kiln's reference accumulates in double), so
// they differ only by rounding order; through 50 layers that stays orders of magnitude below
// 1e-4, and a wrong pad, stride or axis shows up far above it.
#include <fstream>
#include <sstream>

#include "kiln/frontend/onnx.h"
#include "kiln/ref/executor.h"
#include "kiln/runtime/npy.h"
#include "model_harness.h"

namespace kiln::test {
namespace {

class VsOnnxRuntime : public ::testing::TestWithParam<std::string> {};

TEST_P(VsOnnxRuntime, OutputsMatch) {
  if (std::string why = nodeOracleMissing(); !why.empty()) GTEST_SKIP() << why;
  const std::string name = GetParam();
  fs::path model = modelsDir() / (name + ".onnx");
  ASSERT_TRUE(fs::exists(model)) << model << " is missing (the gen_models fixture makes it)";
  Expected<Graph> g = importOnnx(model.string());
  ASSERT_TRUE(g) << g.message();

  fs::path dir = scratchDir("ort/" + name);
  std::map<std::string, NDArray> feeds;
  std::string args;
  uint32_t seed = 1;
  for (Value* in : g->inputs()) {
    NDArray x = randomTensor(in->shape, seed++);
    fs::path p = dir / (in->name + ".npy");
    writeNpy(p.string(), x);
    feeds[in->name] = x;
    args += " '" + in->name + "=" + p.string() + "'";
  }
  std::string out;
  std::string cmd = "node " + (sourceDir() / "scripts/node/ort_run.mjs").string() + " " +
                    model.string() + " " + (dir / "ort").string() + " --threads 1" + args;
  ASSERT_EQ(runCommand(cmd, &out), 0) << cmd << "\n" << out;

  std::vector<NDArray> got = ref::Executor(*g).run(feeds);
  ASSERT_EQ(got.size(), g->outputs().size());
  for (size_t k = 0; k < got.size(); ++k) {
    fs::path want = dir / ("ort." + g->outputs()[k]->name + ".npy");
    ASSERT_TRUE(fs::exists(want)) << want << " not written; onnxruntime said:\n" << out;
    NDArray w = readNpy(want.string());
    ASSERT_EQ(got[k].shape(), w.shape()) << "output " << g->outputs()[k]->name;
    Diff d = diff(got[k], w);
    EXPECT_LE(d.relative, 1e-4) << name << " output " << g->outputs()[k]->name << ": max abs diff "
                                << d.maxAbs << " against max |ref| " << d.maxRef;
    std::cout << "[ " << name << " ] " << g->outputs()[k]->name << shapeStr(w.shape())
              << " max|diff| " << d.maxAbs << " / max|ort| " << d.maxRef << " = " << d.relative
              << "\n";
  }
}

// The four reference networks, one stored at opset 21 and one with external data, and the
// models nobody tuned for (scripts/gen_models.py describes each).
INSTANTIATE_TEST_SUITE_P(Models, VsOnnxRuntime,
                         ::testing::Values("resnet18", "resnet50", "mobilenetv2", "squeezenet1_1",
                                           "resnet18_opset21", "resnet18_extdata", "odd_input",
                                           "nhwc_transpose", "batch3", "asym_pads",
                                           "grouped_dilated", "auto_pad", "avgpool_pad",
                                           "gemm_variants", "broadcast_ops", "softmax_opset11",
                                           "concat_reshape"));

}  // namespace
}  // namespace kiln::test
