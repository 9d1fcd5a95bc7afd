// `kiln profile PACKAGE`: runs a package compiled for the accelerator once (on the cycle
// model by default) and prints, per layer, the cycles the device took, the ideal cycles
// (MACs / the GEMM core's MACs per cycle), GEMM utilization and where the modules stalled,
// from the device's performance counters; writes a Chrome-trace timeline (Perfetto,
// chrome://tracing) of the layers and the busy time of the load, compute and store modules,
// and a plot of every layer's cycles against its ideal, split by stall cause (SVG and PNG,
// profile_chart.h).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "accel_device.h"
#include "commands.h"
#include "kiln/accel/config.h"
#include "kiln/runtime/package.h"
#include "profile_chart.h"

namespace kiln::cli {

Runner addProfile(CLI::App& app) {
  struct Opts {
    std::string package, input, device = "sim-cycle", trace, plot;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "profile", "Per-layer cycles, GEMM utilization and stalls of a package on the accelerator");
  sub->add_option("package", o->package, "Package directory (kiln compile --target accel)")
      ->required();
  sub->add_option("-i,--input", o->input,
                  "Input image or .npy tensor (default: a fixed random tensor)");
  sub->add_option("--device", o->device, "sim-cycle (default), sim-rtl or sim-func")
      ->check(CLI::IsMember({"sim-cycle", "sim-rtl", "sim-func"}));
  sub->add_option("--trace", o->trace, "Timeline to write (default PACKAGE/trace.json)");
  sub->add_option("--plot", o->plot,
                  "Plot to write, SVG, with a PNG beside it (default PACKAGE/profile.svg)");
  return [o]() {
    auto p = Package::load(o->package);
    if (!p) throw p.error();
    Package& pkg = **p;
    if (!pkg.accelConfig())
      throw Error(o->package + " has no accelerator steps (compile it with --target accel)");
    attachDevice(pkg, o->device);
    const accel::Config& cfg = *pkg.accelConfig();
    std::map<std::string, NDArray> feeds;
    Graph g;
    for (const PackageTensor& t : pkg.inputs()) g.addInput(t.name, t.dtype, t.shape);
    for (const auto& [k, v] : pkg.metadata()) g.metadata[k] = v;
    for (Value* in : g.inputs()) {
      if (!o->input.empty()) {
        feeds[in->name] = loadInput(o->input, *in, "auto", g);
        continue;
      }
      NDArray a(in->dtype, in->shape);
      std::mt19937 rng(1);
      std::normal_distribution<float> d(0, 1);
      if (in->dtype != DType::F32)
        throw Error("input '" + in->name + "' is not float: give one with --input");
      for (int64_t i = 0; i < a.numel(); ++i) a.data<float>()[i] = d(rng);
      feeds[in->name] = a;
    }
    pkg.run(feeds);
    const double mhz = static_cast<double>(cfg.value("clock_mhz"));
    const double perCycle = static_cast<double>(cfg.value("macs_per_cycle"));
    std::cout << "package  " << o->package << " on " << o->device << ", config " << cfg.name()
              << " (" << cfg.value("batch") << "x" << cfg.value("block_in") << "x"
              << cfg.value("block_out") << " at " << mhz << " MHz)\n";
    std::cout << std::left << std::setw(28) << "layer" << std::setw(13) << "op" << std::right
              << std::setw(12) << "cycles" << std::setw(12) << "ideal" << std::setw(8) << "util"
              << std::setw(10) << "ms@clk"
              << "  stalls (compute waiting on)\n";
    nlohmann::json events = nlohmann::json::array();
    double t = 0, totalCycles = 0, totalIdeal = 0, cpuMs = 0;
    ProfileChart chart;
    auto slice = [&](const std::string& name, int tid, double start, double dur,
                     nlohmann::json args) {
      events.push_back({{"name", name},
                        {"ph", "X"},
                        {"pid", 1},
                        {"tid", tid},
                        {"ts", start},
                        {"dur", std::max(dur, 0.001)},
                        {"args", args}});
    };
    for (const StepProfile& s : pkg.lastProfile()) {
      if (s.device != "accel") {
        cpuMs += s.wallMs;
        slice(s.node, 0, t, s.wallMs * 1000, {{"op", s.op}, {"device", "cpu"}});
        t += s.wallMs * 1000;
        continue;
      }
      auto c = [&](const char* k) {
        auto it = s.counters.find(k);
        return it == s.counters.end() ? 0.0 : static_cast<double>(it->second);
      };
      const double cycles = c("CYCLES"), ideal = static_cast<double>(s.macs) / perCycle;
      const double util = cycles > 0 ? c("COMPUTE_GEMM_UOPS") / cycles : 0;
      totalCycles += cycles;
      totalIdeal += ideal;
      std::vector<std::pair<double, std::string>> stalls = {
          {c("COMPUTE_STALL_LOAD_TOKEN"), "loads"},
          {c("COMPUTE_STALL_STORE_TOKEN"), "stores"},
          {c("COMPUTE_STALL_CMD"), "instructions"},
          {c("COMPUTE_STALL_DRAM"), "DRAM"}};
      std::sort(stalls.rbegin(), stalls.rend());
      ProfileRow row{s.node, s.op, cycles, ideal, {}};
      row.segments[kSegGemm] = c("COMPUTE_BUSY_GEMM");
      row.segments[kSegAlu] = c("COMPUTE_BUSY_ALU");
      row.segments[kSegOwnLoads] = c("COMPUTE_BUSY_LOAD");
      row.segments[kSegWaitLoads] = c("COMPUTE_STALL_LOAD_TOKEN");
      row.segments[kSegWaitStores] = c("COMPUTE_STALL_STORE_TOKEN");
      row.segments[kSegWaitInsns] = c("COMPUTE_STALL_CMD") + c("COMPUTE_STALL_PUSH");
      double accounted = 0;
      for (double v : row.segments) accounted += v;
      row.segments[kSegOther] = std::max(0.0, cycles - accounted);
      chart.rows.push_back(row);
      std::string name = s.node.size() > 27 ? s.node.substr(0, 27) : s.node;
      std::cout << std::left << std::setw(28) << name << std::setw(13) << s.op << std::right
                << std::setw(12) << static_cast<uint64_t>(cycles) << std::setw(12)
                << static_cast<uint64_t>(ideal) << std::setw(7) << std::fixed
                << std::setprecision(1) << util * 100 << "%" << std::setw(10)
                << std::setprecision(3) << cycles / mhz / 1000 << "  ";
      for (int k = 0; k < 2; ++k)
        if (stalls[static_cast<size_t>(k)].first > 0)
          std::cout << stalls[static_cast<size_t>(k)].second << " " << std::setprecision(0)
                    << 100 * stalls[static_cast<size_t>(k)].first / std::max(cycles, 1.0) << "% ";
      std::cout << "\n";
      const double us = cycles / mhz;
      slice(s.node, 0, t, us,
            {{"op", s.op}, {"cycles", cycles}, {"ideal", ideal}, {"gemm_utilization", util}});
      slice("load busy", 1, t, c("LOAD_BUSY") / mhz, {{"dma_bytes", c("LOAD_DMA_BYTES")}});
      slice("gemm", 2, t, c("COMPUTE_BUSY_GEMM") / mhz, {{"uops", c("COMPUTE_GEMM_UOPS")}});
      slice("alu", 2, t + c("COMPUTE_BUSY_GEMM") / mhz, c("COMPUTE_BUSY_ALU") / mhz,
            {{"uops", c("COMPUTE_ALU_UOPS")}});
      slice("store busy", 3, t, c("STORE_BUSY") / mhz, {{"dma_bytes", c("STORE_DMA_BYTES")}});
      t += us;
    }
    std::cout << "total    " << static_cast<uint64_t>(totalCycles)
              << " cycles on the device = " << std::setprecision(2) << totalCycles / mhz / 1000
              << " ms at " << mhz << " MHz; ideal " << static_cast<uint64_t>(totalIdeal) << " ("
              << std::setprecision(1) << (totalCycles > 0 ? 100 * totalIdeal / totalCycles : 0)
              << "% of peak); host steps " << std::setprecision(2) << cpuMs << " ms on this CPU\n";
    nlohmann::json meta = nlohmann::json::array();
    const char* names[] = {"layers", "load", "compute", "store"};
    for (int i = 0; i < 4; ++i)
      meta.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", 1},
                      {"tid", i},
                      {"args", {{"name", names[i]}}}});
    for (auto& e : events) meta.push_back(e);
    const std::string trace = o->trace.empty() ? o->package + "/trace.json" : o->trace;
    std::ofstream f(trace);
    f << nlohmann::json({{"traceEvents", meta}, {"displayTimeUnit", "ms"}}).dump() << "\n";
    if (!f) throw Error("cannot write " + trace);
    std::cout << "wrote    " << trace << " (open in Perfetto or chrome://tracing)\n";
    std::string plot = o->plot.empty() ? o->package + "/profile.svg" : o->plot;
    if (plot.size() < 4 || plot.substr(plot.size() - 4) != ".svg") plot += ".svg";
    const std::string png = plot.substr(0, plot.size() - 4) + ".png";
    std::filesystem::path dir = std::filesystem::path(o->package).lexically_normal();
    if (dir.filename().empty()) dir = dir.parent_path();
    chart.title = "kiln profile: " + dir.filename().string() + " on the accelerator (" +
                  cfg.name() + ", " + o->device + ")";
    std::ostringstream sub;
    sub << chart.rows.size() << " layers on the device: " << static_cast<uint64_t>(totalCycles)
        << " cycles = " << std::setprecision(2) << std::fixed << totalCycles / mhz / 1000
        << " ms at " << std::setprecision(0) << mhz << " MHz, " << std::setprecision(2)
        << (totalIdeal > 0 ? totalCycles / totalIdeal : 0) << "x the ideal; host steps " << cpuMs
        << " ms on this CPU";
    chart.subtitle = sub.str();
    writeProfileSvg(chart, plot);
    writeProfilePng(chart, png);
    std::cout << "wrote    " << plot << " and " << png << " (cycles per layer against the ideal)\n";
    return 0;
  };
}

}  // namespace kiln::cli
