// A small instruction stream shared by the driver tests: one GEMM tile on the small config
// (1x4x4), with its DRAM layout in each memory type's elements:
//   inp tile (4 bytes) at inp element 0      -> bytes 0..3
//   wgt tile (16 bytes) at wgt element 1     -> bytes 16..31
//   uop (4 bytes) at uop element 8           -> bytes 32..35
//   out tile (4 bytes) at out element 16     -> bytes 64..67
#pragma once

#include <cstring>

#include "kiln/accel/isa.h"

namespace kiln::driver::test {

inline const char* kGemmTile = R"(
LOAD memory_type=inp sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1
LOAD memory_type=wgt sram_base=0 dram_base=1 y_size=1 x_size=1 x_stride=1 push_next
LOAD memory_type=uop sram_base=0 dram_base=8 y_size=1 x_size=1 x_stride=1
GEMM reset uop_begin=0 uop_end=1 iter_out=1 iter_in=1
GEMM pop_prev uop_begin=0 uop_end=1 iter_out=1 iter_in=1 push_next
STORE memory_type=out sram_base=0 dram_base=16 y_size=1 x_size=1 x_stride=1 pop_prev push_prev
FINISH pop_next
)";

// Writes the tile's inputs at `base` and returns the expected int8 outputs.
inline std::vector<int8_t> fillGemmTile(uint8_t* base, const accel::Layout& layout) {
  const int8_t inp[4] = {1, -2, 3, 4};
  int8_t wgt[16];
  for (int o = 0; o < 4; ++o)
    for (int i = 0; i < 4; ++i) wgt[o * 4 + i] = static_cast<int8_t>(o + i - 2);
  std::memcpy(base + 0, inp, 4);
  std::memcpy(base + 16, wgt, 16);
  const uint64_t uop = accel::encodeUop(layout, {0, 0, 0});
  std::memcpy(base + 32, &uop, 4);
  std::vector<int8_t> want(4, 0);
  for (int o = 0; o < 4; ++o) {
    int sum = 0;
    for (int i = 0; i < 4; ++i) sum += inp[i] * wgt[o * 4 + i];
    want[o] = static_cast<int8_t>(sum);
  }
  return want;
}

}  // namespace kiln::driver::test
