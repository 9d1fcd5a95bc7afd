// The tuned CPU schedules (cpu_schedule.h) and the code generation they rely on: each
// scheduled convolution and matrix product must give what a direct double-precision loop
// gives, on shapes chosen to be awkward for register tiles (odd widths, widths above two
// vectors with no good divisor, channel counts that are not a multiple of the tile, stride
// 2, groups, dilation, depthwise, asymmetric padding); and the kernels must really be
// register-tiled, parallel, vectorized and use fused multiply-adds.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "kiln/codegen/llvm_aot.h"
#include "kiln/codegen/llvm_jit.h"
#include "kiln/schedule/cpu_schedule.h"
#include "kiln/schedule/default_schedule.h"
#include "kiln/tir/lower.h"
#include "kiln/tir/printer.h"
#include "kiln/topi/topi.h"

namespace kiln {
namespace {

using namespace te;  // NOLINT
using schedule::Schedule;

std::vector<float> randomVec(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

// Lowering for this machine: vectorized to the width of its vector registers.
tir::LowerOptions forHost() {
  return {nullptr, codegen::vectorUnit(codegen::aotTarget("host")).bytes};
}

size_t numel(const Tensor& t) {
  size_t n = 1;
  for (int64_t d : t->shape) n *= static_cast<size_t>(d);
  return n;
}

void expectNear(const std::vector<float>& got, const std::vector<double>& want,
                const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-4 * std::max(1.0, std::abs(want[i])))
        << what << ": element " << i;
}

struct ConvCase {
  int64_t n, c, h, w, oc, kh, kw, sh, sw;
  std::vector<int64_t> pads;  // top, left, bottom, right
  int64_t dh, dw, group;
  std::string describe() const {
    std::ostringstream os;
    os << "conv x[" << n << "," << c << "," << h << "," << w << "] w[" << oc << "," << c / group
       << "," << kh << "," << kw << "] stride " << sh << "x" << sw << " pads " << pads[0] << ","
       << pads[1] << "," << pads[2] << "," << pads[3] << " dilation " << dh << "x" << dw
       << " group " << group;
    return os.str();
  }
};

// Runs conv2d + bias under a schedule; also returns the lowered loop IR and the LLVM IR.
struct ConvRun {
  std::vector<float> out;
  std::string ir, llvmIr;
};

class ConvProblem {
 public:
  // block > 0: the weights packed into blocks of `block` output channels (the NCHWc form).
  explicit ConvProblem(const ConvCase& k, int64_t block = 0) : k_(k) {
    x_ = placeholder("x", DType::F32, {k.n, k.c, k.h, k.w});
    const Shape oihw{k.oc, k.c / k.group, k.kh, k.kw};
    w_ = placeholder("w", DType::F32,
                     block ? Shape{k.oc / block, oihw[1], oihw[2], oihw[3], block} : oihw);
    b_ = placeholder("b", DType::F32, {k.oc});
    y_ = topi::conv2d(x_, w_, b_, {k.sh, k.sw}, k.pads, {k.dh, k.dw}, k.group, "conv");
    xv_ = randomVec(numel(x_), 3);
    wv_ = randomVec(static_cast<size_t>(k.oc * oihw[1] * oihw[2] * oihw[3]), 4);
    bv_ = randomVec(static_cast<size_t>(k.oc), 5);
    wArg_ = wv_;
    if (block) {
      NDArray packed = topi::packConvWeights(NDArray::fromVector(oihw, wv_), block);
      wArg_.assign(packed.data<float>(), packed.data<float>() + packed.numel());
    }
  }
  const Tensor& output() const { return y_; }

  ConvRun run(const Schedule& sch) const {
    ConvRun r;
    tir::Kernel kern = tir::lower(sch, {x_, w_, b_, y_}, "conv", forHost());
    r.ir = tir::printKernel(kern);
    std::ostringstream ll;
    auto jit = codegen::LLVMJit::compile({kern}, codegen::JitOptions{&ll});
    r.llvmIr = ll.str();
    r.out.assign(numel(y_), -7.0f);
    std::vector<float> xc = xv_, wc = wArg_, bc = bv_;
    void* args[] = {xc.data(), wc.data(), bc.data(), r.out.data()};
    jit->lookup("conv")(args);
    return r;
  }

  std::vector<double> expected() const {
    const auto& s = y_->shape;
    const int64_t OH = s[2], OW = s[3], kc = k_.c / k_.group, ocpg = k_.oc / k_.group;
    std::vector<double> o(numel(y_));
    for (int64_t n = 0; n < k_.n; ++n)
      for (int64_t oc = 0; oc < k_.oc; ++oc)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) {
            double acc = bv_[static_cast<size_t>(oc)];
            for (int64_t rc = 0; rc < kc; ++rc)
              for (int64_t ry = 0; ry < k_.kh; ++ry)
                for (int64_t rx = 0; rx < k_.kw; ++rx) {
                  int64_t ih = oh * k_.sh - k_.pads[0] + ry * k_.dh;
                  int64_t iw = ow * k_.sw - k_.pads[1] + rx * k_.dw;
                  if (ih < 0 || ih >= k_.h || iw < 0 || iw >= k_.w) continue;
                  int64_t c = (oc / ocpg) * kc + rc;
                  acc +=
                      double(xv_[static_cast<size_t>(((n * k_.c + c) * k_.h + ih) * k_.w + iw)]) *
                      wv_[static_cast<size_t>(((oc * kc + rc) * k_.kh + ry) * k_.kw + rx)];
                }
            o[static_cast<size_t>(((n * k_.oc + oc) * OH + oh) * OW + ow)] = acc;
          }
    return o;
  }

 private:
  ConvCase k_;
  Tensor x_, w_, b_, y_;
  std::vector<float> xv_, wv_, bv_, wArg_;  // wArg_: the weights as the kernel takes them
};

const std::vector<ConvCase> kAwkwardConvs = {
    // 3x3 pad 1: odd width (one block of 13), 20 channels (tile of 4 is not 8).
    {1, 5, 11, 13, 20, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 1, 1},
    // Width 56 -> blocks of 28; 6 output channels (tile 2 after capping by divisors).
    {1, 3, 9, 56, 6, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 1, 1},
    // Width 37 (prime, above two vectors): a guarded split by one vector.
    {1, 4, 5, 37, 16, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 1, 1},
    // Width 48: whole vectors; batch 2; 1x1 without padding (no pad stage).
    {2, 7, 3, 48, 24, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, 1},
    // Stride 2, 7x7, pad 3: a ResNet stem in small, odd sizes.
    {1, 3, 23, 29, 8, 7, 7, 2, 2, {3, 3, 3, 3}, 1, 1, 1},
    // Groups, dilation, asymmetric padding, a different stride per axis.
    {2, 4, 17, 13, 6, 3, 3, 2, 1, {1, 0, 2, 1}, 1, 2, 2},
    // Depthwise 3x3 stride 2 (MobileNet), 17 channels.
    {1, 17, 15, 15, 17, 3, 3, 2, 2, {1, 1, 1, 1}, 1, 1, 17},
    // Depthwise with channel multiplier 2, dilation 2, width 35.
    {1, 6, 12, 35, 12, 3, 3, 1, 1, {2, 2, 2, 2}, 2, 2, 6},
    // Padding only on the right and bottom; kernel wider than the unpadded input.
    {1, 2, 2, 3, 3, 3, 3, 1, 1, {0, 0, 2, 2}, 1, 1, 1},
    // Strides 3 and 4 (rows read as dense loads and a shuffle), widths that end the input
    // right after the last element a row of outputs reads.
    {1, 3, 10, 49, 8, 3, 3, 3, 3, {1, 1, 1, 1}, 1, 1, 1},
    {1, 3, 8, 64, 16, 4, 4, 4, 4, {0, 0, 0, 0}, 1, 1, 1},
    {1, 5, 9, 61, 5, 3, 3, 4, 4, {1, 1, 1, 1}, 1, 1, 5},
};

TEST(CpuSchedule, ConvMatchesDirectLoopsOnAwkwardShapes) {
  for (const ConvCase& k : kAwkwardConvs) {
    ConvProblem p(k);
    std::vector<double> want = p.expected();
    expectNear(p.run(schedule::defaultSchedule({p.output()})).out, want,
               "default schedule, " + k.describe());
    ConvRun tuned = p.run(schedule::cpuSchedule({p.output()}));
    expectNear(tuned.out, want, "cpu schedule, " + k.describe());
    // Narrower vectors and taller tiles: other register-tile shapes stay correct too.
    expectNear(p.run(schedule::cpuSchedule({p.output()}, {4, 6})).out, want,
               "cpu schedule (4 lanes, 6 rows), " + k.describe());
  }
}

TEST(CpuSchedule, BlockedConvMatchesDirectLoopsOnAwkwardShapes) {
  // The NCHWc form (weights packed by output-channel blocks) on every group-1 case above,
  // with the widest block that divides the channels, under the AVX-512 and a 4-lane target.
  for (const ConvCase& k : kAwkwardConvs) {
    if (k.group != 1) continue;
    int64_t block = 16;
    while (k.oc % block != 0) block /= 2;
    if (block < 2) block = k.oc % 3 == 0 ? 3 : 1;
    if (block < 2) continue;
    ConvProblem p(k, block);
    std::vector<double> want = p.expected();
    expectNear(p.run(schedule::cpuSchedule({p.output()})).out, want,
               "blocked by " + std::to_string(block) + ", " + k.describe());
    expectNear(p.run(schedule::cpuSchedule({p.output()}, {4, 6})).out, want,
               "blocked by " + std::to_string(block) + " (4 lanes, 6 rows), " + k.describe());
  }
}

TEST(CpuSchedule, BlockedConvKeepsATileOfChannelVectorsInRegisters) {
  // A ResNet layer-4 shape in small: 7x7 outputs, 64 channels in blocks of 16. The channels
  // are the lanes (every lane used although a row is 7 wide), the tile's 28 accumulators are
  // vector phis of the reduction loops, and the weights were packed at compile time.
  ConvProblem p({1, 32, 7, 7, 64, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 1, 1}, 16);
  ConvRun r = p.run(schedule::cpuSchedule({p.output()}));
  expectNear(r.out, p.expected(), "blocked 7x7");
  EXPECT_NE(r.ir.find("conv.conv_c[ramp("), std::string::npos) << r.ir;
  EXPECT_NE(r.ir.find(", 1, 16)] = (conv.conv_c[ramp("), std::string::npos) << r.ir;
  EXPECT_EQ(r.ir.find("allocate conv.conv["), std::string::npos)
      << "the transform back to NCHW should be inlined into the bias stage:\n"
      << r.ir;
  // The blocked sums are computed in the bias stage's tile (4 channel blocks x 7 columns).
  const size_t loop = r.ir.find("parallel for (conv.i0_o_i2");
  EXPECT_NE(loop, std::string::npos) << r.ir;
  EXPECT_NE(r.ir.find("allocate conv.conv_c[f32 * 448]"), std::string::npos) << r.ir;
  EXPECT_GT(r.ir.find("allocate conv.conv_c[f32 * 448]"), loop) << r.ir;
  int phis = 0;
  for (size_t at = r.llvmIr.find("phi <16 x float>"); at != std::string::npos;
       at = r.llvmIr.find("phi <16 x float>", at + 1))
    ++phis;
  EXPECT_GE(phis, 28) << r.llvmIr;
}

TEST(CpuSchedule, PackedWeightsAreBlocksOfOutputChannels) {
  // w[oc, c, y, x] lands at [oc / b, c, y, x, oc % b].
  std::vector<float> w(6 * 2 * 1 * 1);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i);
  NDArray p = topi::packConvWeights(NDArray::fromVector(Shape{6, 2, 1, 1}, w), 3);
  ASSERT_EQ(p.shape(), (Shape{2, 2, 1, 1, 3}));
  const float* d = p.data<float>();
  for (int64_t oc = 0; oc < 6; ++oc)
    for (int64_t c = 0; c < 2; ++c)
      EXPECT_EQ(d[((oc / 3) * 2 + c) * 3 + oc % 3], w[static_cast<size_t>(oc * 2 + c)])
          << "oc " << oc << " c " << c;
  EXPECT_THROW(topi::packConvWeights(NDArray::fromVector(Shape{6, 2, 1, 1}, w), 4), Error);
}

TEST(CpuSchedule, ConvIsRegisterTiledParallelAndVectorized) {
  ConvProblem p({1, 16, 14, 14, 32, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 1, 1});
  ConvRun r = p.run(schedule::cpuSchedule({p.output()}));
  // The padded copy is its own stage; the reduction reads it without a select.
  EXPECT_NE(r.ir.find("allocate conv.pad"), std::string::npos) << r.ir;
  // The convolution is computed inside its bias epilogue's tile: the parallel loop is the
  // epilogue's, over (batch, rows, channel tiles), the channel tiles inside a row so that the
  // row's input is read from cache by every tile; each iteration holds one 16 x 14 tile of
  // sums, never a whole output.
  const size_t loop = r.ir.find("parallel for (conv.i0_i2_o");
  EXPECT_NE(loop, std::string::npos) << r.ir;
  EXPECT_GT(r.ir.find("allocate conv.conv[f32 * 224]"), loop) << r.ir;
  EXPECT_NE(r.ir.find("allocate conv.conv[f32 * 224]"), std::string::npos) << r.ir;
  // Without the fusion (kiln run --no-fuse-epilogues), the convolution is its own parallel
  // loop over a whole output, and the answer is the same.
  ConvRun whole = p.run(schedule::cpuSchedule({p.output()}, {}, {}, false));
  EXPECT_NE(whole.ir.find("parallel for (conv.conv.i0_i2_o"), std::string::npos) << whole.ir;
  expectNear(whole.out, p.expected(), "unfused");
  expectNear(r.out, p.expected(), "fused");
  // The 14-wide row is one vector statement: the output row a ramp of 14 lanes.
  EXPECT_NE(r.ir.find("conv[ramp("), std::string::npos) << r.ir;
  EXPECT_NE(r.ir.find(", 1, 14)]"), std::string::npos) << r.ir;
  EXPECT_EQ(r.ir.find("vectorized for"), std::string::npos) << r.ir;
  // The output-channel tile (16 rows of one register) is unrolled: its copies of the
  // update follow each other.
  EXPECT_EQ(r.ir.find("for (conv.conv.i1.i"), std::string::npos)
      << "the channel tile should be unrolled:\n"
      << r.ir;
  // The 14-wide row is one explicit vector (widened to one register by LLVM), and its
  // multiplies may fuse with their adds (`contract`).
  EXPECT_NE(r.llvmIr.find("load <14 x float>"), std::string::npos) << r.llvmIr;
  EXPECT_NE(r.llvmIr.find("fmul contract <14 x float>"), std::string::npos) << r.llvmIr;
  // The accumulators live in registers across the reduction: the reduction loop carries
  // them as vector phis.
  EXPECT_NE(r.llvmIr.find("phi <14 x float>"), std::string::npos) << r.llvmIr;
}

TEST(CpuSchedule, DepthwiseConvBuildsItsPaddedInputPerTile) {
  // A MobileNet v2 depthwise layer in small (stride 2, padded): its padded, stride-phase-split
  // input is built inside the epilogue's tile loop, one tile's channels, rows and columns
  // (16 channels x 2 x 2 phases x 2 rows x 15 columns), not as a whole copy of the input.
  ConvProblem p({1, 16, 28, 28, 16, 3, 3, 2, 2, {1, 1, 1, 1}, 1, 1, 16});
  ConvRun r = p.run(schedule::cpuSchedule({p.output()}));
  expectNear(r.out, p.expected(), "depthwise stride 2");
  const size_t loop = r.ir.find("parallel for (conv.i0_o_i2");
  ASSERT_NE(loop, std::string::npos) << r.ir;
  const size_t pad = r.ir.find("allocate conv.pad[f32 * 1920]");
  EXPECT_NE(pad, std::string::npos) << r.ir;
  EXPECT_GT(pad, loop) << r.ir;
  // The phase split reads every other input column (13 of a tile's 15 padded columns are
  // inside the input): dense loads and a shuffle of every other lane, no gather.
  EXPECT_NE(r.ir.find("x[ramp("), std::string::npos) << r.ir;
  EXPECT_NE(r.ir.find(", 2, 13)]"), std::string::npos) << r.ir;
  EXPECT_EQ(r.llvmIr.find("masked.gather"), std::string::npos) << r.llvmIr;
  EXPECT_NE(r.llvmIr.find("<13 x i32> <i32 0, i32 2, i32 4, i32 6,"), std::string::npos)
      << r.llvmIr;
  // Stride 1 too, and a width (37) whose column tiles do not divide it, which keeps the
  // whole padded copy at the root and the convolution unfused.
  ConvProblem s1({1, 24, 14, 14, 24, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 1, 24});
  expectNear(s1.run(schedule::cpuSchedule({s1.output()})).out, s1.expected(), "depthwise 14");
  ConvProblem odd({1, 8, 5, 37, 8, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 1, 8});
  ConvRun o = odd.run(schedule::cpuSchedule({odd.output()}));
  expectNear(o.out, odd.expected(), "depthwise 37 wide");
  EXPECT_NE(o.ir.find("parallel for (conv.pad."), std::string::npos) << o.ir;
}

TEST(CpuSchedule, StridedPointwiseConvCopiesOnlyThePhaseItReads) {
  // A 1x1 convolution of stride 2 (ResNet's downsampling) reads stride phase (0, 0) only:
  // its phase-split input is one phase, 8 channels x 5 x 5, a quarter of the input.
  ConvProblem p({1, 8, 9, 9, 16, 1, 1, 2, 2, {0, 0, 0, 0}, 1, 1, 1});
  ConvRun r = p.run(schedule::cpuSchedule({p.output()}));
  expectNear(r.out, p.expected(), "pointwise stride 2");
  EXPECT_NE(r.ir.find("allocate conv.pad[f32 * 200]"), std::string::npos) << r.ir;
  // A 3x3 window of stride 2 reads both phases of each axis; dilation 2 only the even ones.
  ConvProblem d({1, 4, 13, 13, 8, 3, 3, 2, 2, {2, 2, 2, 2}, 2, 2, 1});
  ConvRun dr = d.run(schedule::cpuSchedule({d.output()}));
  expectNear(dr.out, d.expected(), "dilated stride 2");
  EXPECT_NE(dr.ir.find("allocate conv.pad[f32 * 324]"), std::string::npos) << dr.ir;
}

TEST(CpuSchedule, PointwiseConvSumsStayInRegisters) {
  // A 1x1 convolution on 7x7 outputs: the reduction over input channels is the innermost
  // loop; element indices are marked nsw so LLVM tells the tile's rows apart and keeps them
  // in registers (without it, every FMA loaded and stored its 7-wide row).
  ConvProblem p({1, 96, 7, 7, 32, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, 1});
  ConvRun r = p.run(schedule::cpuSchedule({p.output()}));
  expectNear(r.out, p.expected(), "pointwise 7x7");
  EXPECT_NE(r.llvmIr.find("phi <7 x float>"), std::string::npos) << r.llvmIr;
  EXPECT_NE(r.llvmIr.find("mul nsw i64"), std::string::npos) << r.llvmIr;
}

TEST(CpuSchedule, ColumnBlocks) {
  EXPECT_EQ(schedule::cpuColumnBlock(7, 16), 7);  // short rows are one block
  EXPECT_EQ(schedule::cpuColumnBlock(28, 16), 28);
  EXPECT_EQ(schedule::cpuColumnBlock(56, 16), 28);   // largest divisor within two vectors
  EXPECT_EQ(schedule::cpuColumnBlock(112, 16), 16);  // whole vectors
  EXPECT_EQ(schedule::cpuColumnBlock(37, 16), 16);   // prime: guarded split by a vector
}

// Gemm (optionally transposed B) and batched MatMul under the CPU schedule.
TEST(CpuSchedule, MatmulMatchesDirectLoops) {
  struct Case {
    int64_t m, n, k;
    bool transB;
  };
  for (const Case& c :
       std::vector<Case>{{1, 70, 37, true}, {3, 5, 9, false}, {2, 129, 17, false}}) {
    Tensor a = placeholder("a", DType::F32, {c.m, c.k});
    Tensor b = placeholder("b", DType::F32, c.transB ? Shape{c.n, c.k} : Shape{c.k, c.n});
    Tensor bias = placeholder("c", DType::F32, {c.n});
    Tensor y = topi::gemm(a, b, bias, false, c.transB, 1.0, 1.0, "gemm");
    std::vector<float> av = randomVec(static_cast<size_t>(c.m * c.k), 6),
                       bv = randomVec(static_cast<size_t>(c.n * c.k), 7),
                       cv = randomVec(static_cast<size_t>(c.n), 8);
    std::vector<double> want(static_cast<size_t>(c.m * c.n));
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j) {
        double s = cv[static_cast<size_t>(j)];
        for (int64_t q = 0; q < c.k; ++q)
          s += double(av[static_cast<size_t>(i * c.k + q)]) *
               bv[static_cast<size_t>(c.transB ? j * c.k + q : q * c.n + j)];
        want[static_cast<size_t>(i * c.n + j)] = s;
      }
    tir::Kernel kern = tir::lower(schedule::cpuSchedule({y}), {a, b, bias, y}, "gemm", forHost());
    const std::string ir = tir::printKernel(kern);
    EXPECT_NE(ir.find("parallel for"), std::string::npos) << ir;
    auto jit = codegen::LLVMJit::compile({kern});
    std::vector<float> out(want.size(), -7.0f);
    void* args[] = {av.data(), bv.data(), cv.data(), out.data()};
    jit->lookup("gemm")(args);
    expectNear(out, want,
               "gemm " + std::to_string(c.m) + "x" + std::to_string(c.n) + "x" +
                   std::to_string(c.k) + (c.transB ? " transB" : ""));
  }
}

}  // namespace
}  // namespace kiln
