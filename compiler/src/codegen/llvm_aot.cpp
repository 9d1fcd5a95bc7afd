// Ahead-of-time compilation: target machines for the host and the boards' CPUs, object
// emission, and linking with the platform's C compiler driver.
#include "kiln/codegen/llvm_aot.h"

#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "codegen_llvm.h"
#include "kiln/runtime/error.h"

namespace kiln::codegen {

namespace {
void initialiseTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
  });
}
}  // namespace

AotTarget aotTarget(const std::string& name) {
  if (name == "host") {
    initialiseTargets();
    std::string features;
    for (const auto& [feature, on] : llvm::sys::getHostCPUFeatures())
      features += (features.empty() ? "" : ",") + std::string(on ? "+" : "-") + feature.str();
    return {"host", llvm::sys::getDefaultTargetTriple(), llvm::sys::getHostCPUName().str(),
            features, "cc"};
  }
  if (name == "armv7")
    return {"armv7", "armv7a-unknown-linux-gnueabihf", "cortex-a9", "+neon,+vfp3,+thumb2",
            "arm-linux-gnueabihf-gcc"};
  if (name == "aarch64")
    return {"aarch64", "aarch64-unknown-linux-gnu", "cortex-a53", "+neon", "aarch64-linux-gnu-gcc"};
  throw Error("unknown CPU target '" + name +
              "' (host, armv7 for PYNQ-Z1/Z2, aarch64 for Ultra96/ZCU104/KV260)");
}

VectorUnit vectorUnit(const AotTarget& target) {
  auto has = [&](const char* f) {
    const std::string flag = std::string("+") + f;
    const std::string& all = target.features;
    for (size_t at = all.find(flag); at != std::string::npos; at = all.find(flag, at + 1))
      if (at + flag.size() == all.size() || all[at + flag.size()] == ',') return true;
    return false;
  };
  if (target.triple.rfind("x86_64", 0) == 0) {
    if (has("avx512f")) return {64, 32};
    if (has("avx")) return {32, 16};
    return {16, 16};
  }
  if (target.triple.rfind("aarch64", 0) == 0) return {16, 32};
  return {16, 16};  // armv7 NEON: 16 quad registers
}

std::vector<uint8_t> emitObject(const std::vector<tir::Kernel>& kernels, const AotTarget& target,
                                int optLevel) {
  initialiseTargets();
  std::string error;
  const llvm::Target* t = llvm::TargetRegistry::lookupTarget(target.triple, error);
  if (!t) throw Error("LLVM has no back end for " + target.triple + ": " + error);
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> tm(t->createTargetMachine(
      target.triple, target.cpu, target.features, options, llvm::Reloc::PIC_, std::nullopt,
      optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive : llvm::CodeGenOptLevel::Default));
  if (!tm) throw Error("LLVM cannot make a target machine for " + target.triple + " " + target.cpu);
  llvm::LLVMContext ctx;
  ctx.setDiagnosticHandlerCallBack([](const llvm::DiagnosticInfo*, void*) {}, nullptr);
  std::unique_ptr<llvm::Module> mod = emitModule(ctx, kernels, *tm);
  optimizeModule(*mod, *tm, optLevel);
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    throw Error("LLVM cannot emit object files for " + target.triple);
  pm.run(*mod);
  return {buffer.begin(), buffer.end()};
}

void linkSharedLibrary(const std::vector<uint8_t>& object, const std::string& path,
                       const AotTarget& target) {
  namespace fs = std::filesystem;
  fs::path obj = fs::path(path).replace_extension(".o");
  {
    std::ofstream f(obj, std::ios::binary);
    f.write(reinterpret_cast<const char*>(object.data()),
            static_cast<std::streamsize>(object.size()));
    if (!f) throw Error("cannot write " + obj.string());
  }
  // kiln_parallel_for stays undefined: the program that loads the library provides it.
  const std::string cmd =
      target.linker + " -shared -o '" + path + "' '" + obj.string() + "' -lm 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw Error("cannot run the linker " + target.linker);
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  fs::remove(obj);
  if (status != 0)
    throw Error("linking " + path + " with " + target.linker + " failed" +
                (out.find("not found") != std::string::npos
                     ? " (is the cross toolchain installed? run scripts/setup.sh)"
                     : "") +
                ": " + out);
}

}  // namespace kiln::codegen
