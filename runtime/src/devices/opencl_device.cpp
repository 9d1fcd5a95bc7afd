// The OpenCL device: the ICD loader (libOpenCL.so.1) opened at run time, the first platform
// with a device (KILN_OPENCL_PLATFORM picks one by a part of its name), one context and one
// in-order queue. The module is built once; kernels are created once per function and kept.
// On this project's CI the platform is PoCL, OpenCL on the CPU.
#include <dlfcn.h>

#include <cstdlib>
#include <map>
#include <mutex>

#include "kiln/runtime/device.h"
#include "kiln/runtime/error.h"

#if __has_include(<CL/cl.h>)
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#define KILN_HAVE_CL_HEADERS 1
#endif

namespace kiln {

#ifndef KILN_HAVE_CL_HEADERS
std::unique_ptr<Device> openOpenCLDevice() {
  throw Error("opencl: this runtime was built without the OpenCL headers (opencl-headers)");
}
#else

namespace {

// The entry points Kiln uses, resolved from the ICD loader: listed once, declared and bound
// by applying X to each.
#define KILN_CL_FUNCTIONS(X)   \
  X(clGetPlatformIDs)          \
  X(clGetPlatformInfo)         \
  X(clGetDeviceIDs)            \
  X(clGetDeviceInfo)           \
  X(clCreateContext)           \
  X(clReleaseContext)          \
  X(clCreateCommandQueue)      \
  X(clReleaseCommandQueue)     \
  X(clCreateBuffer)            \
  X(clReleaseMemObject)        \
  X(clEnqueueWriteBuffer)      \
  X(clEnqueueReadBuffer)       \
  X(clCreateProgramWithSource) \
  X(clBuildProgram)            \
  X(clGetProgramBuildInfo)     \
  X(clReleaseProgram)          \
  X(clCreateKernel)            \
  X(clReleaseKernel)           \
  X(clSetKernelArg)            \
  X(clEnqueueNDRangeKernel)    \
  X(clFinish)

struct CLApi {
  void* lib = nullptr;
#define KILN_CL_FN(name) decltype(&::name) name = nullptr;
  KILN_CL_FUNCTIONS(KILN_CL_FN)
#undef KILN_CL_FN
};

const CLApi& api() {
  static CLApi a;
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    for (const char* name : {"libOpenCL.so.1", "libOpenCL.so"}) {
      a.lib = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (a.lib) break;
    }
    if (!a.lib) {
      failure =
          "opencl: cannot load the OpenCL ICD loader (libOpenCL.so.1): install ocl-icd and "
          "a driver (scripts/setup.sh installs PoCL, OpenCL on the CPU)";
      return;
    }
#define KILN_CL_FN(name)                                              \
  a.name = reinterpret_cast<decltype(a.name)>(::dlsym(a.lib, #name)); \
  if (!a.name && failure.empty()) failure = std::string("opencl: the ICD loader has no ") + #name;
    KILN_CL_FUNCTIONS(KILN_CL_FN)
#undef KILN_CL_FN
#undef KILN_CL_FUNCTIONS
  });
  if (!failure.empty()) throw Error(failure);
  return a;
}

void check(cl_int err, const std::string& what) {
  if (err != CL_SUCCESS)
    throw Error("opencl: " + what + " failed (error " + std::to_string(err) + ")");
}

std::string platformString(cl_platform_id p, cl_platform_info what) {
  size_t n = 0;
  api().clGetPlatformInfo(p, what, 0, nullptr, &n);
  std::string s(n, '\0');
  api().clGetPlatformInfo(p, what, n, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

std::string deviceString(cl_device_id d, cl_device_info what) {
  size_t n = 0;
  api().clGetDeviceInfo(d, what, 0, nullptr, &n);
  std::string s(n, '\0');
  api().clGetDeviceInfo(d, what, n, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

class OpenCLDevice : public Device {
 public:
  OpenCLDevice() {
    const CLApi& cl = api();
    cl_uint count = 0;
    if (cl.clGetPlatformIDs(0, nullptr, &count) != CL_SUCCESS || count == 0)
      throw Error(
          "opencl: no OpenCL platform is installed (install pocl-opencl-icd or a GPU "
          "vendor's driver)");
    std::vector<cl_platform_id> platforms(count);
    check(cl.clGetPlatformIDs(count, platforms.data(), nullptr), "clGetPlatformIDs");
    const char* want = std::getenv("KILN_OPENCL_PLATFORM");
    std::string names;
    for (cl_platform_id p : platforms) {
      const std::string name = platformString(p, CL_PLATFORM_NAME);
      names += (names.empty() ? "" : ", ") + name;
      if (want && name.find(want) == std::string::npos) continue;
      cl_uint nd = 0;
      if (cl.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 1, &device_, &nd) != CL_SUCCESS || nd == 0)
        continue;
      description_ = deviceString(device_, CL_DEVICE_NAME) + " (" + name + " " +
                     platformString(p, CL_PLATFORM_VERSION) + ")";
      break;
    }
    if (description_.empty())
      throw Error(std::string("opencl: no device found") +
                  (want ? " on a platform named like '" + std::string(want) + "'" : "") +
                  " (platforms: " + names + ")");
    cl_int err = CL_SUCCESS;
    context_ = cl.clCreateContext(nullptr, 1, &device_, nullptr, nullptr, &err);
    check(err, "clCreateContext");
    queue_ = cl.clCreateCommandQueue(context_, device_, 0, &err);
    check(err, "clCreateCommandQueue");
  }
  ~OpenCLDevice() override {
    const CLApi& cl = api();
    for (auto& [name, k] : kernels_) cl.clReleaseKernel(k);
    if (program_) cl.clReleaseProgram(program_);
    if (queue_) cl.clReleaseCommandQueue(queue_);
    if (context_) cl.clReleaseContext(context_);
  }

  std::string kind() const override { return "opencl"; }
  std::string description() const override { return description_; }

  void* allocate(size_t bytes) override {
    cl_int err = CL_SUCCESS;
    cl_mem m = api().clCreateBuffer(context_, CL_MEM_READ_WRITE, std::max<size_t>(bytes, 4),
                                    nullptr, &err);
    check(err, "allocating " + std::to_string(bytes) + " bytes");
    return m;
  }
  void release(void* buffer) override {
    if (buffer) api().clReleaseMemObject(static_cast<cl_mem>(buffer));
  }
  void upload(void* buffer, const void* host, size_t bytes) override {
    if (bytes == 0) return;
    check(api().clEnqueueWriteBuffer(queue_, static_cast<cl_mem>(buffer), CL_TRUE, 0, bytes, host,
                                     0, nullptr, nullptr),
          "writing a buffer");
  }
  void download(void* host, void* buffer, size_t bytes) override {
    if (bytes == 0) return;
    check(api().clEnqueueReadBuffer(queue_, static_cast<cl_mem>(buffer), CL_TRUE, 0, bytes, host, 0,
                                    nullptr, nullptr),
          "reading a buffer");
  }

  void build(const std::string& source) override {
    const CLApi& cl = api();
    if (program_) throw Error("opencl: a module is already built on this device");
    const char* text = source.c_str();
    const size_t len = source.size();
    cl_int err = CL_SUCCESS;
    program_ = cl.clCreateProgramWithSource(context_, 1, &text, &len, &err);
    check(err, "clCreateProgramWithSource");
    err = cl.clBuildProgram(program_, 1, &device_, "-cl-std=CL1.2", nullptr, nullptr);
    if (err != CL_SUCCESS) {
      size_t n = 0;
      cl.clGetProgramBuildInfo(program_, device_, CL_PROGRAM_BUILD_LOG, 0, nullptr, &n);
      std::string log(n, '\0');
      cl.clGetProgramBuildInfo(program_, device_, CL_PROGRAM_BUILD_LOG, n, log.data(), nullptr);
      throw Error("opencl: the kernels do not build on " + description_ + " (error " +
                  std::to_string(err) + "):\n" + log.substr(0, 4000));
    }
  }
  void* function(const std::string& name) override {
    if (!program_) throw Error("opencl: no module built");
    auto it = kernels_.find(name);
    if (it != kernels_.end()) return it->second;
    cl_int err = CL_SUCCESS;
    cl_kernel k = api().clCreateKernel(program_, name.c_str(), &err);
    check(err, "creating kernel '" + name + "'");
    return kernels_[name] = k;
  }
  void launch(void* function, const std::array<int64_t, 3>& grid,
              const std::array<int64_t, 3>& block, const std::vector<void*>& buffers) override {
    const CLApi& cl = api();
    cl_kernel k = static_cast<cl_kernel>(function);
    for (size_t i = 0; i < buffers.size(); ++i) {
      cl_mem m = static_cast<cl_mem>(buffers[i]);
      check(cl.clSetKernelArg(k, static_cast<cl_uint>(i), sizeof(cl_mem), &m), "clSetKernelArg");
    }
    size_t global[3], local[3];
    for (int d = 0; d < 3; ++d) {
      global[d] = static_cast<size_t>(grid[d] * block[d]);
      local[d] = static_cast<size_t>(block[d]);
    }
    check(cl.clEnqueueNDRangeKernel(queue_, k, 3, nullptr, global, local, 0, nullptr, nullptr),
          "launching a kernel");
  }
  void sync() override { check(api().clFinish(queue_), "clFinish"); }

 private:
  cl_device_id device_ = nullptr;
  cl_context context_ = nullptr;
  cl_command_queue queue_ = nullptr;
  cl_program program_ = nullptr;
  std::map<std::string, cl_kernel> kernels_;
  std::string description_;
};

}  // namespace

std::unique_ptr<Device> openOpenCLDevice() {
  return std::make_unique<OpenCLDevice>();
}
#endif

std::unique_ptr<Device> openDevice(const std::string& kind) {
  if (kind == "opencl") return openOpenCLDevice();
  if (kind == "cuda") return openCudaDevice();
  throw Error("unknown device '" + kind + "' (expected opencl or cuda)");
}

}  // namespace kiln
