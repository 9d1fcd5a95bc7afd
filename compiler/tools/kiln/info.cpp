// `kiln info MODEL`: what a model is made of (inputs, outputs, operators, parameters, MACs).
#include <iomanip>
#include <iostream>
#include <set>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "kiln/ops/op_registry.h"
#include "kiln/passes/pass.h"
#include "kiln/runtime/package.h"

namespace kiln::cli {

namespace {
std::string withCommas(int64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}
std::string human(double v, const char* unit) {
  const char* prefixes[] = {"", "K", "M", "G", "T"};
  int k = 0;
  while (v >= 1000 && k < 4) v /= 1000, ++k;
  std::ostringstream os;
  os << std::fixed << std::setprecision(2) << v << " " << prefixes[k] << unit;
  return os.str();
}
// A compiled package: its target and, step by step, where each layer runs (for "accel"
// packages, the split between the accelerator and the CPU).
int packageInfo(const std::string& dir) {
  std::ifstream mf(std::filesystem::path(dir) / "manifest.json");
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(mf);
  } catch (const nlohmann::json::exception& e) {
    throw Error(dir + "/manifest.json: not valid JSON: " + e.what());
  }
  auto p = Package::load(dir);
  if (!p) throw p.error();
  std::cout << "package  " << dir << "\n";
  std::cout << "target   " << (*p)->target() << "\n";
  for (const PackageTensor& t : (*p)->inputs())
    std::cout << "input    " << t.name << " " << dtypeName(t.dtype) << shapeStr(t.shape) << "\n";
  for (const PackageTensor& t : (*p)->outputs())
    std::cout << "output   " << t.name << " " << dtypeName(t.dtype) << shapeStr(t.shape) << "\n";
  int cpu = 0, accel = 0;
  uint64_t macs = 0, insns = 0;
  std::cout << "steps\n";
  for (const auto& s : m.at("steps")) {
    const bool dev = s.value("kind", "cpu") == "accel";
    (dev ? accel : cpu)++;
    std::cout << "  " << std::left << std::setw(6) << (dev ? "accel" : "cpu") << std::setw(32)
              << s.value("node", "") << std::right;
    if (dev) {
      macs += s.value("macs", uint64_t{0});
      insns += s.value("instructions", uint64_t{0});
      const uint64_t stepMacs = s.value("macs", uint64_t{0});
      std::cout << std::setw(12) << s.value("op", "") << std::setw(8)
                << s.value("instructions", uint64_t{0}) << " instructions  "
                << (stepMacs ? human(static_cast<double>(stepMacs), "MAC") : "ALU only");
    } else {
      std::cout << "  " << s.value("kernel", "");
    }
    std::cout << "\n";
  }
  std::cout << "split    " << accel << " steps on the accelerator (" << human(double(macs), "MAC")
            << ", " << insns << " instructions), " << cpu << " on the cpu\n";
  return 0;
}

}  // namespace

Runner addInfo(CLI::App& app) {
  struct Opts {
    std::string model;
    std::vector<std::string> shapes;
    bool dump = false;
    bool optimize = false;
    bool dumpPasses = false;
    bool timePasses = false;
    std::vector<std::string> disabled;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub =
      app.add_subcommand("info", "Summarise a model: inputs, outputs, operators, parameters, MACs");
  sub->add_option("model", o->model, "Model file (.onnx, TF.js model.json or its directory)")
      ->required();
  sub->add_option("--shape", o->shapes, "Input shape override NAME=DIMS (e.g. input=1x3x224x224)");
  sub->add_flag("--dump", o->dump, "Also print the whole graph IR");
  sub->add_flag(
      "-O,--optimize", o->optimize,
      "Run the graph passes first (constant and batch-norm folding, simplification, fusion) and "
      "report kernels and the activation memory plan");
  sub->add_flag("--dump-passes", o->dumpPasses,
                "With --optimize: print the graph after every pass");
  sub->add_flag("--time-passes", o->timePasses, "With --optimize: print each pass's time");
  sub->add_option("--disable-pass", o->disabled,
                  "With --optimize: skip the named pass (repeatable)");
  return [o]() {
    if (std::filesystem::exists(std::filesystem::path(o->model) / "manifest.json"))
      return packageInfo(o->model);
    Graph g = loadOrThrow(o->model, o->shapes);
    if (o->optimize) {
      PassOptions po;
      po.disabled = {o->disabled.begin(), o->disabled.end()};
      if (o->dumpPasses) po.dumpAfterEach = &std::cout;
      if (o->timePasses) po.timings = &std::cout;
      optimizeGraph(g, po);
    } else if (!o->disabled.empty() || o->dumpPasses || o->timePasses) {
      throw Error("--disable-pass, --dump-passes and --time-passes need --optimize");
    }
    std::map<std::string, int> ops;
    int64_t macs = 0;
    for (Node* n : g.nodes()) {
      ++ops[n->op];
      macs += nodeMacs(*n);
    }
    int64_t paramBytes = 0;
    for (Value* v : g.values())
      if (v->isConstant()) paramBytes += static_cast<int64_t>(v->constant->nbytes());
    std::cout << "model       " << o->model;
    if (g.opset) std::cout << " (ONNX opset " << g.opset << ")";
    std::cout << "\n";
    for (Value* v : g.inputs())
      std::cout << "input       " << v->name << " " << dtypeName(v->dtype) << shapeStr(v->shape)
                << "\n";
    for (Value* v : g.outputs())
      std::cout << "output      " << v->name << " " << dtypeName(v->dtype) << shapeStr(v->shape)
                << "\n";
    std::cout << "nodes       " << g.nodes().size() << "\n";
    for (auto& [op, count] : ops)
      std::cout << "  " << std::left << std::setw(20) << op << count << "\n";
    std::cout << "parameters  " << withCommas(g.parameterCount()) << " ("
              << human(static_cast<double>(paramBytes), "B") << ")\n";
    std::cout << "MACs        " << withCommas(macs) << " ("
              << human(static_cast<double>(macs), "MAC") << ")\n";
    if (o->optimize) {
      std::set<int64_t> groups;
      for (Node* n : g.nodes())
        if (n->has(kFuseGroupAttr)) groups.insert(n->i(kFuseGroupAttr));
      MemoryPlan plan = planMemory(g);
      std::cout << "kernels     " << groups.size() << " (after fusion)\n";
      std::cout << "activations " << human(static_cast<double>(plan.arenaBytes), "B")
                << " peak with reuse (" << human(static_cast<double>(plan.naiveBytes), "B")
                << " without)\n";
    }
    if (o->dump) std::cout << "\n" << printGraph(g);
    return 0;
  };
}

}  // namespace kiln::cli
