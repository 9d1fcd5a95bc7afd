// `kiln run MODEL --input FILE`: runs a model on an image or a .npy tensor and prints the
// top-5 classes (or the output shapes), with timings. --target picks the reference
// executor (default), the LLVM CPU back end (compile every node, JIT, run), OpenGL (compile
// every kernel to GLSL fragment shaders, run them on the opengl device) or a GPU back end
// (opencl, cuda: compile a GPU package into a temporary directory, load it on the device,
// run). A compiled package runs where it was compiled for; --device states (and checks) it.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <sstream>

#include "accel_device.h"
#include "commands.h"
#include "kiln/codegen/glsl_package.h"
#include "kiln/codegen/graph_compiler.h"
#include "kiln/codegen/package_writer.h"
#include "kiln/passes/pass.h"
#include "kiln/passes/quantize.h"
#include "kiln/ref/executor.h"
#include "kiln/rpc/server.h"
#include "kiln/rpc/websocket.h"
#include "kiln/runtime/image.h"
#include "kiln/runtime/npy.h"
#include "kiln/runtime/package.h"
#ifdef KILN_HAVE_OPENGL
#include "kiln/opengl/gl_package.h"
#endif

#include <fstream>
#include <nlohmann/json.hpp>

namespace kiln::cli {

namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

bool isNpy(const std::string& path) {
  return std::filesystem::path(path).extension() == ".npy";
}

}  // namespace

// Builds the tensor for one graph input from a .npy file or an image.
NDArray loadInput(const std::string& file, const Value& in, const std::string& preprocess,
                  const Graph& g) {
  if (isNpy(file)) {
    NDArray a = readNpy(file);
    if (a.dtype() != in.dtype || a.shape() != in.shape)
      throw Error(file + " holds " + std::string(dtypeName(a.dtype())) + shapeStr(a.shape()) +
                  " but input '" + in.name + "' expects " + std::string(dtypeName(in.dtype)) +
                  shapeStr(in.shape));
    return a;
  }
  // An image: the input must look like a batch of one RGB picture.
  const Shape& s = in.shape;
  bool nchw = s.size() == 4 && s[0] == 1 && s[1] == 3;
  bool nhwc = s.size() == 4 && s[0] == 1 && s[3] == 3;
  if (!nchw && !nhwc)
    throw Error(
        "input '" + in.name + "' has shape " + shapeStr(s) +
        ", which is not a single RGB image (1x3xHxW or 1xHxWx3); pass a .npy tensor instead");
  std::string preset = preprocess;
  if (preset == "auto") {
    auto it = g.metadata.find("preprocess");
    preset = it != g.metadata.end() ? it->second : (nhwc && !nchw ? "tf" : "imagenet");
  }
  Preprocess pp = Preprocess::preset(preset);
  pp.nhwc = nhwc && !nchw;
  return imageToTensor(loadImage(file), pp.nhwc ? s[1] : s[2], pp.nhwc ? s[2] : s[3], pp);
}

Runner addRun(CLI::App& app) {
  struct Opts {
    std::string model;
    std::vector<std::string> inputs, outputs, shapes;
    std::string preprocess = "auto", labels;
    int top = 5;
    int repeat = 1;
    std::string target = "ref";
    std::string device = "auto";
    bool int8 = false;
    std::string rpc, rpcTokenFile;
    Int8Options q;
    bool dumpIr = false;
    bool dumpLLVM = false;
    bool noFuseEpilogues = false;
    int timeoutMs = 60000;
    bool profile = false;
    bool dumpSource = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "run", "Run a model or a compiled package on an image or tensor and print its answer");
  sub->add_option("model", o->model,
                  "Model file (.onnx, TF.js model.json or its directory) or a package directory")
      ->required();
  sub->add_option(
         "-i,--input", o->inputs,
         "Input: an image (PNG/JPEG) or a .npy tensor; NAME=FILE for a model with several inputs")
      ->required();
  sub->add_option("-o,--output", o->outputs,
                  "Write output tensors as .npy: one FILE per output, in order (or NAME=FILE)");
  sub->add_option("--shape", o->shapes, "Input shape override NAME=DIMS (e.g. input=1x3x224x224)");
  sub->add_option("--preprocess", o->preprocess,
                  "Image preprocessing: imagenet (resize 256, crop, mean/std, NCHW), tf (resize, "
                  "/255, NHWC), "
                  "or auto (from the model)")
      ->check(CLI::IsMember({"auto", "imagenet", "tf"}));
  sub->add_option("--labels", o->labels,
                  "Class names, one per line (default: the model's, or ImageNet's)");
  sub->add_option("--top", o->top, "How many classes to print")->check(CLI::Range(1, 1000));
  sub->add_option("--repeat", o->repeat, "Run the model N times and report the median time")
      ->check(CLI::Range(1, 100000));
  sub->add_flag("--profile", o->profile,
                "With --target llvm: print each kernel's wall and CPU time per run, slowest first");
  sub->add_option("--target", o->target,
                  "Where to run a model: ref (the reference executor), llvm (compiled for this "
                  "CPU), opengl (GLSL shaders on this machine's OpenGL ES 3), opencl or cuda "
                  "(compiled for a GPU)")
      ->check(CLI::IsMember({"ref", "llvm", "opengl", "opencl", "cuda"}));
  sub->add_option(
         "--device", o->device,
         "Where to run a compiled package: auto (by its target), cpu (an llvm package), "
         "opengl (a webgl package, on this machine's OpenGL ES 3), opencl or cuda (a "
         "package compiled for that GPU back end), or for an accel package's accelerator "
         "steps sim-cycle (the cycle model, auto's choice), sim-rtl (the Verilated RTL) or "
         "sim-func (the functional reference)")
      ->check(CLI::IsMember(
          {"auto", "cpu", "opengl", "opencl", "cuda", "sim-cycle", "sim-rtl", "sim-func"}));
  sub->add_option("--rpc", o->rpc,
                  "Run a compiled package on a remote kiln-rpc server (a board) at HOST:PORT, or "
                  "a webgl package in the browser connected to `kiln rpc serve` at "
                  "ws://HOST:PORT; the package's files are uploaded, nothing is compiled there");
  sub->add_option("--rpc-token-file", o->rpcTokenFile,
                  "With --rpc: file holding the server's token (else KILN_RPC_TOKEN)");
  sub->add_flag("--int8", o->int8,
                "Quantize to int8 first (post-training, calibrated on --calibrate inputs) and run "
                "the int8 graph");
  addInt8Options(sub, o->q, "With --int8", " (default: the --input)");
  sub->add_option("--timeout", o->timeoutMs,
                  "Milliseconds to wait for each accelerator step before reporting a hung device")
      ->check(CLI::Range(1, 100000000));
  sub->add_flag("--dump-ir", o->dumpIr,
                "With --target llvm: print every kernel's loop IR after each lowering pass");
  sub->add_flag("--dump-llvm", o->dumpLLVM,
                "With --target llvm: print the optimized LLVM IR of all kernels");
  sub->add_flag("--no-fuse-epilogues", o->noFuseEpilogues,
                "With --target llvm: compute each convolution whole before its epilogue, as "
                "before epilogue fusion (to measure what the fusion gives)");
  sub->add_flag("--dump-source", o->dumpSource,
                "With --target opencl or cuda: print the generated kernel source");
  return [o]() {
    auto t0 = Clock::now();
    // A compiled package runs on the runtime alone; its inputs, outputs and metadata stand in
    // for the graph's where the inputs are prepared and the answer is printed.
    std::unique_ptr<Package> package;
#ifdef KILN_HAVE_OPENGL
    std::unique_ptr<gl::GLPackage> glPackage;
#endif
    // Which device a package directory asks for.
    auto packageKind = [](const std::string& dir) {
      std::ifstream mf(std::filesystem::path(dir) / "manifest.json");
      try {
        return nlohmann::json::parse(mf).at("target").at("kind").get<std::string>();
      } catch (const nlohmann::json::exception&) {
        return std::string();  // the loader says what is wrong
      }
    };
#ifndef KILN_HAVE_OPENGL
    auto noOpenGL = []() {
      return Error(
          "this kiln was built without the opengl device (EGL and GLES were not found "
          "at build time; run scripts/setup.sh and rebuild)");
    };
#endif
    std::unique_ptr<rpc::Client> remote;
    std::unique_ptr<rpc::WsClient> browser;  // --rpc ws://: a page behind `kiln rpc serve`
    std::string remoteTarget;
    Graph g;
    if (!o->rpc.empty()) {
      if (o->device != "auto")
        throw Error(
            "--device does not apply with --rpc: the server runs accelerator packages on the "
            "device it was started with (kiln-rpc serve --device board|sim-func)");
      // The package runs on the server: read its manifest here, upload its files there.
      namespace fs = std::filesystem;
      const fs::path dir(o->model);
      std::ifstream mf(dir / "manifest.json");
      if (!mf)
        throw Error("--rpc runs compiled packages: " + o->model +
                    " has no manifest.json (kiln compile it first)");
      nlohmann::json m = nlohmann::json::parse(mf);
      for (size_t id : m.at("inputs").get<std::vector<size_t>>()) {
        const auto& v = m.at("values").at(id);
        g.addInput(v.at("name"), parseDType(v.at("dtype").get<std::string>()),
                   v.at("shape").get<Shape>());
      }
      for (size_t id : m.at("outputs").get<std::vector<size_t>>()) {
        const auto& v = m.at("values").at(id);
        g.markOutput(g.addValue(v.at("name"), parseDType(v.at("dtype").get<std::string>()),
                                v.at("shape").get<Shape>()));
      }
      const nlohmann::json metadata = m.value("metadata", nlohmann::json::object());
      for (auto& [k, v] : metadata.items()) g.metadata[k] = v.get<std::string>();
      std::string token;
      if (!o->rpcTokenFile.empty()) {
        std::ifstream tf(o->rpcTokenFile);
        if (!tf) throw Error("--rpc-token-file " + o->rpcTokenFile + ": cannot open file");
        std::getline(tf, token);
      } else if (const char* t = std::getenv("KILN_RPC_TOKEN")) {
        token = t;
      }
      if (o->rpc.rfind("ws://", 0) == 0) {
        // The whole package in one load message: its files listed in the header, their
        // bytes back to back in the body.
        if (m.at("target").at("kind") != "webgl")
          throw Error(
              "--rpc ws:// runs packages in a browser: compile the model with --target "
              "webgl");
        auto c = rpc::WsClient::connect(o->rpc, token);
        if (!c) throw c.error();
        browser = std::move(*c);
        std::vector<std::string> files = {"manifest.json", m.at("params").get<std::string>(),
                                          m.at("vertex_shader").get<std::string>()};
        for (const auto& k : m.at("kernels"))
          for (const auto& p : k.at("passes")) files.push_back(p.at("shader"));
        std::sort(files.begin() + 3, files.end());
        files.erase(std::unique(files.begin() + 3, files.end()), files.end());
        rpc::Message load;
        load.header = {{"op", "load"}, {"files", nlohmann::json::array()}};
        for (const std::string& file : files) {
          std::ifstream f(dir / file, std::ios::binary);
          if (!f) throw Error("cannot read " + (dir / file).string());
          const size_t before = load.body.size();
          load.body.insert(load.body.end(), std::istreambuf_iterator<char>(f), {});
          load.header["files"].push_back({{"name", file}, {"bytes", load.body.size() - before}});
        }
        auto loaded = browser->call(load);
        if (!loaded) throw loaded.error();
        remoteTarget = loaded->header.value("target", "") + ", shaders compiled in " +
                       std::to_string(int(loaded->header.value("load_ms", 0.0))) + " ms";
      }
      if (!browser) {
        const auto colon = o->rpc.rfind(':');
        if (colon == std::string::npos) throw Error("--rpc " + o->rpc + ": expected HOST:PORT");
        auto c =
            rpc::Client::connect(o->rpc.substr(0, colon),
                                 static_cast<uint16_t>(std::stoi(o->rpc.substr(colon + 1))), token);
        if (!c) throw c.error();
        remote = std::move(*c);
        // An accelerator package adds its config and each device step's stream and memory
        // image; the server runs them on the device it was started with.
        std::vector<std::string> files = {"manifest.json", m.at("params").get<std::string>(),
                                          m.at("library").get<std::string>()};
        if (m.at("target").at("kind") == "accel") {
          if (m.at("target").at("accel").contains("file"))
            files.push_back(m.at("target").at("accel").at("file"));
          for (const auto& st : m.at("steps"))
            if (st.value("kind", "cpu") == "accel") {
              files.push_back(st.at("stream"));
              files.push_back(st.at("image"));
            }
        }
        for (const std::string& file : files) {
          std::ifstream f(dir / file, std::ios::binary);
          if (!f) throw Error("cannot read " + (dir / file).string());
          rpc::Message put;
          put.header = {{"op", "put"}, {"name", file}};
          put.body.assign(std::istreambuf_iterator<char>(f), {});
          if (auto r = remote->call(put); !r) throw r.error();
        }
        rpc::Message load;
        load.header = {{"op", "load"}};
        auto loaded = remote->call(load);
        if (!loaded) throw loaded.error();
        remoteTarget = loaded->header.value("target", "");
        if (loaded->header.value("device", "cpu") != "cpu")
          remoteTarget += " on the server's " + loaded->header.value("device", "") + " device";
      }
    } else if (std::filesystem::exists(std::filesystem::path(o->model) / "manifest.json") &&
               packageKind(o->model) == "webgl") {
      if (o->device != "auto" && o->device != "opengl")
        throw Error(o->model +
                    " is a webgl package (GLSL shaders): run it with --device opengl, "
                    "or compile the model with --target " +
                    (o->device == "cpu" ? std::string("llvm") : o->device) + " for " + o->device);
      if (o->target != "ref" || o->dumpIr || o->dumpLLVM || !o->shapes.empty())
        throw Error(
            "--target, --dump-ir, --dump-llvm and --shape apply to models, not to a compiled "
            "package");
#ifdef KILN_HAVE_OPENGL
      auto p = gl::GLPackage::load(o->model);
      if (!p) throw p.error();
      glPackage = std::move(*p);
      for (const PackageTensor& t : glPackage->inputs()) g.addInput(t.name, t.dtype, t.shape);
      for (const PackageTensor& t : glPackage->outputs())
        g.markOutput(g.addValue(t.name, t.dtype, t.shape));
      for (const auto& [k, v] : glPackage->metadata()) g.metadata[k] = v;
#else
      throw noOpenGL();
#endif
    } else if (std::filesystem::exists(std::filesystem::path(o->model) / "manifest.json")) {
      // An llvm package runs on the CPU, an opencl or cuda one on that device.
      const std::string kind = packageKind(o->model);
      const std::string runsOn = kind == "llvm" ? "cpu" : kind;
      const bool simDevice = o->device.rfind("sim-", 0) == 0;
      if (kind == "accel" && o->device != "auto" && !simDevice)
        throw Error(o->model +
                    " is compiled for the accelerator: run it with --device sim-cycle, sim-rtl "
                    "or sim-func");
      if (kind != "accel" && o->device != "auto" && o->device != runsOn && !kind.empty())
        throw Error(o->model + " was compiled for " + runsOn + ", not " + o->device +
                    ": compile the model with --target " +
                    (o->device == "cpu"      ? std::string("llvm")
                     : o->device == "opengl" ? std::string("webgl")
                                             : o->device) +
                    " for that device");
      auto p = Package::load(o->model);
      if (!p) throw p.error();
      package = std::move(*p);
      attachDevice(*package, simDevice ? o->device : "");
      package->setAccelTimeout(std::chrono::milliseconds(o->timeoutMs));
      for (const PackageTensor& t : package->inputs()) g.addInput(t.name, t.dtype, t.shape);
      for (const PackageTensor& t : package->outputs())
        g.markOutput(g.addValue(t.name, t.dtype, t.shape));
      for (const auto& [k, v] : package->metadata()) g.metadata[k] = v;
      if (o->target != "ref" || o->dumpIr || o->dumpLLVM || o->dumpSource || !o->shapes.empty())
        throw Error(
            "--target, --dump-ir, --dump-llvm, --dump-source and --shape apply to models, not to "
            "a compiled package (use --device to say where a package runs)");
    } else {
      if (o->device != "auto")
        throw Error(
            "--device applies to compiled packages; for a model, pick --target (opencl and cuda "
            "compile for a GPU)");
      g = loadOrThrow(o->model, o->shapes);
    }
    double loadMs = msSince(t0);

    // Map --input values to graph inputs: NAME=FILE, or positionally.
    std::map<std::string, NDArray> feeds;
    size_t pos = 0;
    for (const std::string& spec : o->inputs) {
      auto eq = spec.find('=');
      const Value* in = nullptr;
      std::string file = spec;
      if (eq != std::string::npos && eq > 0) {
        in = g.findValue(spec.substr(0, eq));
        if (!in || std::find(g.inputs().begin(), g.inputs().end(), in) == g.inputs().end())
          throw Error("--input " + spec + ": the model has no input named '" + spec.substr(0, eq) +
                      "'");
        file = spec.substr(eq + 1);
      } else {
        if (pos >= g.inputs().size())
          throw Error("more --input values than the model's " + std::to_string(g.inputs().size()) +
                      " input(s)");
        in = g.inputs()[pos++];
      }
      feeds[in->name] = loadInput(file, *in, o->preprocess, g);
    }
    for (Value* in : g.inputs())
      if (!feeds.count(in->name))
        throw Error("no --input given for model input '" + in->name + "'");

    std::string quantized;
    if (o->int8) {
      if (package || remote || browser)
        throw Error("--int8 applies to models, not to a compiled package");
      if (o->target != "ref")
        throw Error(
            "int8 graphs run in the reference executor (--target ref); to run one on the "
            "accelerator, compile it: kiln compile MODEL --target accel --calibrate ...");
      auto samples = loadCalibration(g, o->q, o->preprocess);
      if (samples.empty()) samples.push_back(feeds);  // calibrated on the input it runs
      optimizeGraph(g);
      std::string summary;
      g = quantizeCalibrated(g, samples, o->q, &summary);
      quantized = " (int8: " + summary + ")";
    }

    std::unique_ptr<codegen::CompiledGraph> compiled;
    std::string device = "reference executor";
    if (o->target == "llvm") {
      auto tc = Clock::now();
      // The standard graph pipeline (constant and batch-norm folding, fusion into groups),
      // then one kernel per fused group.
      optimizeGraph(g);
      codegen::CompileOptions copt{o->dumpIr ? &std::cout : nullptr,
                                   o->dumpLLVM ? &std::cout : nullptr};
      copt.fuseConvEpilogues = !o->noFuseEpilogues;
      compiled = std::make_unique<codegen::CompiledGraph>(g, copt);
      std::ostringstream d;
      d << "llvm " << compiled->target() << " (" << compiled->kernelCount()
        << " kernels compiled in " << std::fixed << std::setprecision(1) << msSince(tc) << " ms)";
      device = d.str();
    } else if (o->target == "opencl" || o->target == "cuda") {
      if (o->dumpLLVM) throw Error("--dump-llvm needs --target llvm");
      auto tc = Clock::now();
      optimizeGraph(g);
      // The same package `kiln compile --target` writes, in a temporary directory; loading it
      // builds the kernels on the device, after which the directory is not needed.
      namespace fs = std::filesystem;
      std::string tmpl = (fs::temp_directory_path() / "kiln-gpu-XXXXXX").string();
      if (!::mkdtemp(tmpl.data())) throw Error("cannot create a temporary directory");
      struct Cleanup {
        std::string dir;
        ~Cleanup() {
          std::error_code ec;
          std::filesystem::remove_all(dir, ec);
        }
      } cleanup{tmpl};
      codegen::writeGpuPackage(
          g, tmpl, o->target == "cuda" ? codegen::CDialect::CUDA : codegen::CDialect::OpenCL,
          [&] {
            codegen::CompileOptions copt;
            copt.dumpIr = o->dumpIr ? &std::cout : nullptr;
            return copt;
          }(),
          o->dumpSource ? &std::cout : nullptr);
      auto p = Package::load(tmpl);
      if (!p) {  // the temporary directory means nothing to the user: drop it from the message
        std::string msg = p.message();
        if (msg.rfind(tmpl + ": ", 0) == 0) msg = msg.substr(tmpl.size() + 2);
        throw Error(msg);
      }
      package = std::move(*p);
      std::ostringstream d;
      d << package->target() << " (" << package->kernelCount() << " kernels compiled in "
        << std::fixed << std::setprecision(1) << msSince(tc) << " ms)";
      device = d.str();
    } else if (o->target == "opengl") {
#ifdef KILN_HAVE_OPENGL
      if (o->dumpLLVM) throw Error("--dump-llvm needs --target llvm");
      auto tc = Clock::now();
      // The same package `kiln compile --target webgl` writes, kept in memory.
      optimizeGraph(g);
      codegen::CompileOptions copt;
      copt.dumpIr = o->dumpIr ? &std::cout : nullptr;
      auto files = std::make_shared<codegen::GLPackageFiles>(codegen::buildGLPackage(g, copt));
      auto p = gl::GLPackage::open(
          [files](const std::string& path) {
            auto it = files->files.find(path);
            if (it == files->files.end()) throw Error("no file " + path + " in the package");
            return it->second;
          },
          o->model);
      if (!p) throw p.error();
      glPackage = std::move(*p);
      std::ostringstream d;
      d << glPackage->device() << " (" << files->kernels << " kernels, " << files->passes
        << " shaders, compiled in " << std::fixed << std::setprecision(1) << msSince(tc) << " ms)";
      device = d.str();
#else
      throw noOpenGL();
#endif
    } else if (o->dumpIr || o->dumpLLVM || o->dumpSource) {
      throw Error(
          "--dump-ir, --dump-llvm and --dump-source need a compiling --target (llvm, opengl, "
          "opencl, cuda); the reference executor has no IR");
    }
    if (package && o->target == "ref")
      device = "package " + package->target() + " (" + std::to_string(package->kernelCount()) +
               " kernels" +
               (package->accelConfig()
                    ? ", " + std::to_string(package->accelStepCount()) + " on the accelerator (" +
                          (o->device == "auto" ? std::string("sim-cycle") : o->device) + ")"
                    : std::string()) +
               ")";
#ifdef KILN_HAVE_OPENGL
    if (glPackage && o->target != "opengl")
      device = "package webgl on " + glPackage->device() + " (" +
               std::to_string(glPackage->kernelCount()) + " kernels, " +
               std::to_string(glPackage->passCount()) + " passes)";
#endif
    if (remote)
      device = "rpc " + o->rpc + ": package " + remoteTarget + " (time measured on the server)";
    if (browser) device = "rpc " + o->rpc + ": " + remoteTarget + " (time measured in the browser)";
    device += quantized;
    ref::Executor exec(g);
    if (o->profile && !compiled)
      throw Error("--profile needs --target llvm with a model (not a package or the reference)");
    std::vector<double> times;
    codegen::CompiledGraph::KernelProfile prof;
    std::vector<NDArray> outs;
    for (int r = 0; r < o->repeat; ++r) {
      auto t = Clock::now();
      if (remote || browser) {
        rpc::Message req;
        req.header = {{"op", "run"}};
        std::vector<std::pair<std::string, NDArray>> named(feeds.begin(), feeds.end());
        rpc::writeTensors(req, named);
        auto reply = remote ? remote->call(req) : browser->call(req);
        if (!reply) throw reply.error();
        outs.clear();
        for (auto& [name, tensor] : rpc::readTensors(*reply)) outs.push_back(std::move(tensor));
        times.push_back(reply->header.value("ms", 0.0));
        continue;
      }
#ifdef KILN_HAVE_OPENGL
      if (glPackage) {
        outs = glPackage->run(feeds);
        times.push_back(msSince(t));
        continue;
      }
#endif
      outs = package    ? package->run(feeds)
             : compiled ? compiled->run(feeds, o->profile ? &prof : nullptr)
                        : exec.run(feeds);
      times.push_back(msSince(t));
    }
    std::sort(times.begin(), times.end());
    auto fixedMs = [](double ms) {
      std::ostringstream s;
      s << std::fixed << std::setprecision(2) << ms;
      return s.str();
    };

    std::cout << "model    " << o->model << " (loaded in " << std::fixed << std::setprecision(1)
              << loadMs << " ms)\n";
    std::cout << "device   " << device << "\n";
    std::cout << "time     " << std::setprecision(2) << times[times.size() / 2] << " ms"
              << (times.size() > 1 ? " (median of " + std::to_string(times.size()) + ", min " +
                                         fixedMs(times.front()) + " ms)"
                                   : std::string())
              << "\n";
    if (o->profile) {
      // Kernels by time, slowest first: wall and calling-thread CPU ms per run, and the
      // share of the kernels' total wall time.
      const std::vector<double>& wall = prof.wallMs;
      double total = 0, cpu = 0;
      for (size_t i = 0; i < wall.size(); ++i) total += wall[i], cpu += prof.cpuMs[i];
      std::vector<size_t> order(wall.size());
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return wall[a] > wall[b]; });
      std::cout << "kernels  " << wall.size() << ": " << std::setprecision(2) << total / o->repeat
                << " ms wall, " << cpu / o->repeat << " ms CPU per run (wall, CPU, share)\n";
      for (size_t i : order)
        std::cout << "  " << std::setw(8) << std::setprecision(3) << wall[i] / o->repeat
                  << std::setw(9) << prof.cpuMs[i] / o->repeat << std::setw(6)
                  << std::setprecision(1) << (total > 0 ? 100 * wall[i] / total : 0.0) << "%  k"
                  << i << " " << compiled->kernelName(i) << "\n";
    }
    for (size_t k = 0; k < outs.size(); ++k) {
      const NDArray& y = outs[k];
      std::cout << "output   " << g.outputs()[k]->name << " " << dtypeName(y.dtype())
                << shapeStr(y.shape()) << "\n";
      // A classifier output: print the top classes.
      int64_t classes = y.shape().empty() ? 0 : y.shape().back();
      if (y.dtype() == DType::F32 && classes > 1 && y.numel() == classes) {
        auto labels = findLabels(g, o->labels, classes);
        std::vector<int64_t> idx(static_cast<size_t>(classes));
        std::iota(idx.begin(), idx.end(), 0);
        const float* p = y.data<float>();
        int top = static_cast<int>(std::min<int64_t>(o->top, classes));
        std::partial_sort(idx.begin(), idx.begin() + top, idx.end(),
                          [&](int64_t a, int64_t b) { return p[a] > p[b]; });
        for (int t = 0; t < top; ++t) {
          std::cout << "  #" << t + 1 << "  " << std::setw(5) << idx[t] << "  "
                    << std::setprecision(5) << std::setw(10) << p[idx[t]];
          if (!labels.empty()) std::cout << "  " << labels[idx[t]];
          std::cout << "\n";
        }
      }
    }
    // Write outputs.
    for (size_t k = 0; k < o->outputs.size(); ++k) {
      std::string spec = o->outputs[k];
      auto eq = spec.find('=');
      size_t which = k;
      std::string file = spec;
      if (eq != std::string::npos && eq > 0 && !isNpy(spec.substr(0, eq))) {
        auto it = std::find_if(g.outputs().begin(), g.outputs().end(),
                               [&](Value* v) { return v->name == spec.substr(0, eq); });
        if (it == g.outputs().end())
          throw Error("--output " + spec + ": no model output named '" + spec.substr(0, eq) + "'");
        which = static_cast<size_t>(it - g.outputs().begin());
        file = spec.substr(eq + 1);
      }
      if (which >= outs.size())
        throw Error("more --output files than the model's " + std::to_string(outs.size()) +
                    " output(s)");
      writeNpy(file, outs[which]);
      std::cout << "wrote    " << file << "\n";
    }
    return 0;
  };
}

}  // namespace kiln::cli
