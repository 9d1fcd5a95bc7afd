// Loop IR -> C source for GPUs, one generator with two small dialects: OpenCL C and CUDA C.
//
// A lowered kernel becomes one or more device functions ("launches"): the storage a kernel
// allocates at its root (an intermediate stage such as a convolution's padded input) becomes
// a global workspace buffer, and each root-level loop nest becomes its own launch, since the
// next nest may read what any thread of this one wrote. Loops bound to blockIdx/threadIdx
// (schedule bind) become the launch's grid and block sizes; a nest with no bound loop runs
// as one thread (correct, slow: GPU schedules bind every stage). Every launch of a kernel takes
// the same parameters: the kernel's buffers in order, then its workspaces.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/tir/kernel.h"

namespace kiln::codegen {

enum class CDialect { OpenCL, CUDA };
const char* dialectName(CDialect d);  // "opencl" | "cuda"

struct GpuLaunch {
  std::string function;
  std::array<int64_t, 3> grid{1, 1, 1};   // blocks (work-groups) along x, y, z
  std::array<int64_t, 3> block{1, 1, 1};  // threads (work-items) per block
};

struct GpuKernel {
  std::string name;
  size_t params = 0;                    // the kernel's own buffers
  std::vector<int64_t> workspaceBytes;  // then these, allocated by the runtime
  std::vector<GpuLaunch> launches;      // run in order
};

struct GpuModule {
  CDialect dialect;
  std::string source;  // every kernel's functions, one translation unit
  std::vector<GpuKernel> kernels;
};

// Throws kiln::Error naming the kernel for what the dialect cannot express (a "fragment"
// binding, an f16 buffer, a thread block larger than 1024).
GpuModule emitC(const std::vector<tir::Kernel>& kernels, CDialect dialect);

}  // namespace kiln::codegen
