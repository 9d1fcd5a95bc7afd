// A compiled model package and its executor — what a deployment runs, with the runtime alone
// (no compiler, no LLVM).
//
// A package is a directory:
//   manifest.json  what to run: the target, the values (inputs, outputs, constants and the
//                  activations, each at an offset in one arena planned at compile time), the
//                  kernel calls in order, and the model's metadata (class labels, preprocessing)
//   params.bin     the constants, each 64-byte aligned, at the offsets the manifest gives
//   kernels.so     the kernels, for the package's CPU (target "llvm", and the host part of
//                  target "accel")
//   kernels.cl / kernels.cu  their OpenCL C / CUDA C source (targets "opencl", "cuda"), which
//                  the device compiles once when the package loads; each step then lists its
//                  launches (function, grid, block) and workspace sizes
//   accel/N.insn   target "accel": the instruction stream of each device step, and
//   accel/N.bin    its constants (weights, biases, requantization factors, micro-ops) laid
//                  out in the step's device memory; config.yaml, the accelerator config
// A package for the accelerator runs through the driver interface (kiln/driver) alone: the
// host attaches a back end (a simulator or a board), which must report the package's
// config hash.
// Package::load checks the manifest against the files and refuses a package for another CPU
// or a newer format, saying so; a GPU package opens its device (kiln/runtime/device.h) and
// says why when it cannot.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kiln/runtime/ndarray.h"

namespace kiln::accel {
class Config;
}
#include <nlohmann/json_fwd.hpp>
namespace kiln::driver {
class Backend;
class Accelerator;
struct DmaBuffer;
}  // namespace kiln::driver

namespace kiln {

class GpuExecutor;

inline constexpr int kPackageFormatVersion = 1;

// What one step of the last run did (for `kiln profile`).
struct StepProfile {
  std::string node, op, device;  // device: "cpu" or "accel"
  double wallMs = 0;
  uint64_t macs = 0;                         // accel steps: the operator's MACs
  std::map<std::string, uint64_t> counters;  // accel steps: the device's counters
};

struct PackageTensor {
  std::string name;
  DType dtype;
  Shape shape;
};

class Package {
 public:
  static Expected<std::unique_ptr<Package>> load(const std::string& dir);
  ~Package();

  const std::vector<PackageTensor>& inputs() const { return inputs_; }
  const std::vector<PackageTensor>& outputs() const { return outputs_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::string target() const { return target_; }
  // "cpu", "opencl" or "cuda": where the kernels run.
  std::string deviceKind() const { return deviceKind_; }
  size_t kernelCount() const { return steps_.size(); }
  size_t arenaBytes() const { return arenaBytes_; }

  // Inputs by name; returns the outputs in order. Throws kiln::Error for a missing input or
  // one of the wrong dtype or shape.
  std::vector<NDArray> run(const std::map<std::string, NDArray>& inputs);
  // GPU packages: runs the network n times on the inputs of the last run(), already on the
  // device, and returns milliseconds per run (no copies; a CUDA package replays its graph).
  // Throws kiln::Error for a CPU package.
  double timeOnDevice(int n);
  // GPU packages: every kernel launch timed on its own (n back-to-back launches, then a wait),
  // in milliseconds per launch, in run order. Throws kiln::Error for a CPU package.
  std::vector<std::pair<std::string, double>> profileOnDevice(int n);

  // Target "accel": the config it was compiled for (null for other targets), its device
  // steps, and the device to run them on. attachAccelerator fails, saying what differs, when
  // the hardware behind `backend` is not that config; run() without one says to choose one.
  const accel::Config* accelConfig() const { return accelConfig_.get(); }
  size_t accelStepCount() const { return accelSteps_.size(); }
  void attachAccelerator(std::unique_ptr<driver::Backend> backend);
  // Device memory all device steps need (for sizing a simulator's DRAM).
  size_t accelMemoryBytes() const;
  void setAccelTimeout(std::chrono::milliseconds t) { accelTimeout_ = t; }
  // Per step of the last run: wall time, and for device steps the performance counters.
  const std::vector<StepProfile>& lastProfile() const { return profile_; }

 private:
  Package() = default;
  friend struct GpuPackageLoader;  // package.cpp: the GPU half of load()
  enum class Storage { kInput, kConst, kArena };
  struct Slot {
    PackageTensor tensor;
    Storage storage;
    size_t offset = 0;
    size_t bytes = 0;
  };
  using KernelFn = void (*)(void** args);
  struct Step {
    KernelFn fn = nullptr;
    std::vector<size_t> args;
    int accel = -1;  // index into accelSteps_
    std::string node, op;
  };
  struct AccelIo {
    size_t value = 0;
    size_t offset = 0;
    int64_t batch = 1, block = 1;
  };
  struct AccelStep {
    std::vector<uint8_t> stream, image;
    std::vector<AccelIo> inputs;
    AccelIo output;
    uint64_t macs = 0;
    size_t offset = 0;               // where its memory lies in the device buffer
    std::vector<uint8_t> relocated;  // the stream, addressing that memory
  };
  void runAccelStep(const AccelStep& a, const std::vector<void*>& ptr, StepProfile& prof);
  Step loadAccelStep(const std::filesystem::path& dir, const nlohmann::json& step);

  std::vector<Slot> slots_;
  std::vector<size_t> inputIds_, outputIds_;
  std::vector<PackageTensor> inputs_, outputs_;
  std::vector<Step> steps_;
  std::map<std::string, std::string> metadata_;
  std::string target_;
  NDArray params_, arena_;
  size_t arenaBytes_ = 0;
  void* library_ = nullptr;
  std::shared_ptr<accel::Config> accelConfig_;
  std::vector<AccelStep> accelSteps_;
  std::shared_ptr<driver::Accelerator> accelerator_;
  std::vector<std::shared_ptr<driver::DmaBuffer>> accelBuffers_;
  std::chrono::milliseconds accelTimeout_{60000};
  std::vector<StepProfile> profile_;
  std::string deviceKind_ = "cpu";
  std::unique_ptr<GpuExecutor> gpu_;
};

}  // namespace kiln
