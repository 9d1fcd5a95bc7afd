// Internal to the package loader: runs a GPU package's steps on a Device. Every value gets its
// own device buffer (constants uploaded once, at load), every step its workspaces; the module
// is built once and every launch's function looked up once, at load. On a device that can
// record (CUDA), the whole network is captured once into a graph and each run replays it.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "kiln/runtime/device.h"

namespace kiln {

class GpuExecutor {
 public:
  struct Launch {
    std::string function;
    std::array<int64_t, 3> grid, block;
  };
  struct Step {
    std::vector<size_t> args;  // value ids
    std::vector<int64_t> workspaceBytes;
    std::vector<Launch> launches;
  };
  // slotBytes[i]: the size of value i; constData[i]: its constant contents, or null.
  GpuExecutor(std::unique_ptr<Device> device, const std::string& source,
              const std::vector<size_t>& slotBytes, const std::vector<const void*>& constData,
              const std::vector<Step>& steps);
  ~GpuExecutor();
  GpuExecutor(const GpuExecutor&) = delete;
  GpuExecutor& operator=(const GpuExecutor&) = delete;

  // Copies the inputs in, runs the network, copies the outputs out.
  void run(const std::vector<std::pair<size_t, const void*>>& inputs,
           const std::vector<std::pair<size_t, void*>>& outputs);
  // Runs the network n times on the inputs already on the device; milliseconds per run.
  double timeResident(int n);
  // Each launch on its own (launch, wait), n times: mean milliseconds per function, in order.
  std::vector<std::pair<std::string, double>> profileLaunches(int n);
  const Device& device() const { return *device_; }
  bool recorded() const { return recorded_; }

 private:
  void launchAll();
  struct ReadyLaunch {
    std::string name;
    void* function;
    std::array<int64_t, 3> grid, block;
    std::vector<void*> buffers;
  };
  std::unique_ptr<Device> device_;
  std::vector<void*> buffers_;  // per value, then the workspaces
  std::vector<size_t> bytes_;
  std::vector<ReadyLaunch> launches_;
  bool recorded_ = false;
};

}  // namespace kiln
