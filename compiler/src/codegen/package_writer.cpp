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

namespace kiln::codegen {

namespace {
std::string cpuFamily(const std::string& triple) {
  if (triple.rfind("x86_64", 0) == 0) return "x86_64";
  if (triple.rfind("aarch64", 0) == 0) return "aarch64";
  if (triple.rfind("arm", 0) == 0) return "armv7";
  return triple;
}

namespace fs = std::filesystem;
using json = nlohmann::json;

// What the two kinds of package share: params.bin, the values and the steps of the manifest.
// `target`, `library` and each step's extra fields come from the back end.
PackageSummary writeManifest(const Graph& graph, const fs::path& dir, const LoweredGraph& lowered,
                             const json& target, const std::string& library,
                             const std::function<void(size_t, json&)>& stepExtra) {
  MemoryPlan plan = planMemory(graph);
  std::ofstream params(dir / "params.bin", std::ios::binary);
  if (!params) throw Error("cannot write " + (dir / "params.bin").string());

  json values = json::array();
  std::map<const Value*, size_t> ids;
  size_t paramBytes = 0;
  std::map<const Value*, const MemoryPlan::Slot*> planned;
  for (const auto& s : plan.slots) planned[s.value] = &s;
  auto idOf = [&](const Value* v) -> size_t {
    auto it = ids.find(v);
    if (it != ids.end()) return it->second;
    json e = {{"name", v->name}, {"dtype", std::string(dtypeName(v->dtype))}, {"shape", v->shape}};
    if (std::find(graph.inputs().begin(), graph.inputs().end(), v) != graph.inputs().end()) {
      e["storage"] = "input";
    } else if (v->isConstant()) {
      const size_t offset = (paramBytes + 63) / 64 * 64;
      params.write(std::string(offset - paramBytes, '\0').data(),
                   static_cast<std::streamsize>(offset - paramBytes));
      params.write(static_cast<const char*>(v->constant->rawData()),
                   static_cast<std::streamsize>(v->constant->nbytes()));
      paramBytes = offset + v->constant->nbytes();
      e["storage"] = "const";
      e["offset"] = offset;
    } else if (auto p = planned.find(v); p != planned.end()) {
      e["storage"] = "arena";
      e["offset"] = p->second->offset;
    } else {
      throw Error("value '" + v->name + "' crosses kernels but has no place in the memory plan");
    }
    values.push_back(std::move(e));
    return ids[v] = values.size() - 1;
  };

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
  params.close();
  if (!params) throw Error("writing " + (dir / "params.bin").string() + " failed");

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
      {"arena_bytes", plan.arenaBytes},
      {"values", values},
      {"inputs", inputs},
      {"outputs", outputs},
      {"steps", steps},
      {"metadata", metadata},
  };
  std::ofstream mf(dir / "manifest.json");
  mf << manifest.dump(1) << "\n";
  if (!mf) throw Error("cannot write " + (dir / "manifest.json").string());
  return {lowered.kernels.size(), paramBytes, plan.arenaBytes, 0};
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
