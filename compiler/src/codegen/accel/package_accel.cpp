// Writing "accel" packages (see kiln/codegen/accel_package.h).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kiln/accel/isa.h"
#include "kiln/codegen/accel.h"
#include "kiln/codegen/accel_package.h"
#include "kiln/codegen/graph_compiler.h"
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
std::string hex(uint32_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}
void writeFile(const std::filesystem::path& p, const void* data, size_t bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  if (!f) throw Error("cannot write " + p.string());
}
}  // namespace

AccelPackageSummary writeAccelPackage(Graph& graph, const std::string& dirPath,
                                      const AotTarget& target, const accel::Config& config,
                                      std::ostream* dumpIr) {
  namespace fs = std::filesystem;
  using json = nlohmann::json;
  const auto t0 = std::chrono::steady_clock::now();
  AccelPackageSummary sum;
  sum.partition = partitionForAccel(graph, config);
  CompileOptions opts;
  opts.dumpIr = dumpIr;
  opts.skipDeviceNodes = true;
  LoweredGraph lowered = lowerGraph(graph, opts);
  MemoryPlan plan = planMemory(graph);

  const fs::path dir(dirPath);
  fs::create_directories(dir / "accel");
  std::ofstream params(dir / "params.bin", std::ios::binary);
  if (!params) throw Error("cannot write " + (dir / "params.bin").string());

  json values = json::array();
  std::map<const Value*, size_t> ids;
  std::map<const Value*, const MemoryPlan::Slot*> planned;
  for (const auto& s : plan.slots) planned[s.value] = &s;
  auto idOf = [&](const Value* v) -> size_t {
    auto it = ids.find(v);
    if (it != ids.end()) return it->second;
    json e = {{"name", v->name}, {"dtype", std::string(dtypeName(v->dtype))}, {"shape", v->shape}};
    if (std::find(graph.inputs().begin(), graph.inputs().end(), v) != graph.inputs().end()) {
      e["storage"] = "input";
    } else if (v->isConstant()) {
      const size_t offset = (sum.paramBytes + 63) / 64 * 64;
      params.write(std::string(offset - sum.paramBytes, '\0').data(),
                   static_cast<std::streamsize>(offset - sum.paramBytes));
      params.write(static_cast<const char*>(v->constant->rawData()),
                   static_cast<std::streamsize>(v->constant->nbytes()));
      sum.paramBytes = offset + v->constant->nbytes();
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
  size_t cpu = 0;
  for (const Node* n : graph.nodes()) {
    if (!onAccel(*n)) {
      if (cpu >= lowered.steps.size() || lowered.steps[cpu].node != n) continue;  // fused away
      json args = json::array();
      for (const Value* v : lowered.steps[cpu].args) args.push_back(idOf(v));
      steps.push_back({{"kind", "cpu"},
                       {"kernel", lowered.kernels[cpu].name},
                       {"node", n->name},
                       {"args", args}});
      ++cpu;
      continue;
    }
    AccelKernel k;
    try {
      k = compileAccelNode(*n, config, dumpIr);
    } catch (const Error& e) {
      throw Error(n->describe() + ": " + e.what());
    }
    const std::string stem = "accel/" + std::to_string(sum.accelKernels++);
    std::vector<uint8_t> stream = accel::encodeStream(config.layout(), k.insns);
    writeFile(dir / (stem + ".insn"), stream.data(), stream.size());
    std::vector<uint8_t> image(k.arenaBytes, 0);
    for (const AccelRegion& r : k.constants)
      std::copy(r.data.begin(), r.data.end(), image.begin() + static_cast<long>(r.offset));
    writeFile(dir / (stem + ".bin"), image.data(), image.size());
    sum.deviceBytes += image.size();
    sum.instructions += k.insns.size();
    json ins = json::array();
    for (size_t i = 0; i < k.inputs.size(); ++i)
      ins.push_back({{"value", idOf(n->inputs[i])},
                     {"offset", k.inputs[i].offset},
                     {"batch", k.inputs[i].packedShape[4]},
                     {"block", k.inputs[i].packedShape[5]}});
    steps.push_back({{"kind", "accel"},
                     {"node", n->name},
                     {"op", n->op},
                     {"stream", stem + ".insn"},
                     {"image", stem + ".bin"},
                     {"arena_bytes", k.arenaBytes},
                     {"instructions", k.insns.size()},
                     {"macs", k.macs},
                     {"inputs", ins},
                     {"output",
                      {{"value", idOf(n->outputs[0])},
                       {"offset", k.output.offset},
                       {"batch", k.output.packedShape[4]},
                       {"block", k.output.packedShape[5]}}}});
  }
  sum.cpuKernels = cpu;
  for (const Value* v : graph.outputs()) outputs.push_back(idOf(v));
  params.close();
  if (!params) throw Error("writing " + (dir / "params.bin").string() + " failed");
  linkSharedLibrary(emitObject(lowered.kernels, target), (dir / "kernels.so").string(), target);

  // The config, so the runtime can check the device against it.
  json cfg = {{"name", config.name()}, {"hash", hex(config.hash())}};
  if (fs::is_regular_file(config.origin())) {
    fs::copy_file(config.origin(), dir / "config.yaml", fs::copy_options::overwrite_existing);
    cfg["file"] = "config.yaml";
  }
  json metadata = json::object();
  for (const auto& [k, v] : graph.metadata)
    if (k == "labels" || k == "preprocess") metadata[k] = v;
  json manifest = {
      {"format", "kiln-package"},
      {"version", kPackageFormatVersion},
      {"model", graph.name},
      {"target",
       {{"kind", "accel"},
        {"cpu", target.cpu},
        {"triple", target.triple},
        {"family", cpuFamily(target.triple)},
        {"accel", cfg}}},
      {"library", "kernels.so"},
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
  sum.arenaBytes = plan.arenaBytes;
  sum.compileMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

}  // namespace kiln::codegen
