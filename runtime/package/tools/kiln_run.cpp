// kiln-run: runs a compiled model package with the runtime alone — the program a board runs.
//   kiln-run PACKAGE_DIR --input x.npy [--output y.npy] [--repeat N] [--device-time N]
//            [--device board --board B.yaml | --device sim-func]
// An accelerator package runs on the device named: on a board, --device board (its FPGA,
// through /dev/mem and u-dma-buf, as the board file describes); anywhere, --device sim-func
// (the driver's functional reference). kiln-rpc attaches its device the same way.
// --device-time N (GPU packages): after the runs, time N more runs on the inputs already on
// the device (no copies; a CUDA package replays its graph), as GPU benchmarks measure.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <sstream>

#include "kiln/runtime/accel_device.h"
#include "kiln/runtime/npy.h"
#include "kiln/runtime/package.h"

int main(int argc, char** argv) {
  CLI::App app{
      "kiln-run: run a compiled Kiln package (kiln compile ... -o DIR) with the runtime alone"};
  std::string dir;
  std::vector<std::string> inputs, outputs;
  int repeat = 1, deviceRuns = 0, profileRuns = 0;
  app.add_option("package", dir, "Package directory")->required();
  app.add_option("-i,--input", inputs, "Input tensors (.npy), in the package's input order")
      ->required();
  app.add_option("-o,--output", outputs, "Write output tensors (.npy), in order");
  app.add_option("--repeat", repeat, "Run N times and report the median time")
      ->check(CLI::Range(1, 100000));
  app.add_option("--device-time", deviceRuns,
                 "GPU packages: time N runs on inputs already on the device (no copies)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--profile", profileRuns,
                 "GPU packages: time every kernel launch on its own (N launches each) and list "
                 "them, slowest first")
      ->check(CLI::Range(1, 100000));
  kiln::AccelDevice device;
  device.addOptions(app);
  CLI11_PARSE(app, argc, argv);
  try {
    device.open();
    auto pkg = kiln::Package::load(dir);
    if (!pkg) throw pkg.error();
    kiln::Package& p = **pkg;
    const std::string on = device.attach(p);
    if (inputs.size() != p.inputs().size())
      throw kiln::Error("the package has " + std::to_string(p.inputs().size()) + " input(s), got " +
                        std::to_string(inputs.size()));
    std::map<std::string, kiln::NDArray> feeds;
    for (size_t i = 0; i < inputs.size(); ++i) feeds[p.inputs()[i].name] = kiln::readNpy(inputs[i]);
    std::vector<double> times;
    std::vector<kiln::NDArray> outs;
    for (int r = 0; r < repeat; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      outs = p.run(feeds);
      times.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    std::cout << "package  " << dir << " (" << p.target() << ", " << p.kernelCount()
              << " kernels)\n";
    if (p.accelConfig())
      std::cout << "device   " << on << " (" << p.accelStepCount()
                << " steps on the accelerator)\n";
    std::cout << "time     " << std::fixed << std::setprecision(2) << times[times.size() / 2]
              << " ms\n";
    if (deviceRuns > 0)
      std::cout << "device   " << std::setprecision(3) << p.timeOnDevice(deviceRuns)
                << " ms per run (mean of " << deviceRuns << ", inputs on the device)\n";
    if (profileRuns > 0) {
      auto prof = p.profileOnDevice(profileRuns);
      double sum = 0;
      for (const auto& [name, ms] : prof) sum += ms;
      std::sort(prof.begin(), prof.end(),
                [](const auto& a, const auto& b) { return a.second > b.second; });
      std::cout << "profile  " << prof.size() << " launches, " << std::setprecision(3) << sum
                << " ms in all (each launched alone)\n";
      for (const auto& [name, ms] : prof)
        std::cout << "  " << std::setw(9) << std::setprecision(4) << ms << " ms  " << std::setw(5)
                  << std::setprecision(1) << 100 * ms / sum << "%  " << name << "\n";
    }
    std::vector<std::string> labels;
    if (auto it = p.metadata().find("labels"); it != p.metadata().end()) {
      std::stringstream ss(it->second);
      for (std::string l; std::getline(ss, l);) labels.push_back(l);
    }
    for (size_t k = 0; k < outs.size(); ++k) {
      const kiln::NDArray& y = outs[k];
      std::cout << "output   " << p.outputs()[k].name << " " << kiln::dtypeName(y.dtype())
                << kiln::shapeStr(y.shape()) << "\n";
      const int64_t classes = y.shape().empty() ? 0 : y.shape().back();
      if (y.dtype() == kiln::DType::F32 && classes > 1 && y.numel() == classes) {
        std::vector<int64_t> idx(static_cast<size_t>(classes));
        std::iota(idx.begin(), idx.end(), 0);
        const float* v = y.data<float>();
        const int top = static_cast<int>(std::min<int64_t>(5, classes));
        std::partial_sort(idx.begin(), idx.begin() + top, idx.end(),
                          [&](int64_t a, int64_t b) { return v[a] > v[b]; });
        for (int t = 0; t < top; ++t)
          std::cout << "  #" << t + 1 << "  " << std::setw(5) << idx[t] << "  "
                    << std::setprecision(5) << std::setw(10) << v[idx[t]]
                    << (static_cast<int64_t>(labels.size()) == classes ? "  " + labels[idx[t]] : "")
                    << "\n";
      }
      if (k < outputs.size()) kiln::writeNpy(outputs[k], y);
    }
    return 0;
  } catch (const kiln::Error& e) {
    std::cerr << "kiln-run: error: " << e.what() << "\n";
    return 1;
  }
}
