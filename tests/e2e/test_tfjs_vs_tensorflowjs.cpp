// The real ImageNet-pretrained MobileNet v2 that npm nsfwjs ships (TF.js layers format,
// uint8-quantized weights), imported by Kiln's TF.js front end and run by the reference
// executor, against @tensorflow/tfjs (CPU backend, Node) on labelled photos from Debian.
//
// Checked per photo:
//  - on TF.js's own preprocessed input tensor: probabilities and logits within 1e-4 of
//    TF.js's, relative to the output's scale (float32 on both sides; TF.js sums in float32);
//  - on Kiln's own image pipeline (libpng/libjpeg + TF.js-style resize): the same top-1 as
//    TF.js, and for PNGs (lossless, so identical pixels) an input tensor equal to TF.js's.
#include <fstream>

#include "kiln/frontend/tfjs.h"
#include "kiln/ref/executor.h"
#include "kiln/runtime/image.h"
#include "kiln/runtime/npy.h"
#include "model_harness.h"

namespace kiln::test {
namespace {

fs::path nsfwModel() {
  return fs::path(KILN_BINARY_DIR) / "nsfwjs-mobilenetv2";
}

// Compares one model directory on one photo; `size` is the model's input resolution.
void compareWithTfjs(const fs::path& model, int64_t size, const fs::path& photo) {
  if (std::string why = nodeOracleMissing(); !why.empty()) GTEST_SKIP() << why;
  if (!fs::exists(photo)) GTEST_SKIP() << photo << " is not installed";
  ASSERT_TRUE(fs::exists(model / "model.json")) << model << ": the extraction fixture did not run";

  Expected<Graph> g = importTfjs((model / "model.json").string());
  ASSERT_TRUE(g) << g.message();
  Value* logits = g->findValue("dense_3_linear");
  ASSERT_NE(logits, nullptr) << "the last Dense layer's logits are not in the graph";
  g->markOutput(logits);

  fs::path prefix = scratchDir("tfjs/" + model.filename().string()) / photo.stem();
  std::string out;
  std::string cmd = "node " + (sourceDir() / "scripts/node/tfjs_run.mjs").string() + " " +
                    model.string() + " " + photo.string() + " " + prefix.string();
  ASSERT_EQ(runCommand(cmd, &out), 0) << cmd << "\n" << out;
  NDArray tfInput = readNpy(prefix.string() + ".input.npy");
  NDArray tfProbs = readNpy(prefix.string() + ".output.npy");
  NDArray tfLogits = readNpy(prefix.string() + ".logits.npy");

  ref::Executor exec(*g);
  const std::string inputName = g->inputs()[0]->name;
  std::vector<NDArray> got = exec.run({{inputName, tfInput}});
  Diff probs = diff(got[0], tfProbs);
  Diff lg = diff(got[1], tfLogits.reshaped(got[1].shape()));
  EXPECT_LE(probs.relative, 1e-4) << "probabilities: max abs diff " << probs.maxAbs;
  EXPECT_LE(lg.relative, 1e-4) << "logits: max abs diff " << lg.maxAbs << " against max |logit| "
                               << lg.maxRef;
  EXPECT_EQ(probs.argmaxGot, probs.argmaxWant);

  // Kiln's own decoding and preprocessing.
  Preprocess pp = Preprocess::preset("tf");
  NDArray mine = imageToTensor(loadImage(photo.string()), size, size, pp);
  if (photo.extension() == ".png") {
    Diff in = diff(mine, tfInput);
    EXPECT_LE(in.maxAbs, 1e-6) << "preprocessed input differs from TF.js's on a lossless image";
  }
  std::vector<NDArray> own = exec.run({{inputName, mine}});
  Diff ownProbs = diff(own[0], tfProbs);
  EXPECT_EQ(ownProbs.argmaxGot, ownProbs.argmaxWant)
      << "top-1 from Kiln's own image pipeline differs";
  std::cout << "[ " << photo.filename().string() << " ] top-1 class " << probs.argmaxWant
            << " p=" << tfProbs.data<float>()[probs.argmaxWant] << "  logits rel diff "
            << lg.relative << "  own-pipeline prob diff " << ownProbs.maxAbs << "\n";
}

class VsTensorflowJs : public ::testing::TestWithParam<std::string> {};

TEST_P(VsTensorflowJs, MobileNetV2MatchesOnPhoto) {
  compareWithTfjs(nsfwModel(), 224, GetParam());
}

// Inception v3 (299x299, 22 MB of weights) takes ~20 s with TF.js: run with the slow label
// (ctest -L slow), which sets KILN_SLOW_TESTS=1.
TEST(VsTensorflowJsSlow, InceptionV3MatchesOnPhoto) {
  if (!std::getenv("KILN_SLOW_TESTS")) GTEST_SKIP() << "slow test: run with ctest -L slow";
  fs::path model = scratchDir("nsfwjs-inceptionv3");
  if (!fs::exists(model / "model.json")) {
    std::string out;
    std::string cmd = "node " + (sourceDir() / "scripts/node/extract_tfjs.mjs").string() + " " +
                      (sourceDir() / "scripts/node/node_modules/nsfwjs").string() + " " +
                      model.string() + " --model inception_v3";
    ASSERT_EQ(runCommand(cmd, &out), 0) << cmd << "\n" << out;
  }
  compareWithTfjs(model, 299, "/usr/lib/python3/dist-packages/skimage/data/chelsea.png");
  compareWithTfjs(model, 299, "/usr/share/doc/opencv-doc/examples/data/messi5.jpg");
}

// The photos where the answer is not simply "Neutral" discriminate best (see scripts/photos.txt).
INSTANTIATE_TEST_SUITE_P(
    Photos, VsTensorflowJs,
    ::testing::Values("/usr/lib/python3/dist-packages/skimage/data/chelsea.png",
                      "/usr/lib/python3/dist-packages/skimage/data/rocket.jpg",
                      "/usr/lib/python3/dist-packages/skimage/data/horse.png",
                      "/usr/share/doc/opencv-doc/examples/data/apple.jpg",
                      "/usr/share/doc/opencv-doc/examples/data/messi5.jpg",
                      "/usr/share/doc/opencv-doc/examples/data/digits.png",
                      "/usr/share/darknet/data/eagle.jpg"));

}  // namespace
}  // namespace kiln::test
