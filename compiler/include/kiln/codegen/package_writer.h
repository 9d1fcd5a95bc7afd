// Writes a compiled model package (see kiln/runtime/package.h for the format). For the LLVM
// CPU back end: the graph's kernels compiled ahead of time for the chosen CPU into
// kernels.so, its constants into params.bin, and the manifest with the activation arena
// planned by planMemory.
#pragma once

#include <string>

#include "kiln/codegen/codegen_c.h"
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

// The same for a GPU: the kernels scheduled for a GPU (schedule/gpu_schedule.h),
// emitted as OpenCL C or CUDA C into kernels.cl / kernels.cu, each step's launches and
// workspaces in the manifest; the runtime's device compiles the source when the package
// loads. dumpSource, when given, receives the generated source.
PackageSummary writeGpuPackage(const Graph& graph, const std::string& dir, CDialect dialect,
                               const CompileOptions& options = {},
                               std::ostream* dumpSource = nullptr);

}  // namespace kiln::codegen
