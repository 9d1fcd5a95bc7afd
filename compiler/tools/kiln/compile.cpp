// `kiln compile MODEL --target llvm [--cpu host|armv7|aarch64] -o DIR`: compiles a model into
// a package that the runtime runs alone (`kiln run DIR`, or `kiln-run DIR` on a board).
// `--target opencl|cuda` writes a GPU package instead: the kernels' OpenCL C / CUDA C source,
// which the device compiles when the package loads (`kiln run DIR --device opencl|cuda`).
#include <iomanip>
#include <iostream>

#include "commands.h"
#include "kiln/codegen/package_writer.h"
#include "kiln/passes/pass.h"
#include "kiln/runtime/error.h"

namespace kiln::cli {

Runner addCompile(CLI::App& app) {
  struct Opts {
    std::string model, out, target = "llvm", cpu = "host";
    std::vector<std::string> shapes;
    bool dumpIr = false, dumpSource = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "compile", "Compile a model into a package the runtime runs without the compiler");
  sub->add_option("model", o->model, "Model file (.onnx, TF.js model.json or its directory)")
      ->required();
  sub->add_option("-o,--output", o->out, "Package directory to write")->required();
  sub->add_option("--target", o->target,
                  "Back end: llvm (CPU), opencl (OpenCL C) or cuda (CUDA C, compiled by NVRTC "
                  "when the package loads)")
      ->check(CLI::IsMember({"llvm", "opencl", "cuda"}));
  sub->add_option("--cpu", o->cpu,
                  "CPU: host, armv7 (PYNQ-Z1/Z2) or aarch64 (Ultra96, ZCU104, KV260)")
      ->check(CLI::IsMember({"host", "armv7", "aarch64"}));
  sub->add_option("--shape", o->shapes, "Input shape override NAME=DIMS (e.g. input=1x3x224x224)");
  sub->add_flag("--dump-ir", o->dumpIr, "Print every kernel's loop IR after each lowering pass");
  sub->add_flag("--dump-source", o->dumpSource,
                "With --target opencl or cuda: print the generated kernel source");
  return [o]() {
    Graph g = loadOrThrow(o->model, o->shapes);
    optimizeGraph(g);
    if (o->dumpSource && o->target == "llvm")
      throw Error("--dump-source needs --target opencl or cuda (use --dump-ir for llvm)");
    codegen::CompileOptions opt{o->dumpIr ? &std::cout : nullptr, nullptr, nullptr};
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
