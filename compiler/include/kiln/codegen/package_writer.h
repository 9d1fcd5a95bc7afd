// Writes a compiled model package (see kiln/runtime/package.h for the format) for the LLVM
// CPU back end: the graph's kernels compiled ahead of time for the chosen CPU into
// kernels.so, its constants into params.bin, and the manifest with the activation arena
// planned by planMemory.
#pragma once

#include <string>

#include "kiln/codegen/graph_compiler.h"
#include "kiln/codegen/llvm_aot.h"
#include "kiln/ir/graph.h"

namespace kiln::codegen {

struct PackageSummary {
  size_t kernels = 0;
  size_t paramBytes = 0;
  size_t arenaBytes = 0;
  double compileMs = 0;
};

// `graph` should be optimised (optimizeGraph): its fusion groups become the kernels. Throws
// kiln::Error naming what failed (a node that cannot be compiled, the linker, the file system).
PackageSummary writePackage(const Graph& graph, const std::string& dir, const AotTarget& target,
                            const CompileOptions& options = {});

}  // namespace kiln::codegen
