// The one small interface every GPU device speaks: allocate, copy, build, launch, sync.
//
// Devices load their driver at run time (dlopen), so the runtime builds and runs on machines
// without it and says why a device cannot be opened: "opencl" through the ICD loader
// (libOpenCL.so.1: PoCL on a CPU, or any vendor's GPU), "cuda" through the driver API
// (libcuda.so.1) with kernels compiled by NVRTC (libnvrtc.so). A device compiles one module
// of source (OpenCL C or CUDA C) once and keeps its functions; a launch names a function,
// its grid (blocks) and block (threads per block) sizes and its buffer arguments.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kiln {

class Device {
 public:
  virtual ~Device() = default;
  virtual std::string kind() const = 0;         // "opencl" | "cuda"
  virtual std::string description() const = 0;  // the device and driver, for messages

  // Device memory: an opaque handle per buffer.
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* buffer) = 0;
  virtual void upload(void* buffer, const void* host, size_t bytes) = 0;
  virtual void download(void* host, void* buffer, size_t bytes) = 0;

  // Compiles the module's source (throws kiln::Error with the compiler's log) and returns a
  // handle to one of its functions.
  virtual void build(const std::string& source) = 0;
  virtual void* function(const std::string& name) = 0;
  virtual void launch(void* function, const std::array<int64_t, 3>& grid,
                      const std::array<int64_t, 3>& block, const std::vector<void*>& buffers) = 0;
  // Waits for everything launched so far.
  virtual void sync() = 0;

  // A recorded sequence of launches, replayed as one (CUDA graphs). Devices that cannot record
  // return false from beginRecording and the caller launches each time instead.
  virtual bool beginRecording() { return false; }
  virtual void endRecording() {}
  virtual void replay() {}
};

// Opens the first device of a kind ("opencl" or "cuda"); throws kiln::Error saying what is
// missing (no driver library, no device) and how to get it.
std::unique_ptr<Device> openDevice(const std::string& kind);
std::unique_ptr<Device> openOpenCLDevice();
std::unique_ptr<Device> openCudaDevice();

// CUDA C -> a cubin for sm_<arch> ("90") with NVRTC (PTX when NVRTC cannot emit cubins): what
// a CUDA device does when it builds a module, available without a GPU. Throws kiln::Error
// when NVRTC is missing or the source does not compile (with NVRTC's log).
std::string compileCudaSource(const std::string& source, const std::string& arch);

}  // namespace kiln
