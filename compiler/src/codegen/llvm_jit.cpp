// The ORC JIT around codegen_llvm: detects the host CPU and its features, optimizes the
// module with LLVM's standard O3 pipeline for that machine (loop vectorizer included),
// and links it against the runtime (kiln_parallel_for) and the C library.
#include "kiln/codegen/llvm_jit.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/DiagnosticInfo.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_os_ostream.h>

#include <cstdlib>
#include <mutex>

#include "codegen_llvm.h"
#include "kiln/runtime/error.h"
#include "kiln/runtime/thread_pool.h"

namespace kiln::codegen {

namespace {

template <typename T>
T unwrap(llvm::Expected<T> v, const std::string& what) {
  if (!v) throw Error("llvm jit: " + what + ": " + llvm::toString(v.takeError()));
  return std::move(*v);
}
void check(llvm::Error e, const std::string& what) {
  if (e) throw Error("llvm jit: " + what + ": " + llvm::toString(std::move(e)));
}

class JitImpl : public LLVMJit {
 public:
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::string description;

  KernelFn lookup(const std::string& name) override {
    auto sym = jit->lookup(name);
    if (!sym) throw Error("llvm jit: no kernel '" + name + "': " + llvm::toString(sym.takeError()));
    return sym->toPtr<KernelFn>();
  }
  std::string targetDescription() const override { return description; }
};

}  // namespace

std::unique_ptr<LLVMJit> LLVMJit::compile(const std::vector<tir::Kernel>& kernels,
                                          const JitOptions& options) {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
  auto jtmb = unwrap(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU");
  jtmb.setCodeGenOptLevel(options.optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive
                                                : llvm::CodeGenOptLevel::Default);
  std::unique_ptr<llvm::TargetMachine> tm =
      unwrap(jtmb.createTargetMachine(), "creating the target machine");

  auto ctx = std::make_unique<llvm::LLVMContext>();
  // A loop scheduled `vectorize` that LLVM could not vectorize still runs correctly as a
  // scalar loop: drop LLVM's warnings and remarks instead of printing them.
  ctx->setDiagnosticHandlerCallBack([](const llvm::DiagnosticInfo*, void*) {}, nullptr);
  std::unique_ptr<llvm::Module> mod = emitModule(*ctx, kernels, *tm);
  optimizeModule(*mod, *tm, options.optLevel);
  if (options.dumpLLVM) {
    llvm::raw_os_ostream os(*options.dumpLLVM);
    mod->print(os, nullptr);
  }

  auto impl = std::make_unique<JitImpl>();
  impl->description = tm->getTargetTriple().str() + " " + tm->getTargetCPU().str();
  impl->jit = unwrap(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(jtmb)).create(),
                     "creating the JIT");
  llvm::orc::JITDylib& lib = impl->jit->getMainJITDylib();
  // The runtime and the C library functions generated code calls.
  llvm::orc::SymbolMap symbols;
  auto define = [&](const char* name, void* addr) {
    symbols[impl->jit->mangleAndIntern(name)] = llvm::orc::ExecutorSymbolDef(
        llvm::orc::ExecutorAddr::fromPtr(addr),
        llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
  };
  define("kiln_parallel_for", reinterpret_cast<void*>(&kiln_parallel_for));
  define("aligned_alloc", reinterpret_cast<void*>(&::aligned_alloc));
  define("free", reinterpret_cast<void*>(&::free));
  check(lib.define(llvm::orc::absoluteSymbols(std::move(symbols))), "defining runtime symbols");
  // libm (expf, tanhf, erff, ...) from the process.
  lib.addGenerator(unwrap(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                              impl->jit->getDataLayout().getGlobalPrefix()),
                          "searching the process for libm"));
  check(impl->jit->addIRModule(llvm::orc::ThreadSafeModule(std::move(mod), std::move(ctx))),
        "adding the module");
  return impl;
}

}  // namespace kiln::codegen
