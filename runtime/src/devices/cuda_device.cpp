// The CUDA device: the driver API (libcuda.so.1) and NVRTC (libnvrtc.so) opened at run time,
// so Kiln builds without the CUDA toolkit and runs where there is no GPU (openCudaDevice then
// says why). The module is compiled by NVRTC for the device's architecture (a cubin; PTX when
// the NVRTC is too old to emit one) once, when a package loads; the cubin is kept in
// $KILN_CACHE_DIR (default ~/.cache/kiln) by a hash of source and architecture, so the next
// load skips NVRTC. Launches go to one stream; recording captures that stream into a CUDA
// graph, and replay launches the whole graph at once.
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>

#include "kiln/runtime/device.h"
#include "kiln/runtime/error.h"

namespace kiln {

namespace {

// The few driver API and NVRTC declarations Kiln needs (their ABI has been stable since CUDA
// 11); declared here so that building needs no CUDA headers.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;
using CUstream = struct CUstream_st*;
using CUgraph = struct CUgraph_st*;
using CUgraphExec = struct CUgraphExec_st*;
using nvrtcProgram = struct _nvrtcProgram*;
constexpr int kAttrCcMajor = 75, kAttrCcMinor = 76;
constexpr int kCaptureModeGlobal = 0;

struct CudaApi {
  void* cuda = nullptr;
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int*);
  CUresult (*cuDeviceGet)(CUdevice*, int);
  CUresult (*cuDeviceGetName)(char*, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int*, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext*, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease_v2)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuDriverGetVersion)(int*);
  CUresult (*cuMemAlloc_v2)(CUdeviceptr*, size_t);
  CUresult (*cuMemFree_v2)(CUdeviceptr);
  CUresult (*cuMemcpyHtoD_v2)(CUdeviceptr, const void*, size_t);
  CUresult (*cuMemcpyDtoH_v2)(void*, CUdeviceptr, size_t);
  CUresult (*cuModuleLoadData)(CUmodule*, const void*);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction*, CUmodule, const char*);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             unsigned, CUstream, void**, void**);
  CUresult (*cuStreamCreate)(CUstream*, unsigned);
  CUresult (*cuStreamDestroy_v2)(CUstream);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuStreamBeginCapture_v2)(CUstream, int);
  CUresult (*cuStreamEndCapture)(CUstream, CUgraph*);
  CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec*, CUgraph, unsigned long long);
  CUresult (*cuGraphLaunch)(CUgraphExec, CUstream);
  CUresult (*cuGraphDestroy)(CUgraph);
  CUresult (*cuGraphExecDestroy)(CUgraphExec);
  CUresult (*cuGetErrorString)(CUresult, const char**);
};

struct NvrtcApi {
  void* nvrtc = nullptr;
  int (*nvrtcVersion)(int*, int*);
  int (*nvrtcCreateProgram)(nvrtcProgram*, const char*, const char*, int, const char* const*,
                            const char* const*);
  int (*nvrtcCompileProgram)(nvrtcProgram, int, const char* const*);
  int (*nvrtcGetProgramLogSize)(nvrtcProgram, size_t*);
  int (*nvrtcGetProgramLog)(nvrtcProgram, char*);
  int (*nvrtcGetCUBINSize)(nvrtcProgram, size_t*);  // may be missing (NVRTC < 11.1)
  int (*nvrtcGetCUBIN)(nvrtcProgram, char*);
  int (*nvrtcGetPTXSize)(nvrtcProgram, size_t*);
  int (*nvrtcGetPTX)(nvrtcProgram, char*);
  int (*nvrtcDestroyProgram)(nvrtcProgram*);
  const char* (*nvrtcGetErrorString)(int);
};

void* openFirst(const std::vector<std::string>& names) {
  for (const std::string& n : names)
    if (void* h = ::dlopen(n.c_str(), RTLD_NOW | RTLD_LOCAL)) return h;
  return nullptr;
}

template <typename Fn>
void bindSymbol(void* lib, const char* name, Fn& fn, bool required, std::string* failure) {
  fn = reinterpret_cast<Fn>(::dlsym(lib, name));
  if (!fn && required && failure->empty())
    *failure = std::string("cuda: ") + name + " is missing from the driver or NVRTC (too old?)";
}

const CudaApi& api() {
  static CudaApi a{};
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    a.cuda = openFirst({"libcuda.so.1", "libcuda.so"});
    if (!a.cuda) {
      failure = "cuda: no CUDA driver on this machine (libcuda.so.1 not found)";
      return;
    }
#define KILN_CU(name) bindSymbol(a.cuda, #name, a.name, true, &failure);
    KILN_CU(cuInit)
    KILN_CU(cuDeviceGetCount)
    KILN_CU(cuDeviceGet)
    KILN_CU(cuDeviceGetName)
    KILN_CU(cuDeviceGetAttribute)
    KILN_CU(cuDevicePrimaryCtxRetain)
    KILN_CU(cuDevicePrimaryCtxRelease_v2)
    KILN_CU(cuCtxSetCurrent)
    KILN_CU(cuDriverGetVersion)
    KILN_CU(cuMemAlloc_v2)
    KILN_CU(cuMemFree_v2)
    KILN_CU(cuMemcpyHtoD_v2)
    KILN_CU(cuMemcpyDtoH_v2)
    KILN_CU(cuModuleLoadData)
    KILN_CU(cuModuleUnload)
    KILN_CU(cuModuleGetFunction)
    KILN_CU(cuLaunchKernel)
    KILN_CU(cuStreamCreate)
    KILN_CU(cuStreamDestroy_v2)
    KILN_CU(cuStreamSynchronize)
    KILN_CU(cuStreamBeginCapture_v2)
    KILN_CU(cuStreamEndCapture)
    KILN_CU(cuGraphInstantiateWithFlags)
    KILN_CU(cuGraphLaunch)
    KILN_CU(cuGraphDestroy)
    KILN_CU(cuGraphExecDestroy)
    KILN_CU(cuGetErrorString)
#undef KILN_CU
  });
  if (!failure.empty()) throw Error(failure);
  return a;
}

const NvrtcApi& nvrtc() {
  static NvrtcApi a{};
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    std::vector<std::string> names;
    if (const char* env = std::getenv("KILN_NVRTC")) names.push_back(env);
    for (const char* n : {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2",
                          "/usr/local/cuda/lib64/libnvrtc.so"})
      names.push_back(n);
    a.nvrtc = openFirst(names);
    if (!a.nvrtc) {
      failure =
          "cuda: NVRTC (libnvrtc.so) not found; install the CUDA toolkit's NVRTC or point "
          "KILN_NVRTC at it";
      return;
    }
#define KILN_NV(name, required) bindSymbol(a.nvrtc, #name, a.name, required, &failure);
    KILN_NV(nvrtcVersion, true)
    KILN_NV(nvrtcCreateProgram, true)
    KILN_NV(nvrtcCompileProgram, true)
    KILN_NV(nvrtcGetProgramLogSize, true)
    KILN_NV(nvrtcGetProgramLog, true)
    KILN_NV(nvrtcGetCUBINSize, false)
    KILN_NV(nvrtcGetCUBIN, false)
    KILN_NV(nvrtcGetPTXSize, true)
    KILN_NV(nvrtcGetPTX, true)
    KILN_NV(nvrtcDestroyProgram, true)
    KILN_NV(nvrtcGetErrorString, true)
#undef KILN_NV
  });
  if (!failure.empty()) throw Error(failure);
  return a;
}

void check(CUresult r, const std::string& what) {
  if (r == 0) return;
  const char* s = nullptr;
  api().cuGetErrorString(r, &s);
  throw Error("cuda: " + what + " failed: " + (s ? s : "error " + std::to_string(r)));
}

std::filesystem::path cacheDir() {
  if (const char* d = std::getenv("KILN_CACHE_DIR")) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME")) return std::filesystem::path(x) / "kiln";
  if (const char* h = std::getenv("HOME")) return std::filesystem::path(h) / ".cache" / "kiln";
  return {};
}

class CudaDevice : public Device {
 public:
  CudaDevice() {
    const CudaApi& cu = api();
    CUresult r = cu.cuInit(0);
    if (r != 0) {
      const char* s = nullptr;
      cu.cuGetErrorString(r, &s);
      throw Error(std::string("cuda: the driver does not start (") + (s ? s : "?") +
                  "): no usable GPU on this machine");
    }
    int count = 0;
    check(cu.cuDeviceGetCount(&count), "cuDeviceGetCount");
    if (count == 0) throw Error("cuda: the driver sees no GPU");
    check(cu.cuDeviceGet(&device_, 0), "cuDeviceGet");
    char name[256] = {};
    cu.cuDeviceGetName(name, sizeof(name), device_);
    check(cu.cuDeviceGetAttribute(&ccMajor_, kAttrCcMajor, device_), "compute capability");
    check(cu.cuDeviceGetAttribute(&ccMinor_, kAttrCcMinor, device_), "compute capability");
    check(cu.cuDevicePrimaryCtxRetain(&context_, device_), "cuDevicePrimaryCtxRetain");
    check(cu.cuCtxSetCurrent(context_), "cuCtxSetCurrent");
    check(cu.cuStreamCreate(&stream_, 0), "cuStreamCreate");
    int driver = 0, nvMajor = 0, nvMinor = 0;
    cu.cuDriverGetVersion(&driver);
    nvrtc().nvrtcVersion(&nvMajor, &nvMinor);
    std::ostringstream d;
    d << name << " (sm_" << ccMajor_ << ccMinor_ << ", driver " << driver / 1000 << "."
      << driver % 1000 / 10 << ", NVRTC " << nvMajor << "." << nvMinor << ")";
    description_ = d.str();
  }
  ~CudaDevice() override {
    const CudaApi& cu = api();
    cu.cuCtxSetCurrent(context_);
    if (exec_) cu.cuGraphExecDestroy(exec_);
    if (graph_) cu.cuGraphDestroy(graph_);
    if (module_) cu.cuModuleUnload(module_);
    if (stream_) cu.cuStreamDestroy_v2(stream_);
    cu.cuDevicePrimaryCtxRelease_v2(device_);
  }

  std::string kind() const override { return "cuda"; }
  std::string description() const override { return description_; }

  void* allocate(size_t bytes) override {
    CUdeviceptr p = 0;
    check(api().cuMemAlloc_v2(&p, std::max<size_t>(bytes, 4)),
          "allocating " + std::to_string(bytes) + " bytes");
    return reinterpret_cast<void*>(p);
  }
  void release(void* buffer) override {
    if (buffer) api().cuMemFree_v2(reinterpret_cast<CUdeviceptr>(buffer));
  }
  void upload(void* buffer, const void* host, size_t bytes) override {
    if (bytes)
      check(api().cuMemcpyHtoD_v2(reinterpret_cast<CUdeviceptr>(buffer), host, bytes),
            "copying to the GPU");
  }
  void download(void* host, void* buffer, size_t bytes) override {
    sync();
    if (bytes)
      check(api().cuMemcpyDtoH_v2(host, reinterpret_cast<CUdeviceptr>(buffer), bytes),
            "copying from the GPU");
  }

  void build(const std::string& source) override {
    if (module_) throw Error("cuda: a module is already built on this device");
    const std::string arch = std::to_string(ccMajor_) + std::to_string(ccMinor_);
    // The cache key: the source and the architecture.
    const size_t key = std::hash<std::string>()(source + "|sm_" + arch + "|" + description_);
    std::filesystem::path cached;
    if (!cacheDir().empty()) {
      std::ostringstream f;
      f << std::hex << key << ".sm_" << arch << ".bin";
      cached = cacheDir() / f.str();
      std::ifstream in(cached, std::ios::binary);
      if (in) {
        std::string image((std::istreambuf_iterator<char>(in)), {});
        if (api().cuModuleLoadData(&module_, image.data()) == 0) return;
        module_ = nullptr;  // stale or corrupt: compile again
      }
    }
    std::string image = compileCudaSource(source, arch);
    check(api().cuModuleLoadData(&module_, image.data()), "loading the compiled kernels");
    if (!cached.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(cached.parent_path(), ec);
      std::ofstream out(cached, std::ios::binary);
      out.write(image.data(), static_cast<std::streamsize>(image.size()));
    }
  }
  void* function(const std::string& name) override {
    if (!module_) throw Error("cuda: no module built");
    auto it = functions_.find(name);
    if (it != functions_.end()) return it->second;
    CUfunction f = nullptr;
    check(api().cuModuleGetFunction(&f, module_, name.c_str()), "finding kernel '" + name + "'");
    return functions_[name] = f;
  }
  void launch(void* function, const std::array<int64_t, 3>& grid,
              const std::array<int64_t, 3>& block, const std::vector<void*>& buffers) override {
    std::vector<CUdeviceptr> ptrs(buffers.size());
    std::vector<void*> params(buffers.size());
    for (size_t i = 0; i < buffers.size(); ++i) {
      ptrs[i] = reinterpret_cast<CUdeviceptr>(buffers[i]);
      params[i] = &ptrs[i];
    }
    check(api().cuLaunchKernel(static_cast<CUfunction>(function), static_cast<unsigned>(grid[0]),
                               static_cast<unsigned>(grid[1]), static_cast<unsigned>(grid[2]),
                               static_cast<unsigned>(block[0]), static_cast<unsigned>(block[1]),
                               static_cast<unsigned>(block[2]), 0, stream_, params.data(), nullptr),
          "launching a kernel");
  }
  void sync() override { check(api().cuStreamSynchronize(stream_), "cuStreamSynchronize"); }

  bool beginRecording() override {
    check(api().cuStreamBeginCapture_v2(stream_, kCaptureModeGlobal), "starting graph capture");
    return true;
  }
  void endRecording() override {
    check(api().cuStreamEndCapture(stream_, &graph_), "ending graph capture");
    check(api().cuGraphInstantiateWithFlags(&exec_, graph_, 0), "instantiating the CUDA graph");
  }
  void replay() override { check(api().cuGraphLaunch(exec_, stream_), "launching the CUDA graph"); }

 private:
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  CUstream stream_ = nullptr;
  CUmodule module_ = nullptr;
  CUgraph graph_ = nullptr;
  CUgraphExec exec_ = nullptr;
  std::map<std::string, CUfunction> functions_;
  int ccMajor_ = 0, ccMinor_ = 0;
  std::string description_;
};

}  // namespace

std::string compileCudaSource(const std::string& source, const std::string& arch) {
  const NvrtcApi& cu = nvrtc();
  nvrtcProgram prog = nullptr;
  if (int r = cu.nvrtcCreateProgram(&prog, source.c_str(), "kiln_kernels.cu", 0, nullptr, nullptr))
    throw Error(std::string("cuda: nvrtcCreateProgram: ") + cu.nvrtcGetErrorString(r));
  const bool cubin = cu.nvrtcGetCUBIN && cu.nvrtcGetCUBINSize;
  const std::string archOpt =
      std::string("--gpu-architecture=") + (cubin ? "sm_" : "compute_") + arch;
  const char* opts[] = {archOpt.c_str(), "--std=c++17"};
  const int r = cu.nvrtcCompileProgram(prog, 2, opts);
  if (r != 0) {
    size_t n = 0;
    cu.nvrtcGetProgramLogSize(prog, &n);
    std::string log(n, '\0');
    cu.nvrtcGetProgramLog(prog, log.data());
    cu.nvrtcDestroyProgram(&prog);
    throw Error(std::string("cuda: NVRTC cannot compile the kernels for sm_") + arch + " (" +
                cu.nvrtcGetErrorString(r) + "):\n" + log.substr(0, 4000));
  }
  size_t n = 0;
  std::string image;
  if (cubin) {
    cu.nvrtcGetCUBINSize(prog, &n);
    image.resize(n);
    cu.nvrtcGetCUBIN(prog, image.data());
  } else {
    cu.nvrtcGetPTXSize(prog, &n);
    image.resize(n);
    cu.nvrtcGetPTX(prog, image.data());
  }
  cu.nvrtcDestroyProgram(&prog);
  return image;
}

std::unique_ptr<Device> openCudaDevice() {
  return std::make_unique<CudaDevice>();
}

}  // namespace kiln
