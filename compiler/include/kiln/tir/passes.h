// The passes of lowering, in the order lower() runs them (see lower.h). Each lives in its
// own file under compiler/src/tir/ with a comment saying what it does and why.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kiln/schedule/schedule.h"
#include "kiln/tir/kernel.h"

namespace kiln::tir {

// The body each stage computes once inlined producers are substituted into it (inline_stages.cpp).
using StageBodies = std::map<const te::TensorNode*, Expr>;
StageBodies inlineStages(const schedule::Schedule& sch);

// The region of every tensor the stages read, checked against its shape; throws kiln::Error
// naming the tensor, dimension and range on an out-of-bounds read (bound_inference.cpp).
// Returns one line per tensor: "x: [0, 15] x [0, 7]".
std::string inferBounds(const schedule::Schedule& sch, const StageBodies& bodies);

// The box of `t` that `e` reads while the variables in `ranged` (var -> extent) run over
// [0, extent) and every other variable is held fixed: per dimension a start expression in
// the fixed variables and a constant extent that bounds it, clipped to the tensor
// (region_inference.cpp). Used to compute a compute_at stage only where it is needed.
struct Region {
  std::vector<Expr> min;
  std::vector<int64_t> extent;
};
Region inferRegion(const Tensor& t, const Expr& e,
                   const std::map<const te::ExprNode*, int64_t>& ranged);

// One loop nest per stage in the schedule's order (a compute_at stage inside its consumer's
// loop, over the region that loop iteration reads); intermediates in a Realize (schedule_ops.cpp).
Stmt scheduleOps(const schedule::Schedule& sch, const StageBodies& bodies);

// The call that the loops of a tensorized stage from loops[first] inwards become: the
// stage's intrinsic (its reset call when `reset`), after checking that `body` (the stage's
// expression, or its reduction's source, in loop variables) written at `outIdx` computes
// what the intrinsic's definition does; throws kiln::Error saying what differs
// (tensorize.cpp, used by schedule_ops).
Stmt tensorizeCall(const schedule::Stage& st, const std::vector<schedule::Loop>& loops,
                   size_t first, const std::vector<Expr>& outIdx, const Expr& body, bool reset);

// Multi-dimensional Provide/TensorRead/Realize -> flat Store/Load/Allocate. `args` become the
// kernel's parameters, in order (storage_flatten.cpp).
Stmt storageFlatten(const Stmt& s, const std::vector<Tensor>& args, std::vector<Buffer>* params);

// Copies into GPU shared memory spread over the threads of the block, with a barrier after
// the copy and one after its readers (cooperative_copy.cpp). No-op without shared buffers.
Stmt cooperativeCopies(const Stmt& s);

// Splits loops whose bodies test conditions linear in the loop variable (non-dividing split
// guards, padded reads) into a prologue, a guard-free main part and an epilogue, and decides
// every comparison and min/max that the loop ranges settle (loop_partition.cpp).
Stmt partitionLoops(const Stmt& s);

// Expands unrolled loops with a constant extent (unroll_loops.cpp).
Stmt unrollLoops(const Stmt& s);

// Constant folding and algebraic identities; drops dead branches and loops of extent 0 or 1
// (simplify.cpp).
Expr simplify(const Expr& e);
Stmt simplify(const Stmt& s);

// Vectorized loops of constant extent -> vector statements (Ramp / Broadcast lanes) for a
// target whose vector registers hold `vectorBytes` bytes; 0 leaves them loops (vectorize.cpp).
Stmt vectorizeLoops(const Stmt& s, int vectorBytes);

}  // namespace kiln::tir
