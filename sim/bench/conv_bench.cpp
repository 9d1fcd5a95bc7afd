// Benchmark of the accelerator's simulators on realistic streams: ResNet-18 convolutions tiled
// for the accelerator (conv_stream.h), with double-buffered inputs, weights and accumulators
// ordered by dependency tokens, padded strided input loads, requantization and ReLU.
//
// Each layer runs on the functional reference (the anchor of the cycle model's speed), on the
// cycle model, and with --rtl on the Verilated RTL through the driver (sim-rtl), with one
// thread and, where the build has one, with the model Verilated with --threads 2; every run
// must leave the reference's bytes. It prints simulated cycles per second of each beside the
// others as ratios, the cycle model's cycles beside the RTL's, and the cycles against the ideal
// (MACs / MACs per cycle).
//
//   kiln-sim-bench [--config NAME] [--repeat N] [--rtl | --rtl-threads] [--network]
//
// --rtl runs the RTL with one thread; --rtl-threads also with two, and compares the two.
//
// Without --network: ResNet-18's layer1 3x3 convolution (64 -> 64 channels, 56 x 56), with the
// cycle model's report. With --network: all 20 convolutions of ResNet-18, a line each and the
// totals (the whole network's RTL simulation time against the one-minute goal).
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "conv_stream.h"
#include "kiln/accel/config.h"
#include "kiln/accel/isa.h"
#include "kiln/accel/reference.h"
#include "kiln/sim/cycle_model.h"
#if KILN_HAVE_SIM_RTL
#include "kiln/driver/accelerator.h"
#include "kiln/sim/rtl_backend.h"
#endif

using namespace kiln;
using namespace kiln::accel;

namespace {

double seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU seconds of this process: on a machine shared with other work, the steadier figure.
double cpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct RtlRun {
  unsigned threads = 1;
  uint64_t cycles = 0;
  double seconds = 0, cpu = 0;  // wall time, and this process's CPU time
};

struct LayerRun {
  bench::ConvShape shape;
  size_t insns = 0;
  sim::Stats stats;
  double ref_s = 1e30, sim_s = 1e30, sim_cpu = 1e30;
  std::vector<RtlRun> rtl;
};

// Runs one layer on the reference, the cycle model (best of `repeat`) and the RTL models
// asked for; throws if any leaves other bytes than the reference.
LayerRun runLayer(const Config& config, const bench::ConvShape& shape, int repeat,
                  const std::vector<unsigned>& rtl_threads) {
  LayerRun run;
  run.shape = shape;
  std::vector<uint8_t> initial;
  bench::ConvStream cs = bench::buildConvStream(config, shape, initial);
  run.insns = cs.insns.size();
  Machine ref(config, cs.dramBytes);
  sim::CycleModel model(config, cs.dramBytes);
  for (int r = 0; r < repeat; ++r) {
    std::copy(initial.begin(), initial.end(), ref.dram().begin());
    auto a = std::chrono::steady_clock::now();
    Expected<RunStats> rs = ref.run(cs.insns);
    auto b = std::chrono::steady_clock::now();
    if (!rs) throw Error(shape.name + ": reference: " + rs.message());
    run.ref_s = std::min(run.ref_s, seconds(a, b));

    std::copy(initial.begin(), initial.end(), model.dram().begin());
    double cpu = cpuSeconds();
    a = std::chrono::steady_clock::now();
    Expected<sim::Stats> ss = model.run(cs.insns);
    b = std::chrono::steady_clock::now();
    cpu = cpuSeconds() - cpu;
    if (!ss) throw Error(shape.name + ": cycle model: " + ss.message());
    run.sim_s = std::min(run.sim_s, seconds(a, b));
    run.sim_cpu = std::min(run.sim_cpu, cpu);
    run.stats = *ss;
  }
  if (!std::equal(ref.dram().begin(), ref.dram().end(), model.dram().begin()))
    throw Error(shape.name + ": the cycle model's bytes differ from the reference's");

#if KILN_HAVE_SIM_RTL
  const std::vector<uint8_t> bytes = encodeStream(config.layout(), cs.insns);
  for (unsigned threads : rtl_threads) {
    // The same stream on the Verilated RTL, driven through its registers by the driver.
    sim::RtlOptions o;
    o.threads = threads;
    o.cyclesPerWait = 1 << 16;
    auto backend = sim::makeSimRtlBackend(config, cs.dramBytes + (1 << 20), o);
    if (!backend) throw Error(backend.message());
    auto acc = driver::Accelerator::open(std::move(*backend), config);
    if (!acc) throw Error(acc.message());
    driver::DmaBuffer mem = (*acc)->allocate(cs.dramBytes);
    std::copy(initial.begin(), initial.end(), mem.host);
    double cpu = cpuSeconds();
    auto a = std::chrono::steady_clock::now();
    Expected<driver::RunResult> r = (*acc)->run(bytes, mem.deviceAddr, std::chrono::minutes(30));
    auto b = std::chrono::steady_clock::now();
    cpu = cpuSeconds() - cpu;
    if (!r) throw Error(shape.name + ": RTL: " + r.message());
    if (!std::equal(ref.dram().begin(), ref.dram().end(), mem.host))
      throw Error(shape.name + ": the RTL's bytes differ from the reference's");
    run.rtl.push_back({threads, r->counters.at("CYCLES"), seconds(a, b), cpu});
  }
#else
  if (!rtl_threads.empty())
    throw Error(
        "--rtl: this build has no Verilated RTL model (configure with Verilator installed)");
#endif
  return run;
}

void printLayer(const Config& config, const LayerRun& r) {
  const double ideal = r.shape.macs() / static_cast<double>(r.stats.macs_per_cycle);
  const double rate = static_cast<double>(r.stats.cycles) / r.sim_s;
  std::printf(
      "stream: ResNet-18 %s, conv %dx%d %dx%dx%d -> %d stride %d, config %s, %zu instructions\n",
      r.shape.name.c_str(), r.shape.k, r.shape.k, r.shape.h, r.shape.w, r.shape.cin, r.shape.cout,
      r.shape.stride, config.name().c_str(), r.insns);
  std::printf("%s\n", r.stats.report().c_str());
  std::printf("bytes identical to the reference: yes (cycle model%s)\n",
              r.rtl.empty() ? "" : " and RTL");
  std::printf("ideal cycles (MACs / %llu): %.0f; simulated %llu = %.3f x ideal\n",
              static_cast<unsigned long long>(r.stats.macs_per_cycle), ideal,
              static_cast<unsigned long long>(r.stats.cycles),
              static_cast<double>(r.stats.cycles) / ideal);
  std::printf("wall time: cycle model %.1f ms, functional reference %.1f ms (%.2f x)\n",
              r.sim_s * 1e3, r.ref_s * 1e3, r.sim_s / r.ref_s);
  std::printf("cycle model: %.2f M simulated cycles/s = %.2f x the 10 M cycles/s goal\n",
              rate / 1e6, rate / 1e7);
  const double cpu_rate = static_cast<double>(r.stats.cycles) / r.sim_cpu;
  std::printf("per CPU second: %.2f M = %.2f x the goal (cycle model %.1f ms of CPU)\n",
              cpu_rate / 1e6, cpu_rate / 1e7, r.sim_cpu * 1e3);
  for (const RtlRun& t : r.rtl) {
    const double rtl_rate = static_cast<double>(t.cycles) / t.seconds;
    std::printf(
        "RTL (Verilator -O3, %u thread%s): %llu cycles in %.2f s (%.2f s of CPU) = %.3f M "
        "cycles/s; cycle model %+.2f%% cycles, %.0f x faster\n",
        t.threads, t.threads == 1 ? "" : "s", static_cast<unsigned long long>(t.cycles), t.seconds,
        t.cpu, rtl_rate / 1e6,
        (static_cast<double>(r.stats.cycles) / static_cast<double>(t.cycles) - 1) * 100,
        rate / rtl_rate);
  }
  if (r.rtl.size() == 2)
    std::printf("RTL with --threads 2 vs 1 thread: %.2f x the speed\n",
                r.rtl[0].seconds / r.rtl[1].seconds);
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_name = "pynq-z1";
  int repeat = 3;
  bool rtl = false, rtl_threads = false, network = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rtl") == 0) rtl = true;
    if (std::strcmp(argv[i], "--rtl-threads") == 0) rtl = rtl_threads = true;
    if (std::strcmp(argv[i], "--network") == 0) network = true;
    if (i + 1 >= argc) continue;
    if (std::strcmp(argv[i], "--config") == 0) config_name = argv[i + 1];
    if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::max(1, std::atoi(argv[i + 1]));
  }
  try {
    Config config = Config::find(config_name).value();
    std::vector<unsigned> threads;
#if KILN_HAVE_SIM_RTL
    if (rtl) {
      threads.push_back(1);
      const auto mt = sim::rtlThreadedConfigs();
      if (rtl_threads && std::find(mt.begin(), mt.end(), config.name()) == mt.end())
        throw Error("--rtl-threads: this build has no two-thread RTL model of config " +
                    config.name());
      if (rtl_threads) threads.push_back(2);
    }
#else
    if (rtl) threads.push_back(1);  // runLayer says this build has none
#endif
    std::vector<bench::ConvShape> layers = bench::resnet18Convs();
    if (!network) {
      printLayer(config, runLayer(config, layers[1], repeat, threads));
      return 0;
    }

    std::printf(
        "ResNet-18's 20 convolutions, config %s (each run checked against the reference's "
        "bytes)\n\n",
        config.name().c_str());
    std::printf("%-22s %6s %12s %9s %10s", "layer", "insns", "model cyc", "x ideal", "model ms");
    for (unsigned t : threads)
      std::printf(" %12s %9s", ("RTL" + std::to_string(t) + "t cyc").c_str(),
                  ("RTL" + std::to_string(t) + "t s").c_str());
    std::printf("\n");
    double macs = 0, model_s = 0, ref_s = 0;
    uint64_t model_cycles = 0;
    std::vector<uint64_t> rtl_cycles(threads.size());
    std::vector<double> rtl_s(threads.size()), rtl_cpu(threads.size());
    for (const bench::ConvShape& shape : layers) {
      LayerRun r = runLayer(config, shape, repeat, threads);
      const double ideal = shape.macs() / static_cast<double>(r.stats.macs_per_cycle);
      std::printf("%-22s %6zu %12llu %9.3f %10.1f", shape.name.c_str(), r.insns,
                  static_cast<unsigned long long>(r.stats.cycles),
                  static_cast<double>(r.stats.cycles) / ideal, r.sim_s * 1e3);
      for (size_t i = 0; i < r.rtl.size(); ++i) {
        std::printf(" %12llu %9.2f %9.2f", static_cast<unsigned long long>(r.rtl[i].cycles),
                    r.rtl[i].seconds, r.rtl[i].cpu);
        rtl_cycles[i] += r.rtl[i].cycles;
        rtl_s[i] += r.rtl[i].seconds;
        rtl_cpu[i] += r.rtl[i].cpu;
      }
      std::printf("\n");
      std::fflush(stdout);
      macs += shape.macs();
      model_s += r.sim_s;
      ref_s += r.ref_s;
      model_cycles += r.stats.cycles;
    }
    const double ideal = macs / static_cast<double>(config.value("macs_per_cycle"));
    std::printf(
        "\ntotal: %.2f G MACs, ideal %.0f cycles; cycle model %llu cycles (%.3f x ideal, "
        "%.1f ms at %.0f MHz)\n",
        macs / 1e9, ideal, static_cast<unsigned long long>(model_cycles),
        static_cast<double>(model_cycles) / ideal,
        static_cast<double>(model_cycles) / static_cast<double>(config.value("clock_mhz")) / 1e3,
        static_cast<double>(config.value("clock_mhz")));
    std::printf("cycle model: %.2f s wall (%.1f M cycles/s), functional reference %.2f s\n",
                model_s, static_cast<double>(model_cycles) / model_s / 1e6, ref_s);
    for (size_t i = 0; i < threads.size(); ++i) {
      std::printf(
          "RTL, %u thread%s: %llu cycles (cycle model %+.3f%%) in %.1f s wall, %.1f s of CPU = "
          "%.3f M cycles per CPU second; per CPU time %.2f x the 60 s goal and %.1f x faster "
          "than VTA's 228 s; the cycle model is %.0f x faster\n",
          threads[i], threads[i] == 1 ? "" : "s", static_cast<unsigned long long>(rtl_cycles[i]),
          (static_cast<double>(model_cycles) / static_cast<double>(rtl_cycles[i]) - 1) * 100,
          rtl_s[i], rtl_cpu[i], static_cast<double>(rtl_cycles[i]) / rtl_cpu[i] / 1e6,
          rtl_cpu[i] / 60.0, 228.0 / rtl_cpu[i], rtl_s[i] / model_s);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln-sim-bench: %s\n", e.what());
    return 1;
  }
}
