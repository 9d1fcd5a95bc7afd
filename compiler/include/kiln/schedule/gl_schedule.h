// The schedule of the GLSL back end (OpenGL ES 3 / WebGL2 fragment shaders): one fragment per
// RGBA texel, four consecutive elements of the tensor it writes.
//
// A fragment shader writes one texel, at its own position, and cannot read what it writes in
// the same pass. So every stage that is stored (an output of the kernel, or an intermediate
// that several consumers read) gets its spatial axes fused into one loop, the fragment index,
// with a lane loop of kGLLanes inside it (unrolled; the innermost axis itself when it has
// extent 4, as an NCHW4c tensor's channel block does, else a split of the fused index) and its
// reduce loops inside that; each such stage becomes one render pass. Everything elementwise
// that is not an output is inlined (a convolution's padding included), and a reduction read by
// one elementwise consumer of as many elements (a convolution and its bias, batch norm,
// residual add and activation; an average pool and its division) is computed in the
// consumer's fragment, in registers, so the whole fused group is one pass. When the consumer's
// lanes are a channel block, the four channels' reductions run together: the lane axis
// innermost, after the reduce loops, so one fetched input texel feeds four multiply-adds.
#pragma once

#include <vector>

#include "kiln/schedule/schedule.h"

namespace kiln::schedule {

// Elements per fragment: the four channels of an RGBA32F texel.
inline constexpr int64_t kGLLanes = 4;

// Outputs are stored whatever their tag; every other elementwise stage is inlined. Each
// stored stage's fused loop is bound to "fragment"; with bindFragments false it stays a
// serial loop (the same loop nest, which the CPU back end can run: how the schedule itself
// is tested without a GPU).
Schedule glSchedule(const std::vector<Tensor>& outputs, bool bindFragments = true);

}  // namespace kiln::schedule
