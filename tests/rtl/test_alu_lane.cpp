// kiln_alu_lane, one element of the tensor ALU, against the reference's applyAlu: every
// operation, with and without the immediate, on edge values (0, +-1, the int32 and int16
// extremes, shift amounts around 0, 31, 32 and 63) and on random operands.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <random>

#include "Vdut.h"
#include "kiln/accel/config.h"
#include "kiln/accel/reference.h"

namespace {

using kiln::accel::AluOp;

class AluLane : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = kiln::accel::Config::builtin(KILN_RTL_CONFIG);
    ASSERT_TRUE(config.ok());
    config_ = std::make_unique<kiln::accel::Config>(std::move(*config));
    ctx_ = std::make_unique<VerilatedContext>();
    dut_ = std::make_unique<Vdut>(ctx_.get());
  }

  // Applies one operation on the RTL and the reference; returns whether they agree and
  // records the first disagreement.
  bool check(AluOp op, bool use_imm, int32_t dst, int32_t src, int32_t aux, int16_t imm) {
    int out_width = static_cast<int>(config_->params().out_width);
    dut_->op_i = static_cast<uint8_t>(config_->layout().encoding(op));
    dut_->use_imm_i = use_imm;
    dut_->imm_i = static_cast<uint32_t>(int32_t{imm});
    dut_->dst_i = static_cast<uint32_t>(dst);
    dut_->src_i = static_cast<uint32_t>(src);
    dut_->aux_i = static_cast<uint32_t>(aux);
    dut_->eval();
    int32_t want = kiln::accel::applyAlu(op, dst, src, aux, use_imm, imm, out_width);
    int32_t got = static_cast<int32_t>(dut_->result_o);
    if (got != want && failures_++ == 0) {
      ADD_FAILURE() << "ALU " << kiln::accel::name(op) << (use_imm ? " use_imm" : "")
                    << " dst=" << dst << " src=" << src << " aux=" << aux << " imm=" << imm
                    << ": RTL gives " << got << ", the reference " << want;
    }
    return got == want;
  }

  std::unique_ptr<kiln::accel::Config> config_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vdut> dut_;
  int failures_ = 0;
};

constexpr std::array<AluOp, 7> kOps = {AluOp::kMin, AluOp::kMax, AluOp::kAdd,    AluOp::kShr,
                                       AluOp::kMul, AluOp::kMac, AluOp::kRequant};

TEST_F(AluLane, EdgeValuesMatchReference) {
  const std::array<int32_t, 16> values = {
      0, 1, -1, 2, -2, 31, 32, 33, 63, 64, -32, -33, INT32_MAX, INT32_MIN, INT16_MAX, INT16_MIN};
  const std::array<int16_t, 10> imms = {0, 1, -1, 31, 32, 63, -32, -31, INT16_MAX, INT16_MIN};
  for (AluOp op : kOps)
    for (int32_t dst : values)
      for (int32_t src : values)
        for (int32_t aux : values) {
          check(op, false, dst, src, aux, 0);
          for (int16_t imm : imms) check(op, true, dst, src, aux, imm);
        }
  EXPECT_EQ(failures_, 0) << "elements that differ";
}

TEST_F(AluLane, RandomOperandsMatchReference) {
  std::mt19937_64 rng(5);
  auto pick = [&]() -> int32_t {
    switch (rng() % 4) {
      case 0:
        return static_cast<int32_t>(rng());  // any int32
      case 1:
        return static_cast<int32_t>(rng() % 256) - 128;  // an activation
      case 2:
        return static_cast<int32_t>(rng() % 128);  // a shift amount
      default:
        return static_cast<int32_t>(rng() >> 33) >> (rng() % 31);  // any magnitude
    }
  };
  for (int n = 0; n < 200000; ++n) {
    AluOp op = kOps[rng() % kOps.size()];
    check(op, rng() % 2, pick(), pick(), pick(), static_cast<int16_t>(pick()));
  }
  EXPECT_EQ(failures_, 0) << "elements that differ";
}

}  // namespace
