// The lowering pipeline, in order. Read this function to know what happens to a schedule
// on its way to a code generator; each pass is one call and lives in its own file.
#include "kiln/tir/lower.h"

#include "kiln/tir/passes.h"
#include "kiln/tir/printer.h"

namespace kiln::tir {

Kernel lower(const schedule::Schedule& sch, const std::vector<Tensor>& args,
             const std::string& name, const LowerOptions& options) {
  std::ostream* log = options.log;
  auto dump = [&](const char* pass, const Stmt& s) {
    if (log) *log << "Lowering " << name << " after " << pass << ":\n" << printStmt(s) << "\n";
  };

  // compute_inline: substitute inlined producers into their consumers.
  StageBodies bodies = inlineStages(sch);
  // Bound inference: the region each stage reads of each producer, proven in bounds.
  std::string regions = inferBounds(sch, bodies);
  if (log) *log << "Lowering " << name << " after bound inference:\n" << regions << "\n";
  // One loop nest per stage, shaped by its schedule.
  Stmt s = scheduleOps(sch, bodies);
  dump("schedule ops (loop nests)", s);
  // Tensors -> flat buffers; the arguments become the kernel's parameters.
  std::vector<Buffer> params;
  s = storageFlatten(s, args, &params);
  dump("storage flattening", s);
  // Copies into GPU shared memory -> spread over the block's threads, between barriers.
  s = cooperativeCopies(s);
  dump("cooperative copies", s);
  // Loops with guards -> a guard-free main part and its prologue / epilogue.
  if (options.partitionLoops) {
    s = partitionLoops(s);
    dump("loop partitioning", s);
  }
  // Unrolled loops with constant extents -> copies of their bodies.
  s = unrollLoops(s);
  dump("loop unrolling", s);
  // Constant folding, identities, dead branches and trivial loops.
  s = simplify(s);
  dump("simplification", s);
  // Vectorized loops -> vector statements of the target's width.
  s = vectorizeLoops(s, options.vectorBytes);
  dump("vectorization", s);

  Kernel k{name, params, s};
  if (!k.body.defined()) k.body = Seq::make({});
  return k;
}

}  // namespace kiln::tir
