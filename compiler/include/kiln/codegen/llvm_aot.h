// The LLVM CPU back end, ahead of time: loop-IR kernels -> an object file for a chosen CPU
// (the host, or a board's ARM core) -> a shared library the runtime loads with dlopen.
//
// Kernels have the JIT's calling convention (`void name(void** args)`) and call the
// runtime's kiln_parallel_for, resolved from the program that loads the library.
#pragma once

#include <string>
#include <vector>

#include "kiln/tir/kernel.h"

namespace kiln::codegen {

struct AotTarget {
  std::string name;      // "host", "armv7", "aarch64"
  std::string triple;    // LLVM target triple
  std::string cpu;       // LLVM CPU name
  std::string features;  // LLVM feature string ("+neon,...")
  std::string linker;    // the C compiler driver that links the shared library
};

// "host" (this machine's CPU and features), "armv7" (Cortex-A9 with NEON: PYNQ-Z1/Z2) or
// "aarch64" (Cortex-A53: Ultra96, ZCU104, KV260); throws kiln::Error for another name.
AotTarget aotTarget(const std::string& name);

// The vector registers of a target: width in bytes and count (AVX-512: 64 x 32, AVX2: 32 x
// 16, NEON: 16 x 16 on armv7 and 16 x 32 on aarch64). Schedules size their register tiles by
// it and lowering vectorizes to its width.
struct VectorUnit {
  int bytes = 16;
  int registers = 16;
};
VectorUnit vectorUnit(const AotTarget& target);

// Compiles the kernels into an object file for the target.
std::vector<uint8_t> emitObject(const std::vector<tir::Kernel>& kernels, const AotTarget& target,
                                int optLevel = 3);

// Links an object file into a shared library at `path` with the target's linker; throws
// kiln::Error with the linker's output when it fails or is not installed.
void linkSharedLibrary(const std::vector<uint8_t>& object, const std::string& path,
                       const AotTarget& target);

}  // namespace kiln::codegen
