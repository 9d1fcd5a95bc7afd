// The GLSL back end without a GPU: the fragment-shader schedule (schedule/gl_schedule.h)
// compiled for the CPU by the LLVM back end must give the reference's answers (so a wrong
// inline or compute_at decision is caught here, not in a shader).
//
// Tolerance: max |got - ref| <= 1e-4 * max |ref| per output, the whole-model bound of the
// LLVM back end (float32 accumulation against the reference's double).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "kiln/codegen/codegen_glsl.h"
#include "kiln/codegen/glsl_package.h"
#include "kiln/codegen/glsl_uniforms.h"
#include "kiln/codegen/graph_compiler.h"
#include "kiln/frontend/onnx.h"
#include "kiln/passes/pass.h"
#include "kiln/ref/executor.h"
#ifdef KILN_HAVE_OPENGL
#include "kiln/opengl/gl_package.h"
#endif

namespace kiln {
namespace {

namespace fs = std::filesystem;

std::map<std::string, NDArray> randomFeeds(const Graph& g) {
  std::map<std::string, NDArray> feeds;
  uint32_t seed = 1;
  for (const Value* in : g.inputs()) {
    NDArray x(DType::F32, in->shape);
    std::mt19937 gen(seed++);
    std::uniform_real_distribution<float> d(-1, 1);
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = d(gen);
    feeds[in->name] = x;
  }
  return feeds;
}

void expectClose(const std::vector<NDArray>& got, const std::vector<NDArray>& want,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) {
    ASSERT_EQ(got[k].shape(), want[k].shape()) << what << " output " << k;
    auto gv = got[k].toFloatVector(), wv = want[k].toFloatVector();
    double maxAbs = 0, maxRef = 0;
    for (size_t i = 0; i < wv.size(); ++i) {
      double d = std::abs(double(gv[i]) - wv[i]);
      if (!(d <= maxAbs)) maxAbs = d;
      maxRef = std::max(maxRef, std::abs(double(wv[i])));
    }
    EXPECT_LE(maxAbs, 1e-4 * maxRef) << what << " output " << k << ": max abs diff " << maxAbs
                                     << " against max |ref| " << maxRef;
  }
}

// The shader file of each pass in a package's manifest, by the name of the tensor it writes
// (a kernel's temporaries by their own names).
std::map<std::string, std::string> shaderByOutput(const codegen::GLPackageFiles& p) {
  const auto m = nlohmann::json::parse(p.files.at("manifest.json"));
  std::map<std::string, std::string> files;
  for (const auto& step : m.at("steps")) {
    const auto& k = m.at("kernels").at(step.at("kernel").get<size_t>());
    const size_t params = k.at("params");
    for (const auto& pass : k.at("passes")) {
      const size_t out = pass.at("output");
      const std::string name =
          out < params ? m.at("values").at(step.at("args").at(out).get<size_t>()).at("name")
                       : k.at("temps").at(out - params).at("name");
      files[name] = pass.at("shader");
    }
  }
  return files;
}

class GlScheduleOnCpu : public ::testing::TestWithParam<std::string> {};

TEST_P(GlScheduleOnCpu, MatchesReference) {
  const fs::path model = fs::path(KILN_MODELS_DIR) / (GetParam() + ".onnx");
  ASSERT_TRUE(fs::exists(model)) << model << " is missing (the gen_models fixture makes it)";
  Expected<Graph> g = importOnnx(model.string());
  ASSERT_TRUE(g) << g.message();
  Expected<Graph> opt = importOnnx(model.string());
  ASSERT_TRUE(opt) << opt.message();
  optimizeGraph(*opt);
  codegen::CompileOptions options;
  options.schedule = codegen::ScheduleFamily::GlslOnCpu;
  if (std::getenv("KILN_TEST_DUMP_IR")) options.dumpIr = &std::cout;
  codegen::CompiledGraph compiled(*opt, options);
  auto feeds = randomFeeds(*g);
  expectClose(compiled.run(feeds), ref::Executor(*g).run(feeds), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Models, GlScheduleOnCpu,
                         ::testing::Values("resnet18", "squeezenet1_1", "mobilenetv2",
                                           "softmax_opset11", "avgpool_pad", "gemm_variants",
                                           "grouped_dilated", "concat_reshape", "broadcast_ops"));

// Every model compiles to a package whose shaders are GLSL ES 3.00 fragment shaders, one file
// per distinct source, every pass naming one of them.
TEST_P(GlScheduleOnCpu, PackageBuilds) {
  const fs::path model = fs::path(KILN_MODELS_DIR) / (GetParam() + ".onnx");
  Expected<Graph> g = importOnnx(model.string());
  ASSERT_TRUE(g) << g.message();
  optimizeGraph(*g);
  codegen::GLPackageFiles p = codegen::buildGLPackage(*g);
  EXPECT_GT(p.kernels, 0u);
  EXPECT_GE(p.passes, p.kernels);
  std::set<std::string> sources;
  for (const auto& [name, text] : p.files) {
    if (name.size() < 5 || name.substr(name.size() - 5) != ".frag") continue;
    EXPECT_TRUE(sources.insert(text).second) << name << " repeats another file's source";
    EXPECT_EQ(text.rfind("#version 300 es\n", 0), 0u) << name;
    EXPECT_NE(text.find("out vec4 kiln_out;"), std::string::npos) << name;
    if (std::getenv("KILN_TEST_DUMP_IR")) std::cout << "== " << name << "\n" << text;
  }
  EXPECT_EQ(sources.size(), p.shaders);
  EXPECT_LE(p.shaders, p.passes);
  ASSERT_TRUE(p.files.count("manifest.json"));
  for (const auto& [out, file] : shaderByOutput(p))
    EXPECT_TRUE(p.files.count(file)) << "the pass writing " << out << " names a missing " << file;
}

// Layers that compute the same thing on the same shapes share one shader file (and so one
// program in a runtime): ResNet-18's layer1 has four identical 3x3 convolutions with bias,
// two of them followed by ReLU; MobileNet v2 repeats whole blocks.
TEST(GlslPackage, RepeatedLayersShareOneShader) {
  for (const char* name : {"resnet18", "mobilenetv2"}) {
    const fs::path model = fs::path(KILN_MODELS_DIR) / (std::string(name) + ".onnx");
    Expected<Graph> g = importOnnx(model.string());
    ASSERT_TRUE(g) << g.message();
    optimizeGraph(*g);
    codegen::GLPackageFiles p = codegen::buildGLPackage(*g);
    EXPECT_LT(p.shaders, p.passes) << name << ": no two passes share a shader";
    if (std::string(name) == "resnet18") {
      const auto files = shaderByOutput(p);
      ASSERT_TRUE(files.count("Relu_1") && files.count("Relu_3"));
      // layer1.0.conv1 + bn1 + relu and layer1.1.conv1 + bn1 + relu: 64 -> 64 channels, 56x56
      EXPECT_EQ(files.at("Relu_1"), files.at("Relu_3"));
    }
  }
}

// With shape uniforms (kiln compile --shape-uniforms), layers of one kind but different shapes
// share one shader too, their shape values set per pass as the uniform kiln_u: ResNet-18's 3x3
// convolutions (with bias and ReLU) of every stage are one program, and the whole network needs 9
// programs for its 24 passes (19 before shape values were uniforms); MobileNet v2 9 for 55.
TEST(GlslPackage, LayersOfDifferentShapesShareOneShader) {
  const std::map<std::string, size_t> most = {{"resnet18", 9}, {"mobilenetv2", 9}};
  for (const auto& [name, programs] : most) {
    const fs::path model = fs::path(KILN_MODELS_DIR) / (name + ".onnx");
    Expected<Graph> g = importOnnx(model.string());
    ASSERT_TRUE(g) << g.message();
    optimizeGraph(*g);
    codegen::CompileOptions opt;
    opt.shapeUniforms = true;
    codegen::GLPackageFiles p = codegen::buildGLPackage(*g, opt);
    EXPECT_LE(p.shaders, programs)
        << name << ": " << p.shaders << " shaders for " << p.passes << " passes";
    if (name != "resnet18") continue;
    const auto files = shaderByOutput(p);
    // layer1.0.conv1 (64 channels, 56x56) and layer3.1.conv1 (256 channels, 14x14)
    ASSERT_TRUE(files.count("Relu_1") && files.count("Relu_11"));
    EXPECT_EQ(files.at("Relu_1"), files.at("Relu_11"));
    const std::string& src = p.files.at(files.at("Relu_1"));
    EXPECT_NE(src.find("uniform highp int kiln_u["), std::string::npos) << src;
    // the manifest gives each pass its own values
    const auto m = nlohmann::json::parse(p.files.at("manifest.json"));
    std::set<std::vector<int>> values;
    for (const auto& k : m.at("kernels"))
      for (const auto& pass : k.at("passes"))
        if (pass.at("shader") == files.at("Relu_1")) {
          ASSERT_TRUE(pass.contains("uniforms"));
          EXPECT_EQ(pass.at("uniforms").at(0), "kiln_u");
          values.insert(pass.at("uniforms").at(1).get<std::vector<int>>());
        }
    EXPECT_EQ(values.size(), 4u) << "one set of shape values per stage";
  }
}

// The rewrite itself: integers that differ become kiln_u entries (one per distinct column of
// values), integers equal in every shader of a group stay literals, and shaders that differ in an
// array size or index, a float or anything but an integer stay apart and unchanged.
TEST(GlslPackage, ShapeUniformsRewrite) {
  auto shader = [](int w, int n, int idx, const char* f) {
    return "#version 300 es\n// Kiln: writes " + std::to_string(n) +
           " elements\nprecision highp float;\nprecision highp int;\nprecision highp sampler2D;\n"
           "uniform highp sampler2D t0;\nout vec4 kiln_out;\n"
           "vec4 kiln_texel0(int t) { return texelFetch(t0, ivec2(t & " +
           std::to_string(w - 1) + ", int(float(t) / float(" + std::to_string(w) +
           "))), 0); }\nvoid main() {\n  int i = int(gl_FragCoord.y) * " + std::to_string(w) +
           ";\n  float a[4];\n  a[" + std::to_string(idx) + "] = " + f + " * kiln_texel0(i / " +
           std::to_string(n) + " + 3).x;\n  kiln_out = vec4(a[" + std::to_string(idx) + "]);\n}\n";
  };
  const std::vector<std::string> in = {shader(256, 100, 1, "2.0"), shader(128, 50, 1, "2.0"),
                                       shader(256, 100, 2, "2.0"), shader(256, 100, 1, "1e-05")};
  const auto out = codegen::shareShapeUniforms(in);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].source, out[1].source);
  EXPECT_NE(out[0].source.find("uniform highp int kiln_u["), std::string::npos) << out[0].source;
  EXPECT_NE(out[0].source.find("ivec2(t & kiln_u[0], int(float(t) / float(kiln_u[1])))"),
            std::string::npos)
      << out[0].source;
  EXPECT_NE(out[0].source.find("+ 3).x"), std::string::npos) << "a shared literal stays one";
  EXPECT_EQ(out[0].source.find("Kiln: writes"), std::string::npos);
  // width - 1, width (twice: one uniform), element count
  EXPECT_EQ(out[0].uniforms, (std::vector<int32_t>{255, 256, 100}));
  EXPECT_EQ(out[1].uniforms, (std::vector<int32_t>{127, 128, 50}));
  for (size_t i : {2u, 3u}) {
    EXPECT_EQ(out[i].source, in[i]) << "shader " << i << " resembles no other";
    EXPECT_TRUE(out[i].uniforms.empty());
  }
}

// A 3x3 convolution between NCHW4c activations with blocked weights reads whole texels only:
// each input texel (four channels) and weight texel (four output channels) is fetched once
// as a vec4 and feeds four multiply-adds, and no read goes through a scalar helper; the
// padding's guards are not repeated per multiply-add.
TEST(GlslPacking, ConvolutionReadsWholeTexels) {
  const fs::path model = fs::path(KILN_MODELS_DIR) / "resnet18.onnx";
  Expected<Graph> g = importOnnx(model.string());
  ASSERT_TRUE(g) << g.message();
  optimizeGraph(*g);
  codegen::GLPackageFiles p = codegen::buildGLPackage(*g);
  const auto files = shaderByOutput(p);
  ASSERT_TRUE(files.count("Relu_1")) << "no pass writes Relu_1 (layer1.0.conv1)";
  const std::string* conv = &p.files.at(files.at("Relu_1"));
  EXPECT_EQ(conv->find("kiln_load"), std::string::npos) << *conv;
  EXPECT_NE(conv->find("out vec4 kiln_out;"), std::string::npos);
  // per input-channel block and tap: one input texel, four weight texels, 16 multiply-adds
  size_t fetches = 0, macs = 0;
  for (size_t at = 0; (at = conv->find("= kiln_texel", at)) != std::string::npos; ++at) ++fetches;
  for (size_t at = 0; (at = conv->find(" * f", at)) != std::string::npos; ++at) ++macs;
  EXPECT_EQ(macs, 9u * 16u) << *conv;         // 3x3 taps unrolled, 16 per tap
  EXPECT_LE(fetches, 9u * 5u + 1u) << *conv;  // + the bias texel
  // A padded tap's input element is selected (element or zero) once, not once per output
  // lane, and whether the tap is in the padding is decided once per fragment (a bool).
  size_t selects = 0;
  for (size_t at = 0; (at = conv->find(" ? f", at)) != std::string::npos; ++at) ++selects;
  EXPECT_LE(selects, 9u * 4u) << *conv;
  EXPECT_NE(conv->find("  bool c"), std::string::npos) << *conv;
}

// ResNet-18's 7x7 stride-2 stem over the plain NCHW input: its 49 taps are unrolled (one loop,
// over the three input channels), and every tap finds its input texel and component from
// the fragment's position once per shader: no kiln_load helper, and one fetch and four
// multiply-adds per tap.
TEST(GlslPacking, StemTapsUnrolledWithTheirTexelsFoundOnce) {
  const fs::path model = fs::path(KILN_MODELS_DIR) / "resnet18.onnx";
  Expected<Graph> g = importOnnx(model.string());
  ASSERT_TRUE(g) << g.message();
  optimizeGraph(*g);
  codegen::GLPackageFiles p = codegen::buildGLPackage(*g);
  const auto files = shaderByOutput(p);
  ASSERT_TRUE(files.count("Relu_0")) << "no pass writes Relu_0 (conv1, the stem)";
  const std::string& stem = p.files.at(files.at("Relu_0"));
  EXPECT_EQ(stem.find("kiln_load"), std::string::npos) << stem;
  size_t loops = 0, macs = 0, inputFetches = 0;
  for (size_t at = 0; (at = stem.find("for (", at)) != std::string::npos; ++at) ++loops;
  for (size_t at = 0; (at = stem.find(" * f", at)) != std::string::npos; ++at) ++macs;
  for (size_t at = 0; (at = stem.find("= kiln_texel0(", at)) != std::string::npos; ++at)
    ++inputFetches;
  EXPECT_EQ(loops, 1u) << stem;
  EXPECT_EQ(macs, 49u * 4u) << stem;
  EXPECT_EQ(inputFetches, 49u) << stem;
}

// Textures are about square (a power-of-two width, not below the height, at most 4096), not
// one long row: rasterizers shade 2 x 2 quads and CPU ones split rows between threads.
TEST(GlslPacking, TexturesAreAboutSquare) {
  auto shape = [](int64_t numel) {
    const codegen::GLTextureShape t = codegen::glTextureShape(numel, "x");
    return std::pair{t.width, t.height};
  };
  EXPECT_EQ(shape(1), (std::pair<int64_t, int64_t>{1, 1}));
  EXPECT_EQ(shape(8), (std::pair<int64_t, int64_t>{2, 1}));
  EXPECT_EQ(shape(7 * 7 * 320), (std::pair<int64_t, int64_t>{64, 62}));  // 3920 texels
  EXPECT_EQ(shape(112 * 112 * 96), (std::pair<int64_t, int64_t>{1024, 294}));
  EXPECT_EQ(shape(4 * 4096 * 4096), (std::pair<int64_t, int64_t>{4096, 4096}));
  try {
    codegen::glTextureShape(4 * 4096 * 4096 + 1, "huge");
    ADD_FAILURE() << "a tensor over 4096 x 4096 texels was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'huge'"), std::string::npos) << e.what();
  }
}

#ifdef KILN_HAVE_OPENGL
// The model compiled to a webgl package (in memory) and run on the opengl device (EGL
// surfaceless, OpenGL ES 3; Mesa's llvmpipe here) against the reference executor.
void runOnOpenGL(const std::string& name, bool shapeUniforms) {
  const fs::path model = fs::path(KILN_MODELS_DIR) / (name + ".onnx");
  ASSERT_TRUE(fs::exists(model)) << model << " is missing (the gen_models fixture makes it)";
  Expected<Graph> g = importOnnx(model.string());
  ASSERT_TRUE(g) << g.message();
  Expected<Graph> opt = importOnnx(model.string());
  ASSERT_TRUE(opt) << opt.message();
  optimizeGraph(*opt);
  // The package goes through the file system: written as `kiln compile --target webgl` does,
  // loaded as `kiln run DIR --device opengl` does.
  const fs::path dir = fs::temp_directory_path() / ("kiln_gl_test_" + name);
  fs::remove_all(dir);
  codegen::CompileOptions options;
  options.shapeUniforms = shapeUniforms;
  codegen::writeGLPackage(codegen::buildGLPackage(*opt, options), dir.string());
  auto p = gl::GLPackage::load(dir.string());
  fs::remove_all(dir);
  if (!p && std::string(p.message()).find("EGL") != std::string::npos)
    GTEST_SKIP() << "no OpenGL ES 3 through EGL on this machine: " << p.message();
  ASSERT_TRUE(p) << p.message();
  auto feeds = randomFeeds(*g);
  const auto want = ref::Executor(*g).run(feeds);
  expectClose((*p)->run(feeds), want, name + " on " + (*p)->device());
  // A second run reuses every texture and program and gives the same answer.
  expectClose((*p)->run(feeds), want, name + " (second run)");
}

// Once with every shape a literal and once with shape uniforms (shaders shared by passes of
// different shapes, which the device sets per pass).
void runOnOpenGL(const std::string& name) {
  for (bool uniforms : {false, true}) {
    SCOPED_TRACE(uniforms ? "with shape uniforms" : "shapes as literals");
    runOnOpenGL(name, uniforms);
    if (::testing::Test::IsSkipped() || ::testing::Test::HasFatalFailure()) return;
  }
}

class OpenGLVsReference : public ::testing::TestWithParam<std::string> {};
TEST_P(OpenGLVsReference, OutputsMatch) {
  runOnOpenGL(GetParam());
}
INSTANTIATE_TEST_SUITE_P(Operators, OpenGLVsReference,
                         ::testing::Values("softmax_opset11", "avgpool_pad", "gemm_variants",
                                           "grouped_dilated", "concat_reshape", "broadcast_ops",
                                           "asym_pads", "auto_pad", "batch3", "nhwc_transpose",
                                           "odd_input"));

// Whole networks: seconds to minutes each on llvmpipe, so they run in the slow set only
// (ctest -L slow: opengl_models).
class OpenGLModelsSlow : public ::testing::TestWithParam<std::string> {};
TEST_P(OpenGLModelsSlow, OutputsMatch) {
  runOnOpenGL(GetParam());
}
INSTANTIATE_TEST_SUITE_P(Models, OpenGLModelsSlow,
                         ::testing::Values("resnet18", "mobilenetv2", "squeezenet1_1"));

TEST(OpenGLPackage, RefusesACpuPackageAndAMissingOne) {
  auto missing = gl::GLPackage::load("/nonexistent-kiln-package");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find("no manifest.json"), std::string::npos) << missing.message();
  auto cpu = gl::GLPackage::open(
      [](const std::string&) {
        return std::string(
            R"({"format": "kiln-package", "version": 1, "target": {"kind": "llvm"}})");
      },
      "cpu-package");
  ASSERT_FALSE(cpu);
  EXPECT_NE(cpu.message().find("--target webgl"), std::string::npos) << cpu.message();
}
#endif

}  // namespace
}  // namespace kiln
