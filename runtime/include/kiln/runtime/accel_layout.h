// The accelerator's blocked layout of activations, on the host: an int8 NCHW tensor (or an
// [N, C] matrix, as [N, C, 1, 1]) as [ceil(N / B), ceil(C / BC), H, W, B, BC], rows and
// channels beyond the tensor zero. Packing and unpacking are what the runtime does around a
// kernel on the device; the compiler packs weights the same way, ahead of time.
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/runtime/ndarray.h"

namespace kiln::accel_layout {

// The packed shape of an NCHW (or NC) shape.
std::vector<int64_t> packedShape(const Shape& shape, int64_t batch, int64_t block);
std::vector<int8_t> pack(const NDArray& x, int64_t batch, int64_t block);
// Fills `y` (int8, NCHW or NC) from its packed form.
void unpack(const int8_t* packed, NDArray& y, int64_t batch, int64_t block);

}  // namespace kiln::accel_layout
