// The schedule of the GLSL back end (OpenGL ES 3 / WebGL2 fragment shaders): one fragment per
// output element.
//
// A fragment shader writes exactly one value, at its own position, and cannot read what it
// writes in the same pass. So every stage that is stored (an output of the kernel, or an
// intermediate that several consumers read) gets all its spatial axes fused into one loop,
// the fragment index, with its reduce loops inside; each such stage becomes one render pass.
// Everything elementwise that is not an output is inlined (padding included), and a reduction
// read by one elementwise consumer of the same shape (a convolution and its bias, batch norm,
// residual add and activation; an average pool and its division) is computed at the
// consumer's fragment, in a register, so the whole fused group is one pass. A convolution's
// padded input is stored by a pass of its own.
#pragma once

#include <vector>

#include "kiln/schedule/schedule.h"

namespace kiln::schedule {

// Outputs are stored whatever their tag; every other elementwise stage is inlined. Each
// stored stage's fused loop is bound to "fragment"; with bindFragments false it stays a
// serial loop (the same loop nest, which the CPU back end can run: how the schedule itself
// is tested without a GPU).
Schedule glSchedule(const std::vector<Tensor>& outputs, bool bindFragments = true);

}  // namespace kiln::schedule
