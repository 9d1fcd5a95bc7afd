// The default schedule of every stage, picked by the stage's tag. Always correct, simply
// fast: the outermost spatial loops run in parallel on the thread pool and the innermost
// loop over contiguous memory is left for the vectorizer.
//   injective: fuse all axes but the last -> parallel; last -> vectorized
//   reduce:    fuse all spatial axes -> parallel; reduce loops inside
//   conv2d:    fuse (n, oc) -> parallel; order (n.oc, oh, rc, ry, rx, ow); ow vectorized
//   matmul:    fuse batch and row axes -> parallel; order (..., k, col); col vectorized
// Target-tuned schedules (blocked, register-tiled) sit beside these, not replace them: see
// cpu_schedule.h for the LLVM back end's.
#pragma once

#include "kiln/schedule/schedule.h"

namespace kiln::schedule {

void scheduleInjective(Stage& s);
void scheduleReduction(Stage& s);
void scheduleConv2d(Stage& s);
void scheduleMatmul(Stage& s);

// A schedule of the outputs with every stage given its family's default.
Schedule defaultSchedule(const std::vector<Tensor>& outputs);

}  // namespace kiln::schedule
