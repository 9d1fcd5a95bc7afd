// Running a GPU package's steps on a Device (see gpu_executor.h).
#include "gpu_executor.h"

#include <chrono>
#include <cstdlib>

#include "kiln/runtime/error.h"

namespace kiln {

GpuExecutor::GpuExecutor(std::unique_ptr<Device> device, const std::string& source,
                         const std::vector<size_t>& slotBytes,
                         const std::vector<const void*>& constData, const std::vector<Step>& steps)
    : device_(std::move(device)), bytes_(slotBytes) {
  try {
    device_->build(source);
    for (size_t i = 0; i < slotBytes.size(); ++i) {
      buffers_.push_back(device_->allocate(slotBytes[i]));
      if (constData[i]) device_->upload(buffers_.back(), constData[i], slotBytes[i]);
    }
    for (const Step& s : steps) {
      std::vector<void*> args;
      for (size_t id : s.args) args.push_back(buffers_.at(id));
      for (int64_t w : s.workspaceBytes) {
        buffers_.push_back(device_->allocate(static_cast<size_t>(w)));
        args.push_back(buffers_.back());
      }
      for (const Launch& l : s.launches)
        launches_.push_back({l.function, device_->function(l.function), l.grid, l.block, args});
    }
    // The whole network as one recorded graph where the device can (KILN_NO_GRAPH=1: never).
    const char* noGraph = std::getenv("KILN_NO_GRAPH");
    if (!(noGraph && *noGraph == '1') && device_->beginRecording()) {
      launchAll();
      device_->endRecording();
      recorded_ = true;
    }
  } catch (...) {
    for (void* b : buffers_) device_->release(b);
    throw;
  }
}

GpuExecutor::~GpuExecutor() {
  device_->sync();
  for (void* b : buffers_) device_->release(b);
}

void GpuExecutor::launchAll() {
  for (const ReadyLaunch& l : launches_) device_->launch(l.function, l.grid, l.block, l.buffers);
}

void GpuExecutor::run(const std::vector<std::pair<size_t, const void*>>& inputs,
                      const std::vector<std::pair<size_t, void*>>& outputs) {
  for (const auto& [id, host] : inputs) device_->upload(buffers_.at(id), host, bytes_.at(id));
  if (recorded_)
    device_->replay();
  else
    launchAll();
  for (const auto& [id, host] : outputs) device_->download(host, buffers_.at(id), bytes_.at(id));
  device_->sync();
}

double GpuExecutor::timeResident(int n) {
  device_->sync();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    if (recorded_)
      device_->replay();
    else
      launchAll();
  }
  device_->sync();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
         std::max(n, 1);
}

std::vector<std::pair<std::string, double>> GpuExecutor::profileLaunches(int n) {
  std::vector<std::pair<std::string, double>> out;
  device_->sync();
  for (const ReadyLaunch& l : launches_) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) device_->launch(l.function, l.grid, l.block, l.buffers);
    device_->sync();
    out.emplace_back(
        l.name,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
            std::max(n, 1));
  }
  return out;
}

}  // namespace kiln
