// The LLVM CPU back end, just-in-time: loop-IR kernels -> one LLVM module -> native code
// for the host CPU (its own vector features, e.g. AVX2 / AVX-512) through ORC LLJIT.
//
// Every kernel becomes a function `void name(void** args)` taking one pointer per kernel
// parameter, in order. Parallel loops are outlined and run through the runtime's thread
// pool (kiln_parallel_for). This header carries no LLVM types.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "kiln/tir/kernel.h"

namespace kiln::codegen {

using KernelFn = void (*)(void** args);

struct JitOptions {
  std::ostream* dumpLLVM = nullptr;  // the optimized LLVM IR of the whole module
  int optLevel = 3;                  // 0..3
};

class LLVMJit {
 public:
  // Compiles the kernels into one module; throws kiln::Error on a kernel the back end
  // cannot translate or when LLVM fails.
  static std::unique_ptr<LLVMJit> compile(const std::vector<tir::Kernel>& kernels,
                                          const JitOptions& options = {});
  virtual ~LLVMJit() = default;
  // The entry point of a compiled kernel; throws kiln::Error for an unknown name.
  virtual KernelFn lookup(const std::string& name) = 0;
  // "x86-64 znver3 (+avx2,+fma,...)" : what the code was compiled for.
  virtual std::string targetDescription() const = 0;
};

}  // namespace kiln::codegen
