// `kiln compile MODEL --target llvm [--cpu host|armv7|aarch64] -o DIR`: compiles a model into
// a package that the runtime runs alone (`kiln run DIR`, or `kiln-run DIR` on a board).
// `--target opencl|cuda` writes a GPU package instead: the kernels' OpenCL C / CUDA C source,
// which the device compiles when the package loads (`kiln run DIR --device opencl|cuda`).
// `--target webgl -o DIR`: the same model as GLSL ES 3.00 shaders, for the opengl device
// (`kiln run DIR --device opengl`) and browsers (runtime/web); `--bundle DIR` adds the page
// and the browser runtime, a folder any static file server can serve.
// `--target accel --config C [--calibrate INPUTS]`: quantizes it to int8 (calibrated on the
// inputs), runs what it can on Kiln's accelerator built for config C, the rest on the CPU.
#include <chrono>
#include <iomanip>
#include <iostream>

#include "commands.h"
#include "kiln/accel/config.h"
#include "kiln/codegen/accel_package.h"
#include "kiln/codegen/glsl_package.h"
#include "kiln/codegen/package_writer.h"
#include "kiln/passes/pass.h"
#include "kiln/passes/quantize.h"
#include "kiln/runtime/error.h"

#include <nlohmann/json.hpp>

namespace kiln::cli {

// The browser runtime's files (runtime/web), embedded at build time (embed_web.cmake).
const std::map<std::string, std::string>& webRuntimeFiles();

Runner addCompile(CLI::App& app) {
  struct Opts {
    std::string model, out, bundle, target = "llvm", cpu = "host", config = "pynq-z1";
    std::string preprocess = "auto";
    std::vector<std::string> shapes;
    Int8Options int8;
    bool dumpIr = false, dumpSource = false, shapeUniforms = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "compile", "Compile a model into a package the runtime runs without the compiler");
  sub->add_option("model", o->model, "Model file (.onnx, TF.js model.json or its directory)")
      ->required();
  sub->add_option("-o,--output", o->out, "Package directory to write");
  sub->add_option("--bundle", o->bundle,
                  "With --target webgl: write a self-contained web page (index.html, the "
                  "JavaScript runtime, the package, labels) that classifies a picked image");
  sub->add_option("--target", o->target,
                  "Back end: llvm (CPU), webgl (GLSL ES 3.00 shaders for OpenGL ES 3 and WebGL2), "
                  "opencl (OpenCL C), cuda (CUDA C, compiled by NVRTC when the package loads) or "
                  "accel (Kiln's accelerator, int8, with the CPU for what it does not run)")
      ->check(CLI::IsMember({"llvm", "webgl", "opencl", "cuda", "accel"}));
  sub->add_option("--cpu", o->cpu,
                  "CPU: host, armv7 (PYNQ-Z1/Z2) or aarch64 (Ultra96, ZCU104, KV260)")
      ->check(CLI::IsMember({"host", "armv7", "aarch64"}));
  sub->add_option("--config", o->config,
                  "With --target accel: the accelerator config, a built-in name (pynq-z1, small, "
                  "ultrascale) or a hw/configs/*.yaml file");
  addInt8Options(sub, o->int8, "With --target accel");
  sub->add_option("--preprocess", o->preprocess,
                  "Image preprocessing of calibration images: auto, imagenet or tf")
      ->check(CLI::IsMember({"auto", "imagenet", "tf"}));
  sub->add_option("--shape", o->shapes, "Input shape override NAME=DIMS (e.g. input=1x3x224x224)");
  sub->add_flag("--shape-uniforms", o->shapeUniforms,
                "With --target webgl: shaders differing only in shape values share one program, "
                "the values set per pass as uniforms (fewer programs, a faster first inference; "
                "the steady state may be a little slower)");
  sub->add_flag("--dump-ir", o->dumpIr, "Print every kernel's loop IR after each lowering pass");
  sub->add_flag("--dump-source", o->dumpSource,
                "With --target opencl or cuda: print the generated kernel source");
  return [o]() {
    if (o->out.empty() == o->bundle.empty())
      throw Error(
          "give the package directory with -o DIR, or (--target webgl) a web page "
          "folder with --bundle DIR");
    if (!o->bundle.empty() && o->target != "webgl")
      throw Error("--bundle writes a WebGL page: add --target webgl");
    Graph g = loadOrThrow(o->model, o->shapes);
    optimizeGraph(g);
    if (o->target == "webgl") {
      const auto t0 = std::chrono::steady_clock::now();
      codegen::CompileOptions opt;
      opt.dumpIr = o->dumpIr ? &std::cout : nullptr;
      opt.shapeUniforms = o->shapeUniforms;
      codegen::GLPackageFiles p = codegen::buildGLPackage(g, opt);
      const std::string dir = o->bundle.empty() ? o->out : o->bundle;
      if (!o->bundle.empty()) {
        for (const auto& [name, text] : webRuntimeFiles())
          if (name.rfind("rpc", 0) != 0) p.files[name] = text;  // the RPC page is kiln rpc serve's
        // Class names for the page's top-5, when the output is a classifier's.
        const Value* y = g.outputs().empty() ? nullptr : g.outputs()[0];
        const int64_t classes = y && !y->shape.empty() ? y->shape.back() : 0;
        nlohmann::json labels = nlohmann::json::array();
        if (classes > 1 && shapeNumel(y->shape) == classes)
          for (const std::string& l : findLabels(g, "", classes)) labels.push_back(l);
        p.files["labels.json"] = labels.dump() + "\n";
      }
      codegen::writeGLPackage(p, dir);
      std::cout << (o->bundle.empty() ? "package     " : "bundle      ") << dir
                << " (webgl: GLSL ES 3.00"
                << (o->bundle.empty() ? ")" : "; open index.html from a static server)") << "\n";
      std::cout << "kernels     " << p.kernels << " (" << p.passes << " passes, " << p.shaders
                << " distinct shaders)\n";
      std::cout << "parameters  " << p.paramBytes << " bytes\n";
      std::cout << "compiled in " << std::fixed << std::setprecision(1)
                << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                       .count()
                << " ms\n";
      return 0;
    }
    if (o->target == "accel") {
      Expected<accel::Config> config = accel::Config::find(o->config);
      if (!config) throw config.error();
      if (o->int8.calibrate.empty())
        throw Error(
            "--target accel quantizes the model to int8: give --calibrate inputs "
            "(images or .npy tensors like the model's input)");
      const auto samples = loadCalibration(g, o->int8, o->preprocess);
      // Quantize the unfused graph (fusion groups are for the CPU back end).
      for (Node* n : g.nodes()) n->attrs.erase(kFuseGroupAttr);
      std::string quantized;
      Graph qg = quantizeCalibrated(g, samples, o->int8, &quantized);
      codegen::AccelPackageSummary s = codegen::writeAccelPackage(
          qg, o->out, codegen::aotTarget(o->cpu), *config, o->dumpIr ? &std::cout : nullptr);
      std::cout << "package     " << o->out << " (accel " << config->name() << ", host " << o->cpu
                << ")\n";
      std::cout << "int8        " << quantized << "\n";
      std::cout << "accelerator " << s.accelKernels << " kernels, " << s.instructions
                << " instructions, " << s.deviceBytes << " bytes of device memory\n";
      std::cout << "cpu         " << s.cpuKernels << " kernels\n";
      if (s.partition.folded)
        std::cout << "  folded:     " << s.partition.folded
                  << " narrow convolution(s): kernel window as channels (Im2col on the cpu)\n";
      for (const auto& [node, why] : s.partition.notOnDevice)
        std::cout << "  on the cpu: " << node << " (" << why << ")\n";
      std::cout << "compiled in " << std::fixed << std::setprecision(1) << s.compileMs << " ms\n";
      return 0;
    }
    if (!o->int8.calibrate.empty())
      throw Error("--calibrate applies to --target accel (int8); the llvm target runs float");
    if (o->dumpSource && o->target == "llvm")
      throw Error("--dump-source needs --target opencl or cuda (use --dump-ir for llvm)");
    codegen::CompileOptions opt;
    opt.dumpIr = o->dumpIr ? &std::cout : nullptr;
    const bool gpu = o->target != "llvm";
    codegen::PackageSummary s =
        gpu ? codegen::writeGpuPackage(
                  g, o->out,
                  o->target == "cuda" ? codegen::CDialect::CUDA : codegen::CDialect::OpenCL, opt,
                  o->dumpSource ? &std::cout : nullptr)
            : codegen::writePackage(g, o->out, codegen::aotTarget(o->cpu), opt);
    std::cout << "package     " << o->out << " (" << o->target << (gpu ? "" : ", " + o->cpu)
              << ")\n";
    std::cout << "kernels     " << s.kernels << "\n";
    std::cout << "parameters  " << s.paramBytes << " bytes\n";
    std::cout << "activations " << s.arenaBytes << " bytes (one arena)\n";
    std::cout << "compiled in " << std::fixed << std::setprecision(1) << s.compileMs << " ms\n";
    return 0;
  };
}

}  // namespace kiln::cli
