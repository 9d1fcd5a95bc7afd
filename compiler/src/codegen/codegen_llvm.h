// Internal: loop IR -> LLVM IR (codegen_llvm.cpp), used by the JIT (llvm_jit.cpp) and,
// later, by ahead-of-time object emission.
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

}  // namespace kiln::codegen
