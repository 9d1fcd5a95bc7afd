// Helpers for the cycle model's tests: run one stream on the bit-exact reference and on the
// cycle model from the same DRAM, and compare every byte they leave behind.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "accel_test_util.h"
#include "kiln/sim/cycle_model.h"

namespace kiln::sim::test {

// The first index where two buffers differ, or nullopt.
template <typename T>
std::optional<size_t> firstDifference(std::span<T> a, std::span<T> b) {
  auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  if (ia == a.end() && ib == b.end()) return std::nullopt;
  return static_cast<size_t>(ia - a.begin());
}

// The reference and the cycle model on one config, with the same DRAM.
struct Pair {
  accel::Machine ref;
  CycleModel model;

  Pair(const accel::Config& config, size_t dram_bytes, Options options = {})
      : ref(config, dram_bytes), model(config, dram_bytes, options) {}

  // Writes DRAM of both.
  void put(size_t offset, std::span<const uint8_t> bytes) {
    std::copy(bytes.begin(), bytes.end(), ref.dram().begin() + static_cast<ptrdiff_t>(offset));
    std::copy(bytes.begin(), bytes.end(), model.dram().begin() + static_cast<ptrdiff_t>(offset));
  }

  // Runs the stream on both; both must succeed and leave identical DRAM and buffers.
  Stats runBoth(const std::vector<accel::Insn>& stream, const std::string& what) {
    Expected<accel::RunStats> r = ref.run(stream);
    Expected<Stats> s = model.run(stream);
    EXPECT_TRUE(r.ok()) << what << ": the reference faulted: " << r.message();
    EXPECT_TRUE(s.ok()) << what << ": the cycle model faulted: " << s.message();
    if (!r || !s) return {};
    expectSameState(what);
    const accel::RunStats& f = s->functional;
    EXPECT_EQ(f.gemm_uops, r->gemm_uops) << what;
    EXPECT_EQ(f.alu_uops, r->alu_uops) << what;
    using accel::Module;
    EXPECT_EQ(s->counter("LOAD_DMA_BYTES"), r->of(Module::kLoad).dma_read_bytes) << what;
    EXPECT_EQ(s->counter("COMPUTE_DMA_BYTES"), r->of(Module::kCompute).dma_read_bytes) << what;
    EXPECT_EQ(s->counter("STORE_DMA_BYTES"), r->of(Module::kStore).dma_write_bytes) << what;
    EXPECT_EQ(s->counter("FETCH_DMA_BYTES"), r->of(Module::kFetch).dma_read_bytes) << what;
    EXPECT_EQ(s->counter("LOAD_INSNS"), r->of(Module::kLoad).insns) << what;
    EXPECT_EQ(s->counter("COMPUTE_INSNS"), r->of(Module::kCompute).insns) << what;
    EXPECT_EQ(s->counter("STORE_INSNS"), r->of(Module::kStore).insns) << what;
    EXPECT_EQ(s->counter("COMPUTE_GEMM_UOPS"), r->gemm_uops) << what;
    EXPECT_EQ(s->counter("COMPUTE_ALU_UOPS"), r->alu_uops) << what;
    return *s;
  }

  void expectSameState(const std::string& what) {
    auto check = [&](auto a, auto b, const char* name) {
      std::optional<size_t> d = firstDifference(a, b);
      EXPECT_FALSE(d.has_value()) << what << ": " << name << " differs first at element "
                                  << d.value_or(0) << " (reference vs cycle model)";
    };
    check(ref.dram(), model.dram(), "DRAM");
    check(ref.inp(), model.machine().inp(), "the inp buffer");
    check(ref.wgt(), model.machine().wgt(), "the wgt buffer");
    check(ref.acc(), model.machine().acc(), "the acc buffer");
    check(ref.out(), model.machine().out(), "the out buffer");
    check(ref.uops(), model.machine().uops(), "the uop buffer");
  }
};

}  // namespace kiln::sim::test
