// The pass manager and the standard pipeline.
#include <chrono>
#include <iomanip>

#include "kiln/passes/pass.h"

namespace kiln {

void runPasses(Graph& g, const std::vector<Pass>& passes, const PassOptions& options) {
  for (const std::string& name : options.disabled) {
    bool known = false;
    for (const Pass& p : passes) known |= p.name == name;
    if (!known) {
      std::string list;
      for (const Pass& p : passes) list += (list.empty() ? "" : ", ") + p.name;
      throw Error("unknown pass '" + name + "' (passes: " + list + ")");
    }
  }
  for (const Pass& p : passes) {
    if (options.disabled.count(p.name)) continue;
    auto t0 = std::chrono::steady_clock::now();
    p.run(g);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    try {
      verifyGraph(g);
    } catch (const Error& e) {
      throw Error("after pass " + p.name + ": " + e.what());
    }
    if (options.timings)
      *options.timings << "pass " << std::left << std::setw(18) << p.name << std::right
                       << std::fixed << std::setprecision(2) << std::setw(9) << ms << " ms  "
                       << g.nodes().size() << " nodes\n";
    if (options.dumpAfterEach)
      *options.dumpAfterEach << "// after pass " << p.name << "\n" << printGraph(g) << "\n";
  }
}

std::vector<Pass> standardPasses() {
  // The order matters: fold constants so batch-norm parameters are plain constants, fold
  // batch norms into the convolutions before them, drop what became trivial, then group
  // what is left into kernels.
  return {
      {"fold-constants", "evaluate nodes whose inputs are all constants", foldConstants},
      {"fold-batch-norm", "fold BatchNormalization into the Conv before it", foldBatchNorm},
      {"simplify", "remove identities and no-op reshapes, transpose constant Gemm weights",
       simplifyGraph},
      {"dead-code", "remove nodes that reach no output", [](Graph& g) { g.eliminateDeadCode(); }},
      {"fuse-ops", "group conv/dense with bias, residual add and activation into kernels", fuseOps},
  };
}

void optimizeGraph(Graph& g, const PassOptions& options) {
  runPasses(g, standardPasses(), options);
}

}  // namespace kiln
