// lower(): a scheduled tensor computation -> one kernel in loop IR.
//
// The whole pipeline is one function in lower.cpp, a list of passes in order; with a log
// stream it prints the IR after each pass ("Lowering after storage flattening: ...").
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "kiln/schedule/schedule.h"
#include "kiln/tir/kernel.h"

namespace kiln::tir {

struct LowerOptions {
  std::ostream* log = nullptr;  // the --dump-ir hook: IR after every pass
  // The target's vector register width in bytes (64 AVX-512, 32 AVX2, 16 NEON/SSE): vectorized
  // loops become vector statements of that width. 0 (a back end without vector IR): they stay
  // loops marked `vectorized`.
  int vectorBytes = 0;
  // Split guarded loops into a guard-free main part and its edges (loop_partition.cpp). The
  // accelerator turns off: its code generator maps a guarded copy onto one padded DMA load.
  bool partitionLoops = true;
};

// args: the placeholders the kernel reads and the tensors it writes, in parameter order.
// Throws kiln::Error when the computation reads a tensor that is neither an argument nor
// computed by the schedule, or reads out of bounds.
Kernel lower(const schedule::Schedule& sch, const std::vector<Tensor>& args,
             const std::string& name, const LowerOptions& options = {});

}  // namespace kiln::tir
