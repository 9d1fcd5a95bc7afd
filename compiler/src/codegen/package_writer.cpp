// Writing compiled model packages: the LLVM CPU back end's (kernels.so) and the GPU back
// ends' (kernels.cl / kernels.cu, compiled by the runtime's device when the package loads).
#include "kiln/codegen/package_writer.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "kiln/passes/pass.h"
#include "kiln/runtime/package.h"
#include "manifest_values.h"

namespace kiln::codegen {

namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

// What the two kinds of package share: params.bin, the values and the steps of the manifest.
// `target`, `library` and each step's extra fields come from the back end.
PackageSummary writeManifest(const Graph& graph, const fs::path& dir, const LoweredGraph& lowered,
                             const json& target, const std::string& library,
                             const std::function<void(size_t, json&)>& stepExtra) {
  ManifestValues values(graph, dir);
  auto idOf = [&](const Value* v) { return values.idOf(v); };

  json inputs = json::array(), outputs = json::array(), steps = json::array();
  for (const Value* v : graph.inputs()) inputs.push_back(idOf(v));
  for (size_t i = 0; i < lowered.steps.size(); ++i) {
    json args = json::array();
    for (const Value* v : lowered.steps[i].args) args.push_back(idOf(v));
    json step = {
        {"kernel", lowered.kernels[i].name}, {"node", lowered.steps[i].node->name}, {"args", args}};
    if (stepExtra) stepExtra(i, step);
    steps.push_back(std::move(step));
  }
  for (const Value* v : graph.outputs()) outputs.push_back(idOf(v));
  values.finish();

  json metadata = json::object();
  for (const auto& [k, v] : graph.metadata)
    if (k == "labels" || k == "preprocess") metadata[k] = v;
  json manifest = {
      {"format", "kiln-package"},
      {"version", kPackageFormatVersion},
      {"model", graph.name},
      {"target", target},
      {"library", library},
      {"params", "params.bin"},
      {"arena_bytes", values.arenaBytes()},
      {"values", values.values()},
      {"inputs", inputs},
      {"outputs", outputs},
      {"steps", steps},
      {"metadata", metadata},
  };
  std::ofstream mf(dir / "manifest.json");
  mf << manifest.dump(1) << "\n";
  if (!mf) throw Error("cannot write " + (dir / "manifest.json").string());
  return {lowered.kernels.size(), values.paramBytes(), values.arenaBytes(), 0};
}

double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

PackageSummary writePackage(const Graph& graph, const std::string& dirPath, const AotTarget& target,
                            const CompileOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  CompileOptions forTarget = options;
  forTarget.cpu = target.name;
  LoweredGraph lowered = lowerGraph(graph, forTarget);
  const fs::path dir(dirPath);
  fs::create_directories(dir);
  linkSharedLibrary(emitObject(lowered.kernels, target), (dir / "kernels.so").string(), target);
  json t = {{"kind", "llvm"},
            {"cpu", target.cpu},
            {"triple", target.triple},
            {"family", cpuFamily(target.triple)}};
  PackageSummary s = writeManifest(graph, dir, lowered, t, "kernels.so", nullptr);
  s.compileMs = msSince(t0);
  return s;
}

PackageSummary writeGpuPackage(const Graph& graph, const std::string& dirPath, CDialect dialect,
                               const CompileOptions& options, std::ostream* dumpSource) {
  const auto t0 = std::chrono::steady_clock::now();
  CompileOptions opt = options;
  opt.schedule = ScheduleFamily::Gpu;
  // Weights packed in blocks of the CPU's vector width are the CPU's layout: the GPU
  // schedules tile OIHW convolutions (and their epilogues) themselves.
  opt.packConvWeights = false;
  LoweredGraph lowered = lowerGraph(graph, opt);
  GpuModule module = emitC(lowered.kernels, dialect);
  if (dumpSource) *dumpSource << module.source;
  const fs::path dir(dirPath);
  fs::create_directories(dir);
  const std::string library = dialect == CDialect::CUDA ? "kernels.cu" : "kernels.cl";
  {
    std::ofstream src(dir / library);
    src << module.source;
    if (!src) throw Error("cannot write " + (dir / library).string());
  }
  auto extra = [&](size_t i, json& step) {
    const GpuKernel& k = module.kernels.at(i);
    json launches = json::array();
    for (const GpuLaunch& l : k.launches)
      launches.push_back({{"function", l.function}, {"grid", l.grid}, {"block", l.block}});
    step["workspace"] = k.workspaceBytes;
    step["launches"] = launches;
  };
  PackageSummary s =
      writeManifest(graph, dir, lowered, json{{"kind", dialectName(dialect)}}, library, extra);
  s.compileMs = msSince(t0);
  return s;
}

}  // namespace kiln::codegen
