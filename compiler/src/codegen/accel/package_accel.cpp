// Writing "accel" packages (see kiln/codegen/accel_package.h).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../manifest_values.h"
#include "kiln/accel/isa.h"
#include "kiln/codegen/accel.h"
#include "kiln/codegen/accel_package.h"
#include "kiln/codegen/graph_compiler.h"
#include "kiln/passes/pass.h"
#include "kiln/runtime/package.h"

namespace kiln::codegen {

namespace {
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

  const fs::path dir(dirPath);
  fs::create_directories(dir / "accel");
  ManifestValues values(graph, dir);
  auto idOf = [&](const Value* v) { return values.idOf(v); };

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
  values.finish();
  sum.paramBytes = values.paramBytes();
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
  sum.arenaBytes = values.arenaBytes();
  sum.compileMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

}  // namespace kiln::codegen
