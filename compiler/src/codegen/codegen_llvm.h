// Internal: loop IR -> LLVM IR (codegen_llvm.cpp), used by the JIT (llvm_jit.cpp) and by
// ahead-of-time object emission (llvm_aot.cpp).
#pragma once

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <vector>

#include "kiln/tir/kernel.h"

namespace kiln::codegen {

// One function per kernel, `void name(ptr args)`, in a module laid out for `tm`.
std::unique_ptr<llvm::Module> emitModule(llvm::LLVMContext& ctx,
                                         const std::vector<tir::Kernel>& kernels,
                                         llvm::TargetMachine& tm);

// LLVM's standard optimisation pipeline at `level` (0..3) for the target, loop and SLP
// vectorizers included from level 2.
void optimizeModule(llvm::Module& mod, llvm::TargetMachine& tm, int level);

}  // namespace kiln::codegen
