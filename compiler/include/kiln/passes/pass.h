// Graph passes and the pass manager that runs them.
//
// A pass rewrites a Graph in place and has a name, so a pipeline can be listed, timed,
// dumped after each step and have passes turned off (`kiln info --disable-pass NAME`). The
// standard pipeline is written out in one function, optimizeGraph(), so its order can be
// read at a glance.
#pragma once

#include <functional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "kiln/ir/graph.h"

namespace kiln {

struct Pass {
  std::string name;
  std::string description;
  std::function<void(Graph&)> run;
};

struct PassOptions {
  std::set<std::string> disabled;         // pass names to skip
  std::ostream* dumpAfterEach = nullptr;  // print the graph after every pass
  std::ostream* timings = nullptr;        // print each pass's time
};

// Runs passes in order, verifying the graph after each one. Throws kiln::Error naming the
// pass when a pass leaves the graph invalid, or for an unknown name in options.disabled.
void runPasses(Graph& g, const std::vector<Pass>& passes, const PassOptions& options);

// The standard graph optimisation pipeline (see optimizeGraph in passes.cpp).
std::vector<Pass> standardPasses();
void optimizeGraph(Graph& g, const PassOptions& options = {});

// The individual passes.
void foldConstants(Graph& g);  // evaluate nodes whose inputs are all constants
void foldBatchNorm(Graph& g);  // Conv -> BatchNormalization becomes one Conv
void simplifyGraph(Graph& g);  // drop identities: Identity, Reshape to the same shape, ...;
                               // transpose constant Gemm B read transposed
void fuseOps(Graph& g);        // annotate kernels: anchor + elementwise epilogue

// fuseOps marks each node with the integer attribute "kiln.group": nodes with the same group
// form one kernel, whose intermediate values are never stored in memory.
inline constexpr const char* kFuseGroupAttr = "kiln.group";

// Static memory plan for the activations of a graph: every value that is not a constant,
// a graph input or internal to a fused group gets an offset in one arena; values whose
// lifetimes do not overlap share space.
struct MemoryPlan {
  struct Slot {
    const Value* value;
    size_t offset;
    size_t size;
    int firstUse, lastUse;  // node indices (inclusive) during which the value is live
  };
  std::vector<Slot> slots;
  size_t arenaBytes = 0;  // peak activation memory with reuse
  size_t naiveBytes = 0;  // sum of all planned values (no reuse)
};
MemoryPlan planMemory(const Graph& g, size_t alignment = 64);

}  // namespace kiln
