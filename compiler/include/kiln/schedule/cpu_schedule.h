// Tuned CPU schedules (the LLVM back end), beside the always-correct defaults of
// default_schedule.h. They change only how loops run, never what is computed.
//   conv2d:  register tile of ocBlock output channels x owBlock output columns: split oc
//            by ocBlock and ow by owBlock (cpuColumnBlock: a short row whole, a long one in
//            whole vectors), order
//            (n.oc.o.oh -> parallel, ow.o, rc, ry, rx, oc.i -> unrolled, ow.i -> vectorized;
//            n.oh.oc.o when it sums over several input channels, so that every channel tile
//            of a row reads that row's input from cache),
//            so every input vector loaded feeds ocBlock FMAs and the ocBlock x owBlock sums
//            stay in registers across the whole reduction (ocBlock = accumulators / vector
//            registers per row, capped to a divisor of the channels); the padded, stride-
//            phase-split input (conv2d.pad) is built once at the root, so the reduction reads
//            contiguous rows without conditions.
//   conv2d_nchwc (blocked weights, output channels innermost): a register tile of ocVecs
//            channel blocks (1 or 2) x owBlock output columns, order (n.oc.o.oh -> parallel,
//            ow.o, rc, ry, rx, oc.i -> unrolled, ow.i -> unrolled, channel lanes ->
//            vectorized): each tap loads ocVecs weight vectors and broadcasts owBlock input
//            elements into 2 * accumulators - 4 accumulators, so a 7-wide row fills every
//            lane; its transform back to NCHW is inlined into the stage that reads it.
//   matmul:  columns split into blocks of `lanes * 4`; (rows, column blocks) -> parallel,
//            then k, then the column block vectorized (batch-1 dense layers get both cores).
//   reduce:  (pooling) the outer output axes fused -> parallel, the reduce loops, then the
//            innermost output axis vectorized (when at least half a vector long).
//   others:  the defaults.
#pragma once

#include "kiln/schedule/schedule.h"

namespace kiln::schedule {

struct CpuTarget {
  int64_t lanes = 16;         // float lanes of one vector register (AVX-512: 16)
  int64_t accumulators = 16;  // vector registers a register tile may keep its sums in
};

// The output-column block for a row of `width` outputs: the whole row when it is at most two
// vectors; else one vector when that divides the row, else the largest divisor of the row
// of at most two vectors (no tail guard), or one vector (guarded) when no divisor of at
// least half a vector exists.
int64_t cpuColumnBlock(int64_t width, int64_t lanes);

void scheduleConv2dCpu(Stage& s, const CpuTarget& target);
void scheduleConv2dNchwcCpu(Stage& s, const CpuTarget& target);
void scheduleMatmulCpu(Stage& s, const CpuTarget& target);
void scheduleReductionCpu(Stage& s, const CpuTarget& target);

// A convolution (conv2d or conv2d_nchwc) computed inside the tile of its elementwise
// epilogue o (the output, every stage between them inlined): o is tiled as the convolution's
// register tile (ocBlock or ocVecs x lanes channels x owBlock columns, parallel over
// (n, channel tiles, rows), columns vectorized), and r is computed at o's column-tile loop,
// reduction outside and tile inside, so the sums reach the output through the epilogue
// without a round trip through memory. False (nothing changed) when the tiles do not divide.
bool fuseConvEpilogueCpu(Stage& o, Stage& r, const CpuTarget& target);

// After fuseConvEpilogueCpu, a depthwise convolution's padded (stride-phase-split) input is
// built per tile too, at the same loop, into a buffer that stays in L1, instead of a whole
// padded copy of the input written to and read back from memory. False when r is not a
// depthwise convolution with a padded input read by it alone.
bool attachDepthwisePadCpu(Schedule& sch, Stage& o, Stage& r);

// A schedule of the outputs with the CPU schedules above (defaults for the other families).
// `inlined`: elementwise values computed inline where they are read (a fused group's
// intermediate values); a convolution whose only reader is its epilogue is computed in the
// epilogue's tile (fuseConvEpilogueCpu) unless fuseEpilogues is false.
Schedule cpuSchedule(const std::vector<Tensor>& outputs, const CpuTarget& target = {},
                     const std::vector<Tensor>& inlined = {}, bool fuseEpilogues = true);

}  // namespace kiln::schedule
