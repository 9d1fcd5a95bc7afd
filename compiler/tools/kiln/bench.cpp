// `kiln bench MODEL --targets llvm,opengl,webgl,accel,...`: the same model on every target
// Kiln has, in one run. Each target is one entry below: why it cannot run here (or
// nothing), and how to compile it once and time it (warm-up runs, then N timed runs);
// anchors (onnxruntime on this CPU, a published board figure) are measured or cited
// beside them. Prints a table, and writes a JSON record and a bar chart (SVG and PNG).
// The accelerator runs on the cycle model, whose cycles at the board clock are its
// predicted latency (the simulation's own wall time is reported, not charted).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "accel_device.h"
#include "bench_chart.h"
#include "commands.h"
#include "kiln/accel/config.h"
#include "kiln/codegen/accel_package.h"
#include "kiln/codegen/glsl_package.h"
#include "kiln/codegen/graph_compiler.h"
#include "kiln/codegen/llvm_aot.h"
#include "kiln/codegen/package_writer.h"
#include "kiln/passes/pass.h"
#include "kiln/passes/quantize.h"
#include "kiln/ref/executor.h"
#include "kiln/runtime/npy.h"
#include "kiln/runtime/package.h"
#include "kiln/runtime/thread_pool.h"
#ifdef KILN_HAVE_OPENGL
#include "kiln/opengl/gl_package.h"
#endif

namespace kiln::cli {

const std::map<std::string, std::string>& webRuntimeFiles();  // embed_web.cmake

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

struct Options {
  std::string model, targets = "llvm,opencl,opengl,webgl,cuda,accel",
                     anchors = "onnxruntime,ort-web,tfjs";
  std::string config = "pynq-z1", input, jsonFile, chartFile, keep;
  std::vector<std::string> shapes, calibrate, references;
  int runs = 10, warmup = 2;
};

// Progress on stderr: a line per phase; on a terminal also a live run counter.
class Progress {
 public:
  void phase(const std::string& target, const std::string& what) {
    clear();
    std::cerr << "[bench] " << target << ": " << what << "\n";
  }
  void step(const std::string& target, int i, int n) {
    if (!tty_) return;
    std::cerr << "\r[bench] " << target << ": run " << i << "/" << n << std::flush;
    live_ = true;
  }
  void clear() {
    if (live_) std::cerr << "\r\033[K";
    live_ = false;
  }

 private:
  bool tty_ = isatty(2) != 0;
  bool live_ = false;
};

// What every target gets: the model, its input, the options, a scratch folder.
struct Context {
  const Options& o;
  std::map<std::string, NDArray> feeds;
  fs::path inputNpy, work;
  Progress& progress;
  Graph load() const { return loadOrThrow(o.model, o.shapes); }
};

// One target's (or anchor's) outcome.
struct Result {
  std::string name, status = "ok", reason, device;
  std::string brief;  // the device in a few words, for the chart
  double compileMs = 0;
  std::vector<double> times;  // sorted, ms
  std::vector<NDArray> outputs;
  json extra = json::object();
  bool predicted = false;  // times are the cycle model's prediction, not wall clock
  double median() const { return times.empty() ? 0 : times[times.size() / 2]; }
};

// Times `run` after `warmup` untimed calls.
template <typename F>
std::vector<double> timeRuns(Context& c, const std::string& name, F run,
                             std::vector<NDArray>& outputs) {
  c.progress.phase(name, "warming up (" + std::to_string(c.o.warmup) + " runs), then " +
                             std::to_string(c.o.runs) + " timed runs");
  for (int i = 0; i < c.o.warmup; ++i) outputs = run();
  std::vector<double> t;
  for (int i = 0; i < c.o.runs; ++i) {
    c.progress.step(name, i + 1, c.o.runs);
    const auto t0 = Clock::now();
    outputs = run();
    t.push_back(msSince(t0));
  }
  c.progress.clear();
  return t;
}

std::string shellQuote(const std::string& s) {
  std::string r = "'";
  for (char ch : s) r += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return r + "'";
}

// Runs a shell command; returns its stdout, or throws with its stderr's last lines.
std::string runCommand(const std::string& cmd, const fs::path& work) {
  const fs::path err = work / "stderr.txt";
  FILE* p = popen((cmd + " 2>" + shellQuote(err.string())).c_str(), "r");
  if (!p) throw Error("cannot start: " + cmd);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int rc = pclose(p);
  if (rc != 0) {
    std::ifstream f(err);
    std::string e((std::istreambuf_iterator<char>(f)), {});
    while (!e.empty() && e.back() == '\n') e.pop_back();
    if (e.size() > 600) e = "..." + e.substr(e.size() - 600);
    throw Error("`" + cmd.substr(0, cmd.find(' ')) + "` failed (exit " + std::to_string(rc) +
                "): " + e);
  }
  return out;
}

bool onPath(const std::string& exe) {
  return std::system(("command -v " + exe + " >/dev/null 2>&1").c_str()) == 0;
}

// Kiln's Node.js tools (scripts/node): KILN_NODE_TOOLS, or the source tree this kiln was
// built from.
fs::path nodeTools() {
  if (const char* e = std::getenv("KILN_NODE_TOOLS")) return e;
  return fs::path(KILN_SOURCE_DIR) / "scripts" / "node";
}

std::string nodeAbsent(const std::vector<std::string>& modules) {
  if (!onPath("node")) return "node is not installed (run scripts/setup.sh)";
  for (const std::string& m : modules)
    if (!fs::exists(nodeTools() / "node_modules" / m))
      return "npm package " + m + " is not installed in " + nodeTools().string() +
             " (run scripts/setup.sh, or set KILN_NODE_TOOLS)";
  return "";
}

int threadCount() {
  return ThreadPool::global().size();
}

// ---- Targets -------------------------------------------------------------------------

Result benchLlvm(Context& c) {
  Result r;
  c.progress.phase("llvm", "compiling every kernel for this CPU");
  auto g = std::make_unique<Graph>(c.load());
  const auto t0 = Clock::now();
  optimizeGraph(*g);
  codegen::CompiledGraph cg(*g);
  r.compileMs = msSince(t0);
  r.device = "llvm " + cg.target() + ", " + std::to_string(threadCount()) + " threads";
  r.brief = "CPU, " + std::to_string(threadCount()) + " threads";
  r.times = timeRuns(
      c, "llvm", [&] { return cg.run(c.feeds); }, r.outputs);
  r.extra["kernels"] = cg.kernelCount();
  return r;
}

// A device this machine lacks, found only when a package is loaded on it: the target is
// skipped with this reason, not failed.
struct Unavailable : Error {
  using Error::Error;
};

// OpenCL and CUDA: the GPU package `kiln compile --target opencl|cuda` writes, loaded on the
// device (which builds its kernels there).
Result benchGpu(Context& c, const std::string& name, codegen::CDialect dialect) {
  Result r;
  c.progress.phase(name,
                   "compiling kernels to " + std::string(name == "cuda" ? "CUDA C" : "OpenCL C"));
  Graph g = c.load();
  const auto t0 = Clock::now();
  optimizeGraph(g);
  const fs::path dir = c.work / name;
  codegen::writeGpuPackage(g, dir.string(), dialect, codegen::CompileOptions{}, nullptr);
  auto p = Package::load(dir.string());
  if (!p) {
    std::string msg = p.message();
    if (msg.rfind(dir.string() + ": ", 0) == 0) msg = msg.substr(dir.string().size() + 2);
    // No CUDA GPU is the usual reason here; OpenCL (PoCL) is expected to load.
    if (name == "cuda") throw Unavailable(msg);
    throw Error(msg);
  }
  r.compileMs = msSince(t0);
  r.device = (*p)->target();
  r.brief = name == "cuda" ? "CUDA"
            : r.device.find("Portable Computing Language") != std::string::npos
                ? "OpenCL, PoCL (CPU)"
                : "OpenCL";
  r.times = timeRuns(
      c, name, [&] { return (*p)->run(c.feeds); }, r.outputs);
  r.extra["kernels"] = (*p)->kernelCount();
  return r;
}

Result benchOpencl(Context& c) {
  return benchGpu(c, "opencl", codegen::CDialect::OpenCL);
}
Result benchCuda(Context& c) {
  return benchGpu(c, "cuda", codegen::CDialect::CUDA);
}

std::string openglAbsent(const Context&) {
#ifdef KILN_HAVE_OPENGL
  return "";
#else
  return "this kiln was built without the opengl device (EGL and GLES were not found at build "
         "time; run scripts/setup.sh and rebuild)";
#endif
}

Result benchOpengl(Context& c) {
  Result r;
#ifdef KILN_HAVE_OPENGL
  c.progress.phase("opengl", "compiling GLSL shaders");
  Graph g = c.load();
  const auto t0 = Clock::now();
  optimizeGraph(g);
  auto files = std::make_shared<codegen::GLPackageFiles>(codegen::buildGLPackage(g));
  auto p = gl::GLPackage::open(
      [files](const std::string& path) {
        auto it = files->files.find(path);
        if (it == files->files.end()) throw Error("no file " + path + " in the package");
        return it->second;
      },
      c.o.model);
  if (!p) throw p.error();
  r.compileMs = msSince(t0);
  r.device = (*p)->device();
  r.brief = r.device.find("llvmpipe") != std::string::npos ? "OpenGL ES, Mesa llvmpipe (CPU)"
                                                           : "OpenGL ES";
  r.times = timeRuns(
      c, "opengl", [&] { return (*p)->run(c.feeds); }, r.outputs);
  r.extra["kernels"] = files->kernels;
  r.extra["shaders"] = files->passes;
#else
  (void)c;
#endif
  return r;
}

std::string webglAbsent(const Context&) {
  if (!fs::exists("/usr/bin/chromium")) return "/usr/bin/chromium is not installed";
  return nodeAbsent({"playwright-core"});
}

Result benchWebgl(Context& c) {
  Result r;
  c.progress.phase("webgl", "compiling GLSL ES shaders into a web bundle");
  Graph g = c.load();
  const auto t0 = Clock::now();
  optimizeGraph(g);
  codegen::GLPackageFiles p = codegen::buildGLPackage(g);
  for (const auto& [name, text] : webRuntimeFiles())
    if (name.rfind("rpc", 0) != 0) p.files[name] = text;
  p.files["labels.json"] = "[]\n";
  const fs::path bundle = c.work / "webgl";
  codegen::writeGLPackage(p, bundle.string());
  r.compileMs = msSince(t0);
  c.progress.phase("webgl", "starting headless Chromium, " + std::to_string(c.o.warmup) +
                                " warm-up and " + std::to_string(c.o.runs) +
                                " timed runs in the page");
  const fs::path out = c.work / "webgl_out.npy";
  const std::string line =
      runCommand("node " + shellQuote((nodeTools() / "bench_webgl.mjs").string()) + " " +
                     shellQuote(bundle.string()) + " " + shellQuote(c.inputNpy.string()) + " " +
                     shellQuote(out.string()) + " --runs " + std::to_string(c.o.runs) +
                     " --warmup " + std::to_string(c.o.warmup),
                 c.work);
  const json j = json::parse(line);
  r.times = j.at("times_ms").get<std::vector<double>>();
  r.device = "Chromium " + j.value("browser", std::string()) + " headless, WebGL2 on " +
             j.value("renderer", std::string());
  r.brief = std::string("WebGL2 in Chromium") +
            (r.device.find("SwiftShader") != std::string::npos ? " (SwiftShader)" : "");
  r.outputs.push_back(readNpy(out.string()));
  r.extra["page_load_ms"] = j.at("load_ms");
  r.extra["model_load_ms"] = j.at("model_load_ms");
  r.extra["first_run_ms"] = j.at("first_ms");
  r.extra["first_inference_ms"] = j.at("first_inference_ms");
  r.extra["kernels"] = p.kernels;
  r.extra["passes"] = p.passes;
  r.extra["shaders"] = p.shaders;
  r.extra["programs"] = j.at("programs");
  return r;
}

// VTA's published board figure: ResNet-18 end to end on a PYNQ-Z1 with VTA's 1x16x16 int8
// GEMM core at 100 MHz (many layers left on the board's Cortex-A9), from Moreau et al., "A
// Hardware-Software Blueprint for Flexible Deep Learning Specialization", IEEE Micro 39(5),
// 2019. It is a reference for this network on this array and clock only, so it is cited only
// when both match (isTorchvisionResnet18, the config test in benchAccel).
constexpr double kVtaResnet18Ms = 420;
constexpr const char* kVtaLabel = "VTA on PYNQ-Z1, published (1x16x16, 100 MHz)";

// Whether `g` is torchvision's ResNet-18 at 224x224, batch 1: its 20 convolutions' weight
// shapes in order and its 512 -> 1000 classifier (the architecture, not the file name).
bool isTorchvisionResnet18(const Graph& g) {
  if (g.inputs().size() != 1 || g.inputs()[0]->shape != Shape{1, 3, 224, 224}) return false;
  std::vector<Shape> convs;
  std::vector<Shape> want = {{64, 3, 7, 7}};
  for (int64_t c : {64, 128, 256, 512}) {
    const int64_t in = c == 64 ? 64 : c / 2;
    want.push_back({c, in, 3, 3});
    want.push_back({c, c, 3, 3});
    if (c != 64) want.push_back({c, in, 1, 1});
    want.push_back({c, c, 3, 3});
    want.push_back({c, c, 3, 3});
  }
  bool classifier = false;
  for (Node* n : g.nodes()) {
    if (n->op == "Conv" && n->input(1)) convs.push_back(n->input(1)->shape);
    if ((n->op == "Gemm" || n->op == "MatMul") && n->input(1) && n->input(1)->shape.size() == 2) {
      const Shape& w = n->input(1)->shape;
      classifier |= (w[0] == 512 && w[1] == 1000) || (w[0] == 1000 && w[1] == 512);
    }
  }
  return classifier && convs == want;
}

Result benchAccel(Context& c) {
  Result r;
  Expected<accel::Config> config = accel::Config::find(c.o.config);
  if (!config) throw config.error();
  c.progress.phase("accel", "quantizing to int8 and compiling for " + config->name());
  Graph g = c.load();
  const bool resnet18 = isTorchvisionResnet18(g);
  if (g.inputs().size() != 1)
    throw Error("the accelerator target calibrates a single-input model; this one has " +
                std::to_string(g.inputs().size()));
  const auto t0 = Clock::now();
  optimizeGraph(g);
  for (Node* n : g.nodes()) n->attrs.erase(kFuseGroupAttr);
  std::vector<std::map<std::string, NDArray>> samples;
  for (const std::string& f : c.o.calibrate)
    samples.push_back({{g.inputs()[0]->name, loadInput(f, *g.inputs()[0], "auto", g)}});
  if (samples.empty()) samples.push_back(c.feeds);
  QuantizeReport q;
  Graph qg = quantizeGraph(g, calibrate(g, samples), &q);
  const fs::path dir = c.work / "accel";
  codegen::AccelPackageSummary s =
      codegen::writeAccelPackage(qg, dir.string(), codegen::aotTarget("host"), *config);
  auto pkg = Package::load(dir.string());
  if (!pkg) throw pkg.error();
  attachDevice(**pkg, "sim-cycle");
  r.compileMs = msSince(t0);
  // The cycle model is deterministic: one run gives the cycles; more would only repeat them.
  c.progress.phase("accel", "running on the cycle model (one run: its cycles are exact)");
  const auto ts = Clock::now();
  r.outputs = (*pkg)->run(c.feeds);
  const double simMs = msSince(ts);
  double cycles = 0, gemmUops = 0, macs = 0, hostMs = 0;
  for (const StepProfile& st : (*pkg)->lastProfile()) {
    if (st.device != "accel") {
      hostMs += st.wallMs;
      continue;
    }
    auto ctr = [&](const char* k) {
      auto it = st.counters.find(k);
      return it == st.counters.end() ? 0.0 : static_cast<double>(it->second);
    };
    cycles += ctr("CYCLES");
    gemmUops += ctr("COMPUTE_GEMM_UOPS");
    macs += static_cast<double>(st.macs);
  }
  const double mhz = static_cast<double>(config->value("clock_mhz"));
  const double perCycle = static_cast<double>(config->value("macs_per_cycle"));
  const double deviceMs = cycles / mhz / 1000;
  // The ideal: every MAC the device does, at the array's peak of macs_per_cycle.
  const double idealMs = macs / perCycle / mhz / 1000;
  r.predicted = true;
  r.times = {deviceMs};
  r.device = "cycle model of " + config->name() + " (" + std::to_string(config->value("batch")) +
             "x" + std::to_string(config->value("block_in")) + "x" +
             std::to_string(config->value("block_out")) + " at " +
             std::to_string(static_cast<int>(mhz)) + " MHz)";
  r.brief = "predicted, " + std::to_string(config->value("batch")) + "x" +
            std::to_string(config->value("block_in")) + "x" +
            std::to_string(config->value("block_out")) + " at " +
            std::to_string(static_cast<int>(mhz)) + " MHz";
  r.extra = {{"config", config->name()},
             {"clock_mhz", mhz},
             {"cycles", static_cast<uint64_t>(cycles)},
             {"device_ms", deviceMs},
             {"gemm_utilization", cycles > 0 ? gemmUops / cycles : 0.0},
             {"fraction_of_peak", cycles > 0 ? macs / perCycle / cycles : 0.0},
             {"macs", static_cast<uint64_t>(macs)},
             {"ideal_ms", idealMs},
             {"predicted_over_ideal", idealMs > 0 ? deviceMs / idealMs : 0.0},
             {"host_steps_ms_here", hostMs},
             {"simulation_wall_ms", simMs},
             {"accel_kernels", s.accelKernels},
             {"cpu_kernels", s.cpuKernels},
             {"instructions", s.instructions},
             {"int8_quantized_ops", q.quantized},
             {"float_ops", q.floatOps},
             {"calibration_inputs", samples.size()}};
  if (resnet18 && config->value("batch") == 1 && config->value("block_in") == 16 &&
      config->value("block_out") == 16 && mhz == 100) {
    r.extra["vta_published_ms"] = kVtaResnet18Ms;
    r.extra["vta_over_this"] = kVtaResnet18Ms / deviceMs;
  }
  return r;
}

// A target: its name, why it cannot run here ("" when it can), how to compile and time it.
struct Target {
  const char* name;
  std::string (*absent)(const Context&);
  Result (*bench)(Context&);
};

std::string always(const Context&) {
  return "";
}

const std::vector<Target>& targets() {
  static const std::vector<Target> t = {
      {"llvm", always, benchLlvm},           {"opencl", always, benchOpencl},
      {"opengl", openglAbsent, benchOpengl}, {"webgl", webglAbsent, benchWebgl},
      {"cuda", always, benchCuda},           {"accel", always, benchAccel},
  };
  return t;
}

// ---- Anchors -------------------------------------------------------------------------

std::string ortAbsent(const Context& c) {
  if (fs::path(c.o.model).extension() != ".onnx")
    return "onnxruntime runs .onnx models; " + c.o.model + " is not one";
  if (!c.o.shapes.empty()) return "--shape overrides are not passed to onnxruntime";
  return nodeAbsent({"onnxruntime-node"});
}

Result benchOrt(Context& c) {
  Result r;
  c.progress.phase("onnxruntime", "timing " + std::to_string(c.o.runs) + " runs in Node.js");
  const std::string line = runCommand(
      "node " + shellQuote((nodeTools() / "bench_ort.mjs").string()) + " " + shellQuote(c.o.model) +
          " --threads " + std::to_string(threadCount()) + " --runs " + std::to_string(c.o.runs) +
          " --warmup " + std::to_string(c.o.warmup),
      c.work);
  const json j = json::parse(line);
  r.times = j.at("times_ms").get<std::vector<double>>();
  r.device = "onnxruntime-node " + j.value("ort_version", std::string("?")) + ", CPU EP, " +
             std::to_string(threadCount()) + " threads";
  r.brief = "CPU, " + std::to_string(threadCount()) + " threads";
  return r;
}

// A TF.js layers model: its folder (MODEL is the folder or its model.json), else "".
fs::path tfjsFolder(const std::string& model) {
  const fs::path p(model);
  if (fs::is_directory(p) && fs::exists(p / "model.json")) return p;
  if (p.filename() == "model.json") return p.parent_path();
  return {};
}

std::string tfjsAbsent(const Context& c) {
  if (tfjsFolder(c.o.model).empty())
    return "TensorFlow.js runs TF.js layers models; " + c.o.model + " is not one";
  if (c.feeds.size() != 1) return "the browser page feeds models with one input";
  if (!fs::exists("/usr/bin/chromium")) return "/usr/bin/chromium is not installed";
  return nodeAbsent({"playwright-core", "@tensorflow/tfjs"});
}

Result benchTfjs(Context& c) {
  Result r;
  c.progress.phase("tfjs", "timing TensorFlow.js (webgl backend) in headless Chromium");
  const std::string line = runCommand(
      "node " + shellQuote((nodeTools() / "bench_tfjs_web.mjs").string()) + " " +
          shellQuote(tfjsFolder(c.o.model).string()) + " " + shellQuote(c.inputNpy.string()) +
          " --runs " + std::to_string(c.o.runs) + " --warmup " + std::to_string(c.o.warmup),
      c.work);
  const json j = json::parse(line);
  r.times = j.at("times_ms").get<std::vector<double>>();
  r.device = "TensorFlow.js " + j.value("tfjs_version", std::string()) +
             " webgl backend, Chromium " + j.value("browser", std::string()) + " headless on " +
             j.value("renderer", std::string());
  r.brief = "TF.js WebGL, same browser";
  r.extra["first_run_ms"] = j.at("first_ms");
  r.extra["first_inference_ms"] = j.at("first_inference_ms");
  return r;
}

// onnxruntime-web in the same headless Chromium as the webgl target (same ONNX file): its
// wasm execution provider ("ort-web") and its WebGL one ("ort-webgl").
std::string ortWebAbsent(const Context& c) {
  if (fs::path(c.o.model).extension() != ".onnx")
    return "onnxruntime-web runs .onnx models; " + c.o.model + " is not one";
  if (c.o.targets.find("webgl") == std::string::npos)
    return "an in-browser anchor, timed beside --targets webgl";
  if (!c.o.shapes.empty()) return "--shape overrides are not passed to onnxruntime-web";
  if (c.feeds.size() != 1) return "the browser page feeds models with one input";
  if (!fs::exists("/usr/bin/chromium")) return "/usr/bin/chromium is not installed";
  return nodeAbsent({"playwright-core", "onnxruntime-web"});
}

Result benchOrtWeb(Context& c, const std::string& ep) {
  Result r;
  const std::string name = ep == "wasm" ? "ort-web" : "ort-" + ep;
  c.progress.phase(name,
                   "timing onnxruntime-web (" + ep + " execution provider) in headless Chromium");
  std::string line;
  try {
    line = runCommand("node " + shellQuote((nodeTools() / "bench_ort_web.mjs").string()) + " " +
                          shellQuote(c.o.model) + " " + shellQuote(c.inputNpy.string()) + " --ep " +
                          ep + " --threads " + std::to_string(threadCount()) + " --runs " +
                          std::to_string(c.o.runs) + " --warmup " + std::to_string(c.o.warmup) +
                          " --output " + shellQuote((c.work / (name + "_out.npy")).string()),
                      c.work);
  } catch (const Error& e) {
    // exit 3: the execution provider cannot start in this browser
    if (std::string(e.what()).find("cannot start here") != std::string::npos)
      throw Unavailable(e.what());
    throw;
  }
  const json j = json::parse(line);
  r.times = j.at("times_ms").get<std::vector<double>>();
  r.device = "onnxruntime-web " + j.value("ort_version", std::string()) + ", " + ep +
             " EP, Chromium " + j.value("browser", std::string()) + " headless on " +
             j.value("renderer", std::string());
  r.brief = ep == "wasm" ? "ort-web wasm, " + std::to_string(j.value("threads", 1)) + " threads"
                         : "ort-web " + ep + ", same browser";
  r.outputs.push_back(readNpy((c.work / (name + "_out.npy")).string()));
  r.extra["first_run_ms"] = j.at("first_ms");
  r.extra["first_inference_ms"] = j.at("first_inference_ms");
  r.extra["session_ms"] = j.at("load_ms");
  return r;
}
Result benchOrtWebWasm(Context& c) {
  return benchOrtWeb(c, "wasm");
}
Result benchOrtWebGl(Context& c) {
  return benchOrtWeb(c, "webgl");
}

// PyTorch on a CUDA GPU: the same ONNX model executed by PyTorch (scripts/bench_pytorch.py,
// with KILN_PYTHON or the python3 on PATH); the anchor row is its CUDA graph replayed in
// strict fp32, the other modes (eager, TF32) go into the record.
std::string pythonCommand() {
  const char* p = std::getenv("KILN_PYTHON");
  return p ? p : "python3";
}

std::string pytorchAbsent(const Context& c) {
  if (fs::path(c.o.model).extension() != ".onnx")
    return "PyTorch runs .onnx models here; " + c.o.model + " is not one";
  if (!c.o.shapes.empty()) return "--shape overrides are not passed to PyTorch";
  if (std::system((pythonCommand() +
                   " -c 'import torch, onnx, sys; sys.exit(0 if torch.cuda.is_available() else 3)'"
                   " >/dev/null 2>&1")
                      .c_str()) != 0)
    return "no PyTorch with a CUDA GPU and the onnx package here (" + pythonCommand() + ")";
  return "";
}

Result benchPytorch(Context& c) {
  Result r;
  c.progress.phase("pytorch", "timing " + std::to_string(c.o.runs) + " runs on the GPU");
  const std::string line = runCommand(
      pythonCommand() + " " +
          shellQuote((nodeTools().parent_path() / "bench_pytorch.py").string()) + " " +
          shellQuote(c.o.model) + " --input " + shellQuote(c.inputNpy.string()) + " --runs " +
          std::to_string(c.o.runs) + " --warmup " + std::to_string(c.o.warmup),
      c.work);
  const json j = json::parse(line);
  r.times = j.at("times_ms").get<std::vector<double>>();
  r.device = "PyTorch " + j.value("torch_version", std::string("?")) + " on " +
             j.value("device", std::string("?")) + ", one CUDA graph, strict fp32 (TF32 off)";
  r.brief = "CUDA graph, fp32";
  for (const char* k : {"eager_fp32_ms", "eager_tf32_ms", "graph_tf32_ms"}) r.extra[k] = j.at(k);
  return r;
}

const std::vector<Target>& anchors() {
  static const std::vector<Target> a = {{"onnxruntime", ortAbsent, benchOrt},
                                        {"ort-web", ortWebAbsent, benchOrtWebWasm},
                                        {"ort-webgl", ortWebAbsent, benchOrtWebGl},
                                        {"tfjs", tfjsAbsent, benchTfjs},
                                        {"pytorch", pytorchAbsent, benchPytorch}};
  return a;
}

// ---- Report --------------------------------------------------------------------------

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> r;
  std::stringstream ss(s);
  std::string t;
  while (std::getline(ss, t, ','))
    if (!t.empty()) r.push_back(t);
  return r;
}

// How far `got` is from `want`: max |got - want| / max |want| over the first output, and
// whether the top class agrees (for a classifier).
json compareOutputs(const std::vector<NDArray>& got, const std::vector<NDArray>& want) {
  if (got.empty() || want.empty() || got[0].numel() != want[0].numel() ||
      got[0].dtype() != DType::F32 || want[0].dtype() != DType::F32)
    return nullptr;
  const float *a = got[0].data<float>(), *b = want[0].data<float>();
  double diff = 0, scale = 0;
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < got[0].numel(); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
    if (a[i] > a[ia]) ia = i;
    if (b[i] > b[ib]) ib = i;
  }
  return {{"max_rel_diff", scale > 0 ? diff / scale : diff}, {"top1_agrees", ia == ib}};
}

std::string fixed(double v, int prec) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(prec) << v;
  return s.str();
}

std::string machine() {
  std::ifstream f("/proc/cpuinfo");
  std::string line, cpu = "unknown CPU";
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  return std::to_string(std::thread::hardware_concurrency()) + " cores, " + cpu;
}

std::string loadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace

Runner addBench(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "bench", "Time one model on every target (CPU, GPU, browser, accelerator) beside anchors");
  sub->add_option("model", o->model, "Model file (.onnx, TF.js model.json or its directory)")
      ->required();
  sub->add_option("--targets", o->targets,
                  "Comma-separated targets: llvm, opencl, opengl, webgl, cuda, accel (an absent "
                  "one is skipped with the reason)");
  sub->add_option("--anchors", o->anchors,
                  "Comma-separated anchors measured in the same run: onnxruntime (CPU, Node.js; "
                  ".onnx models), ort-web / ort-webgl (onnxruntime-web's wasm / WebGL execution "
                  "provider in the same headless Chromium as --targets webgl; .onnx models), tfjs "
                  "(TensorFlow.js WebGL in the same headless Chromium; TF.js models), pytorch; "
                  "'none' for none");
  sub->add_option("--runs", o->runs, "Timed runs per target")->check(CLI::Range(1, 100000));
  sub->add_option("--warmup", o->warmup, "Untimed runs before timing")->check(CLI::Range(0, 1000));
  sub->add_option("--config", o->config,
                  "Accelerator config for the accel target: a built-in name or a yaml file");
  sub->add_option("--calibrate", o->calibrate,
                  "Calibration inputs for the accel target's int8 quantization (default: the "
                  "benchmark's input)");
  sub->add_option("-i,--input", o->input,
                  "Input image or .npy tensor (default: a seeded random tensor)");
  sub->add_option("--shape", o->shapes, "Input shape override NAME=DIMS");
  sub->add_option("--reference", o->references,
                  "A published figure drawn as a line on the chart: LABEL=MS (e.g. "
                  "\"board X=12.5\"); repeatable");
  sub->add_option("--json", o->jsonFile, "Write the record as JSON to FILE");
  sub->add_option("--chart", o->chartFile,
                  "Write the bar chart as FILE.svg and FILE.png (an .svg or .png extension on "
                  "FILE is replaced)");
  sub->add_option("--keep", o->keep, "Keep the compiled packages and bundle in DIR");
  return [o]() {
    const auto tStart = Clock::now();
    Progress progress;
    // Refuse unknown names before any work.
    const std::vector<std::string> wanted = splitList(o->targets);
    const std::vector<std::string> wantedAnchors =
        o->anchors == "none" ? std::vector<std::string>{} : splitList(o->anchors);
    auto find = [](const std::vector<Target>& list, const std::string& n) -> const Target* {
      for (const Target& t : list)
        if (n == t.name) return &t;
      return nullptr;
    };
    if (wanted.empty())
      throw Error(
          "--targets is empty: name at least one of llvm, opencl, "
          "opengl, webgl, cuda, accel");
    for (const std::string& n : wanted)
      if (!find(targets(), n))
        throw Error("--targets: unknown target '" + n +
                    "' (known: llvm, opencl, opengl, webgl, cuda, accel)");
    for (const std::string& n : wantedAnchors)
      if (!find(anchors(), n))
        throw Error("--anchors: unknown anchor '" + n +
                    "' (known: onnxruntime, ort-web, ort-webgl, tfjs, pytorch, none)");
    std::vector<ChartLine> lines;
    for (const std::string& ref : o->references) {
      const auto eq = ref.rfind('=');
      char* end = nullptr;
      const double ms = eq == std::string::npos ? 0 : std::strtod(ref.c_str() + eq + 1, &end);
      if (eq == std::string::npos || eq == 0 || !end || *end || !(ms > 0))
        throw Error("--reference '" + ref + "': expected LABEL=MILLISECONDS, e.g. \"VTA=400\"");
      lines.push_back({ref.substr(0, eq), ms});
    }

    // Where the record and chart go must exist before minutes of work are spent.
    for (const std::string& f : {o->jsonFile, o->chartFile}) {
      if (f.empty()) continue;
      const fs::path parent = fs::absolute(f).parent_path();
      if (!fs::is_directory(parent))
        throw Error("cannot write " + f + ": folder " + parent.string() + " does not exist");
    }
    Graph g = loadOrThrow(o->model, o->shapes);
    fs::path work;
    if (!o->keep.empty()) {
      work = o->keep;
      fs::create_directories(work);
    } else {
      std::string tmpl = (fs::temp_directory_path() / "kiln-bench-XXXXXX").string();
      if (!mkdtemp(tmpl.data())) throw Error("cannot create a scratch folder in /tmp");
      work = tmpl;
    }
    struct Cleanup {
      fs::path p;
      ~Cleanup() {
        std::error_code ec;
        if (!p.empty()) fs::remove_all(p, ec);
      }
    } cleanup{o->keep.empty() ? work : fs::path()};

    Context c{*o, {}, work / "input.npy", work, progress};
    for (Value* in : g.inputs()) {
      if (!o->input.empty()) {
        if (g.inputs().size() != 1)
          throw Error("--input gives one tensor; this model has " +
                      std::to_string(g.inputs().size()) + " inputs");
        c.feeds[in->name] = loadInput(o->input, *in, "auto", g);
        continue;
      }
      if (in->dtype != DType::F32)
        throw Error("input '" + in->name + "' is " + std::string(dtypeName(in->dtype)) +
                    ", not float: give one with --input");
      NDArray a(in->dtype, in->shape);
      std::mt19937 rng(1);
      std::normal_distribution<float> d(0, 1);
      for (int64_t i = 0; i < a.numel(); ++i) a.data<float>()[i] = d(rng);
      c.feeds[in->name] = a;
    }
    if (c.feeds.size() == 1) writeNpy(c.inputNpy.string(), c.feeds.begin()->second);

    auto runOne = [&](const Target& t) {
      Result r;
      std::string why = t.absent(c);
      if (why.empty() && !t.bench) why = "not available";
      if (why.empty() && t.bench == benchWebgl && c.feeds.size() != 1)
        why = "the browser page feeds models with one input";
      if (!why.empty()) {
        r.status = "skipped";
        r.reason = why;
        progress.phase(t.name, "skipped: " + why);
      } else {
        try {
          r = t.bench(c);
        } catch (const Unavailable& e) {
          progress.clear();
          r = Result{};
          r.status = "skipped";
          r.reason = e.what();
          progress.phase(t.name, std::string("skipped: ") + e.what());
        } catch (const std::exception& e) {
          progress.clear();
          r = Result{};
          r.status = "failed";
          r.reason = e.what();
          progress.phase(t.name, std::string("FAILED: ") + e.what());
        }
      }
      r.name = t.name;
      std::sort(r.times.begin(), r.times.end());
      return r;
    };
    std::vector<Result> results, anchorResults;
    for (const std::string& n : wanted) results.push_back(runOne(*find(targets(), n)));
    for (const std::string& n : wantedAnchors) anchorResults.push_back(runOne(*find(anchors(), n)));

    // Correctness beside speed: every target's answer against the llvm target's (itself
    // tested against the reference executor), else against the reference executor.
    std::vector<NDArray> want;
    std::string checkedAgainst = "llvm";
    for (const Result& r : results)
      if (r.name == "llvm" && r.status == "ok") want = r.outputs;
    if (want.empty() && std::any_of(results.begin(), results.end(),
                                    [](const Result& r) { return r.status == "ok"; })) {
      progress.phase("check", "running the reference executor for the expected answer");
      Graph rg = loadOrThrow(o->model, o->shapes);
      want = ref::Executor(rg).run(c.feeds);
      checkedAgainst = "reference executor";
    }

    const int64_t batch = g.inputs().empty() || g.inputs()[0]->shape.empty()
                              ? 1
                              : std::max<int64_t>(1, g.inputs()[0]->shape[0]);
    const double ortMs = !anchorResults.empty() && anchorResults[0].name == "onnxruntime" &&
                                 anchorResults[0].status == "ok"
                             ? anchorResults[0].median()
                             : 0;
    json record = {{"model", o->model},
                   {"kiln", "0.1.0"},
                   {"machine", machine()},
                   {"load_average", loadAverage()},
                   {"threads", threadCount()},
                   {"runs", o->runs},
                   {"warmup", o->warmup},
                   {"batch", batch},
                   {"checked_against", checkedAgainst},
                   {"targets", json::array()},
                   {"anchors", json::array()},
                   {"references", json::array()}};
    auto toJson = [&](const Result& r) {
      json j = {{"name", r.name}, {"status", r.status}};
      if (r.status != "ok") {
        j["reason"] = r.reason;
        return j;
      }
      j["device"] = r.device;
      if (r.compileMs > 0) j["compile_ms"] = r.compileMs;
      j["median_ms"] = r.median();
      j["min_ms"] = r.times.front();
      j["max_ms"] = r.times.back();
      j["times_ms"] = r.times;
      j["throughput_per_s"] = r.median() > 0 ? 1000.0 * static_cast<double>(batch) / r.median() : 0;
      j["latency_kind"] = r.predicted ? "predicted by the cycle model at the board clock"
                                      : "wall clock, measured here";
      if (ortMs > 0 && r.median() > 0) j["onnxruntime_over_this"] = ortMs / r.median();
      // The browser target against the anchors in the same browser: onnxruntime-web for ONNX
      // models, TF.js for TF.js models (anchor's median / this one's; > 1: Kiln is faster).
      if (r.name == "webgl" && r.median() > 0)
        for (const Result& a : anchorResults)
          if (a.status == "ok" &&
              (a.name == "ort-web" || a.name == "ort-webgl" || a.name == "tfjs"))
            j["browser_anchors_over_this"][a.name] = a.median() / r.median();
      if (!r.outputs.empty() && r.name != "llvm") j["check"] = compareOutputs(r.outputs, want);
      for (auto& [k, v] : r.extra.items()) j[k] = v;
      return j;
    };
    for (const Result& r : results) record["targets"].push_back(toJson(r));
    for (const Result& r : anchorResults) record["anchors"].push_back(toJson(r));
    for (const Result& r : results)
      if (r.name == "accel" && r.status == "ok" && r.extra.contains("vta_published_ms"))
        lines.push_back({kVtaLabel, r.extra["vta_published_ms"].get<double>()});
    for (const ChartLine& l : lines)
      record["references"].push_back({{"label", l.label}, {"ms", l.ms}});

    // The table.
    std::cout << "model    " << o->model << "\n";
    std::cout << "machine  " << machine() << "; load average " << loadAverage() << "; "
              << threadCount() << " threads\n";
    std::cout << "runs     " << o->runs << " timed after " << o->warmup
              << " warm-up (accel: one cycle-model run, cycles at the board clock)\n\n";
    std::cout << std::left << std::setw(13) << "target" << std::right << std::setw(11)
              << "compile_ms" << std::setw(11) << "median_ms" << std::setw(10) << "min_ms"
              << std::setw(10) << "max_ms" << std::setw(10) << "inf/s" << std::setw(9) << "vs_ort"
              << std::setw(12) << "check"
              << "  device\n";
    auto row = [&](const Result& r, const json& j) {
      std::cout << std::left << std::setw(13) << r.name << std::right;
      if (r.status != "ok") {
        std::cout << "  " << r.status << ": " << r.reason << "\n";
        return;
      }
      std::string check = "-";
      if (j.contains("check") && j["check"].is_object()) {
        const double d = j["check"]["max_rel_diff"];
        std::ostringstream s;
        s << std::scientific << std::setprecision(0) << d;
        check = r.predicted ? (j["check"]["top1_agrees"].get<bool>() ? "top1 ok" : "top1 DIFF")
                            : s.str();
      }
      std::cout << std::setw(11) << (r.compileMs > 0 ? fixed(r.compileMs, 0) : "-") << std::setw(11)
                << fixed(r.median(), 2) << std::setw(10) << fixed(r.times.front(), 2)
                << std::setw(10) << fixed(r.times.back(), 2) << std::setw(10)
                << fixed(j["throughput_per_s"].get<double>(), 1) << std::setw(9)
                << (j.contains("onnxruntime_over_this")
                        ? fixed(j["onnxruntime_over_this"].get<double>(), 3) + "x"
                        : std::string("-"))
                << std::setw(12) << check << "  " << r.device << "\n";
      if (j.contains("browser_anchors_over_this")) {
        std::cout << std::setw(13) << ""
                  << "  same browser:";
        const char* sep = " ";
        for (auto& [k, v] : j["browser_anchors_over_this"].items()) {
          std::cout << sep << k << "'s median / webgl's = " << fixed(v.get<double>(), 3) << "x";
          sep = ", ";
        }
        std::cout << " (> 1: Kiln is faster)\n";
      }
      if (r.name == "accel")
        std::cout << std::setw(13) << ""
                  << "  predicted: " << static_cast<uint64_t>(j["cycles"].get<uint64_t>())
                  << " cycles at " << j["clock_mhz"].get<double>()
                  << " MHz = " << fixed(r.median(), 2) << " ms on the device; GEMM utilization "
                  << fixed(100 * j["gemm_utilization"].get<double>(), 1) << "% ("
                  << fixed(100 * j["fraction_of_peak"].get<double>(), 1)
                  << "% of peak MACs); host steps " << fixed(j["host_steps_ms_here"], 2)
                  << " ms on this CPU; simulated in "
                  << fixed(j["simulation_wall_ms"].get<double>() / 1000, 2) << " s\n"
                  << std::setw(13) << ""
                  << "  ideal (MACs / the array's MACs per cycle): "
                  << fixed(j["ideal_ms"].get<double>(), 2)
                  << " ms; predicted = " << fixed(j["predicted_over_ideal"].get<double>(), 2)
                  << "x the ideal\n";
      if (r.name == "accel" && j.contains("vta_published_ms"))
        std::cout << std::setw(13) << ""
                  << "  vs VTA: " << fixed(j["vta_published_ms"].get<double>(), 0)
                  << " ms published for VTA on a PYNQ-Z1 (same 1x16x16 array, 100 MHz); "
                     "VTA / Kiln's prediction = "
                  << fixed(j["vta_over_this"].get<double>(), 2) << "x\n";
    };
    for (size_t i = 0; i < results.size(); ++i) row(results[i], record["targets"][i]);
    for (size_t i = 0; i < anchorResults.size(); ++i) row(anchorResults[i], record["anchors"][i]);
    for (const ChartLine& l : lines)
      std::cout << std::left << std::setw(13) << "reference" << std::right << "  " << fixed(l.ms, 2)
                << " ms: " << l.label << " (cited, not measured)\n";
    // In-browser rows: the first inference, from loading the model in a fresh browser to its
    // first output (fetch, shader compilation, weight upload and the first run).
    std::string first;
    for (const auto* rs : {&results, &anchorResults})
      for (const Result& r : *rs)
        if (r.status == "ok" && r.extra.contains("first_inference_ms"))
          first += (first.empty() ? "" : ", ") + r.name + " " +
                   fixed(r.extra["first_inference_ms"].get<double>(), 0) + " ms";
    if (!first.empty())
      std::cout << "first inference (from loading the model in a fresh browser to its first "
                   "output): "
                << first << "\n";
    std::cout << "check: max |out - " << checkedAgainst << "| / max |" << checkedAgainst
              << "| (accel, int8: whether the top class agrees); vs_ort: onnxruntime's median / "
                 "the target's\n";

    if (!o->jsonFile.empty()) {
      std::ofstream f(o->jsonFile);
      f << record.dump(2) << "\n";
      if (!f) throw Error("cannot write " + o->jsonFile);
      std::cout << "wrote    " << o->jsonFile << "\n";
    }
    if (!o->chartFile.empty()) {
      Chart chart;
      chart.title = "Kiln on " + fs::path(o->model).filename().string() + ": latency per target";
      chart.subtitle = machine() + "; median of " + std::to_string(o->runs) +
                       " runs, load average " + loadAverage();
      auto add = [&](const Result& r, ChartBar::Kind kind) {
        if (r.status != "ok") return;
        const std::string label =
            r.name == "accel" ? "accel " + r.extra["config"].get<std::string>() : r.name;
        chart.bars.push_back({label, r.brief, r.median(), r.times.front(), r.times.back(), kind,
                              r.extra.value("ideal_ms", 0.0)});
      };
      for (const Result& r : results) add(r, r.predicted ? ChartBar::Predicted : ChartBar::Kiln);
      for (const Result& r : anchorResults) add(r, ChartBar::Anchor);
      chart.lines = lines;
      fs::path base(o->chartFile);
      if (base.extension() == ".svg" || base.extension() == ".png") base.replace_extension();
      writeChartSvg(chart, base.string() + ".svg");
      writeChartPng(chart, base.string() + ".png");
      std::cout << "wrote    " << base.string() << ".svg, " << base.string() << ".png\n";
    }
    std::cerr << "[bench] done in " << fixed(msSince(tStart) / 1000, 1) << " s\n";
    bool failed = false, any = false;
    for (const Result& r : results) failed |= r.status == "failed", any |= r.status == "ok";
    for (const Result& r : anchorResults) failed |= r.status == "failed";
    if (!any) throw Error("no target could run here (see the reasons above)");
    return failed ? 1 : 0;
  };
}

}  // namespace kiln::cli
