// Running a compiled accelerator kernel in the tests: its arena laid out in a simulator's
// DRAM (constants, then the packed inputs), the stream run, the output unpacked.
#pragma once

#include <gtest/gtest.h>

#include <cstring>

#include "kiln/accel/reference.h"
#include "kiln/codegen/accel.h"
#include "kiln/runtime/accel_layout.h"
#include "kiln/sim/cycle_model.h"

namespace kiln::testing {

inline void fillArena(std::span<uint8_t> dram, const codegen::AccelKernel& k,
                      const std::vector<const NDArray*>& inputs, const accel::Config& c) {
  std::fill(dram.begin(), dram.end(), uint8_t{0xA5});  // garbage: every byte read must be written
  for (const codegen::AccelRegion& r : k.constants)
    std::memcpy(dram.data() + r.offset, r.data.data(), r.data.size());
  for (size_t i = 0; i < k.inputs.size(); ++i) {
    std::vector<int8_t> p =
        accel_layout::pack(*inputs[i], k.inputs[i].packedShape[4], k.inputs[i].packedShape[5]);
    std::memcpy(dram.data() + k.inputs[i].offset, p.data(), p.size());
  }
  (void)c;
}

inline NDArray readOutput(std::span<const uint8_t> dram, const codegen::AccelKernel& k,
                          const Shape& shape) {
  NDArray y(DType::I8, shape);
  accel_layout::unpack(reinterpret_cast<const int8_t*>(dram.data() + k.output.offset), y,
                       k.output.packedShape[4], k.output.packedShape[5]);
  return y;
}

// Runs on the functional reference; with `cycles`, also on the cycle model (which must
// leave the same DRAM bytes) and reports its cycle count.
inline NDArray runKernel(const codegen::AccelKernel& k, const std::vector<const NDArray*>& inputs,
                         const Shape& outShape, const accel::Config& c,
                         uint64_t* cycles = nullptr) {
  accel::Machine m(c, k.arenaBytes);
  fillArena(m.dram(), k, inputs, c);
  Expected<accel::RunStats> r = m.run(k.insns);
  EXPECT_TRUE(r) << (r ? "" : r.message());
  if (cycles) {
    sim::CycleModel model(c, k.arenaBytes);
    fillArena(model.dram(), k, inputs, c);
    Expected<sim::Stats> s = model.run(k.insns);
    EXPECT_TRUE(s) << (s ? "" : s.message());
    if (s) *cycles = s->cycles;
    EXPECT_TRUE(std::equal(m.dram().begin(), m.dram().end(), model.dram().begin()))
        << "the cycle model's DRAM differs from the functional reference's";
  }
  return readOutput(m.dram(), k, outShape);
}

}  // namespace kiln::testing
