// A compiled model package and its executor — what a deployment runs, with the runtime alone
// (no compiler, no LLVM).
//
// A package is a directory:
//   manifest.json  what to run: the target, the values (inputs, outputs, constants and the
//                  activations, each at an offset in one arena planned at compile time), the
//                  kernel calls in order, and the model's metadata (class labels, preprocessing)
//   params.bin     the constants, each 64-byte aligned, at the offsets the manifest gives
//   kernels.so     the kernels, for the package's CPU (target "llvm"), or
//   kernels.cl / kernels.cu  their OpenCL C / CUDA C source (targets "opencl", "cuda"), which
//                  the device compiles once when the package loads; each step then lists its
//                  launches (function, grid, block) and workspace sizes
// Package::load checks the manifest against the files and refuses a package for another CPU
// or a newer format, saying so; a GPU package opens its device (kiln/runtime/device.h) and
// says why when it cannot.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kiln/runtime/ndarray.h"

namespace kiln {

class GpuExecutor;

inline constexpr int kPackageFormatVersion = 1;

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
    KernelFn fn;
    std::vector<size_t> args;
  };

  std::vector<Slot> slots_;
  std::vector<size_t> inputIds_, outputIds_;
  std::vector<PackageTensor> inputs_, outputs_;
  std::vector<Step> steps_;
  std::map<std::string, std::string> metadata_;
  std::string target_;
  NDArray params_, arena_;
  size_t arenaBytes_ = 0;
  void* library_ = nullptr;
  std::string deviceKind_ = "cpu";
  std::unique_ptr<GpuExecutor> gpu_;
};

}  // namespace kiln
