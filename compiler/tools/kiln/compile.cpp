// `kiln compile MODEL --target llvm [--cpu host|armv7|aarch64] -o DIR`: compiles a model into
// a package that the runtime runs alone (`kiln run DIR`, or `kiln-run DIR` on a board).
// `--target webgl -o DIR`: the same model as GLSL ES 3.00 shaders, for the opengl device
// (`kiln run DIR --device opengl`) and browsers (runtime/web).
#include <chrono>
#include <iomanip>
#include <iostream>

#include "commands.h"
#include "kiln/codegen/glsl_package.h"
#include "kiln/codegen/package_writer.h"
#include "kiln/passes/pass.h"

namespace kiln::cli {

Runner addCompile(CLI::App& app) {
  struct Opts {
    std::string model, out, target = "llvm", cpu = "host";
    std::vector<std::string> shapes;
    bool dumpIr = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "compile", "Compile a model into a package the runtime runs without the compiler");
  sub->add_option("model", o->model, "Model file (.onnx, TF.js model.json or its directory)")
      ->required();
  sub->add_option("-o,--output", o->out, "Package directory to write")->required();
  sub->add_option("--target", o->target,
                  "Back end: llvm (CPU) or webgl (GLSL ES 3.00 shaders for OpenGL ES 3 and WebGL2)")
      ->check(CLI::IsMember({"llvm", "webgl"}));
  sub->add_option("--cpu", o->cpu,
                  "CPU: host, armv7 (PYNQ-Z1/Z2) or aarch64 (Ultra96, ZCU104, KV260)")
      ->check(CLI::IsMember({"host", "armv7", "aarch64"}));
  sub->add_option("--shape", o->shapes, "Input shape override NAME=DIMS (e.g. input=1x3x224x224)");
  sub->add_flag("--dump-ir", o->dumpIr, "Print every kernel's loop IR after each lowering pass");
  return [o]() {
    Graph g = loadOrThrow(o->model, o->shapes);
    optimizeGraph(g);
    if (o->target == "webgl") {
      const auto t0 = std::chrono::steady_clock::now();
      codegen::GLPackageFiles p = codegen::buildGLPackage(g, {o->dumpIr ? &std::cout : nullptr});
      codegen::writeGLPackage(p, o->out);
      std::cout << "package     " << o->out << " (webgl: GLSL ES 3.00)\n";
      std::cout << "kernels     " << p.kernels << " (" << p.passes << " shaders)\n";
      std::cout << "parameters  " << p.paramBytes << " bytes\n";
      std::cout << "compiled in " << std::fixed << std::setprecision(1)
                << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                       .count()
                << " ms\n";
      return 0;
    }
    codegen::PackageSummary s = codegen::writePackage(g, o->out, codegen::aotTarget(o->cpu),
                                                      {o->dumpIr ? &std::cout : nullptr, nullptr});
    std::cout << "package     " << o->out << " (" << o->target << ", " << o->cpu << ")\n";
    std::cout << "kernels     " << s.kernels << "\n";
    std::cout << "parameters  " << s.paramBytes << " bytes\n";
    std::cout << "activations " << s.arenaBytes << " bytes (one arena)\n";
    std::cout << "compiled in " << std::fixed << std::setprecision(1) << s.compileMs << " ms\n";
    return 0;
  };
}

}  // namespace kiln::cli
