// int8 pooling on the accelerator: QMaxPool and QAveragePool (global pooling included) from
// their definition on the blocked layout (topi/quantized_pool.cpp), scheduled onto the ALU.
//
// The schedule, per tile of output pixels and channel blocks:
//   - the window's input rows are loaded into the acc buffer as int8 (acc8, sign-extended),
//     their zero border added by the DMA (cacheRead of the padding stage, inlined); where
//     the input rows of a tile do not fit, the window's rows are split into chunks, each
//     loaded in turn (double-buffered, like every tile);
//   - the reduction accumulates in the acc buffer (cacheWrite) and is tensorized onto one
//     ALU operation per tap: MAX (max pooling; its initialization, INT32_MIN, is max's
//     identity) or ADD (average pooling; initialized to zero), the tap's tile as operand, the
//     output pixels as the instruction's loops;
//   - average pooling then requantizes in place (ALU REQUANT, one multiplier and shift loaded
//     once); the output is stored from the acc buffer.
// Max pooling reads padding as zero, as the DMA writes it: that is exact where the windows
// read no padding, or where the input is known non-negative (the output of a layer with a
// ReLU folded into its range), since every window holds at least one input element.
#include "compile_pool.h"

#include <algorithm>
#include <cstring>

#include "intrinsics.h"
#include "kiln/runtime/error.h"
#include "kiln/schedule/schedule.h"
#include "kiln/topi/topi.h"

namespace kiln::codegen::accel_target {

namespace {

using schedule::Schedule;
using te::Tensor;

struct PoolShape {
  int64_t N, C, H, W, NB, CB, OH, OW;
  std::vector<int64_t> k, st, pads;
};

PoolShape shapeOf(const Node& n, int64_t B, int64_t BC) {
  PoolShape s;
  const Shape& xs = n.inputs[0]->shape;
  s.N = xs[0];
  s.C = xs[1];
  s.H = xs[2];
  s.W = xs[3];
  s.NB = (s.N + B - 1) / B;
  s.CB = (s.C + BC - 1) / BC;
  s.k = n.ints("kernel_shape");
  s.st = n.ints("strides");
  s.pads = n.ints("pads");
  s.OH = (s.H + s.pads[0] + s.pads[2] - s.k[0]) / s.st[0] + 1;
  s.OW = (s.W + s.pads[1] + s.pads[3] - s.k[1]) / s.st[1] + 1;
  return s;
}

// The smallest value an int8 tensor can hold, as far as its producer tells.
int64_t lowerBound(const Value* v) {
  const Node* p = v->producer;
  if (!p) return -128;
  if (p->op == "QConv" || p->op == "QGemm" || p->op == "QAdd") return p->i("out_min");
  if (p->op == "QMaxPool" || p->op == "Reshape") return lowerBound(p->inputs[0]);
  return -128;
}

std::vector<int64_t> divisors(int64_t n) {
  std::vector<int64_t> d;
  for (int64_t i = 1; i <= n; ++i)
    if (n % i == 0) d.push_back(i);
  return d;
}

struct PoolTiles {
  int64_t to = 0, th = 0, tw = 0, kr = 0;  // channel blocks, rows, columns; window rows a chunk
};

// The tile with the most output entries (then the fewest window chunks, then whole rows) whose
// accumulators and input rows fit the acc buffer twice, beside the requantization factors.
PoolTiles chooseTiles(const PoolShape& s, const accel::Params& p, bool isMax) {
  PoolTiles best;
  int64_t bestScore = -1;
  const int64_t constants = isMax ? 0 : 2;
  for (int64_t to : divisors(s.CB))
    for (int64_t th : divisors(s.OH))
      for (int64_t tw : divisors(s.OW))
        for (int64_t kr : divisors(s.k[0])) {
          const int64_t ih = (th - 1) * s.st[0] + kr, iw = (tw - 1) * s.st[1] + s.k[1];
          if (2 * to * th * tw + 2 * to * ih * iw + constants > p.acc_depth) continue;
          const int64_t score = (to * th * tw * 8 + (kr == s.k[0] ? 4 : 0)) * 2 + (tw == s.OW);
          if (score > bestScore) bestScore = score, best = {to, th, tw, kr};
        }
  return best;
}

}  // namespace

bool poolSupported(const Node& n, const accel::Config& config, std::string* why) {
  auto no = [&](const std::string& w) {
    if (why) *why = w;
    return false;
  };
  const accel::Params& p = config.params();
  const PoolShape s = shapeOf(n, p.batch, p.block_out);
  // The zero border the windows read: above and left, below and right.
  const int64_t padBottom = (s.OH - 1) * s.st[0] + s.k[0] - s.pads[0] - s.H;
  const int64_t padRight = (s.OW - 1) * s.st[1] + s.k[1] - s.pads[1] - s.W;
  const int64_t widest = std::max({s.pads[0], s.pads[1], padBottom, padRight});
  if (widest > 15) return no("padding wider than 15");
  if (n.op == "QMaxPool" && widest > 0 && lowerBound(n.inputs[0]) < 0)
    return no(
        "max pooling over padding of an input that may be negative (the device pads with "
        "zeros)");
  if (chooseTiles(s, p, n.op == "QMaxPool").to == 0)
    return no("one row of its windows does not fit the acc buffer");
  return true;
}

AccelKernel compilePool(const Node& n, const accel::Config& config, const tir::LowerOptions& lo) {
  const accel::Params& p = config.params();
  const int64_t B = p.batch, BO = p.block_out;
  const bool isMax = n.op == "QMaxPool";
  const PoolShape ps = shapeOf(n, B, BO);
  const PoolTiles t = chooseTiles(ps, p, isMax);
  if (t.to == 0)
    throw Error("accelerator: no tiling of pooling '" + n.name + "' fits config '" + config.name() +
                "'");
  const std::string name = "accel_" + n.name;
  Tensor x = te::placeholder("x", DType::I8, {ps.NB, ps.CB, ps.H, ps.W, B, BO});
  Tensor mult, shift, out;
  if (isMax) {
    out = topi::qmaxPool2d(x, ps.k, ps.st, ps.pads, 0, name);
  } else {
    mult = te::placeholder("mult", DType::I32, {B, BO});
    shift = te::placeholder("shift", DType::I32, {B, BO});
    out = topi::qavgPool2dPacked(x, ps.k, ps.st, ps.pads, mult, shift, name);
  }
  Schedule s({out});
  auto& so = s[out];
  auto [oo, oi] = so.split(so.axis(1), t.to);
  auto [ho, hi] = so.split(so.axis(2), t.th);
  auto [wo, wi] = so.split(so.axis(3), t.tw);
  so.reorder({so.axis(0), oo, ho, wo, oi, hi, wi, so.axis(4), so.axis(5)});
  Tensor red = out->op->inputs[0];
  if (!isMax) {  // requantize the sums in place; the factors loaded once
    Tensor c = s.cacheWrite(red, kScopeAcc);
    s[red].computeInline();
    s[c].computeAt(s[out], wo);
    s[c].tensorize(s[c].axis(4), aluRequantIntrin(p));
    red = red->op->inputs[0];
    s.cacheRead(mult, kScopeAcc);
    s.cacheRead(shift, kScopeAcc);
  }
  Tensor cacc = s.cacheWrite(red, kScopeAcc);
  s[red].computeInline();
  const Tensor pad = red->op->inputs[0];
  Tensor xin = s.cacheRead(pad, kScopeAcc, {cacc});
  s[pad].computeInline();
  auto& sc = s[cacc];
  sc.computeAt(s[out], wo);
  auto [ro, ri] = sc.split(sc.reduceAxis(0), t.kr);
  sc.reorder({ro, ri, sc.reduceAxis(1), sc.axis(0), sc.axis(1), sc.axis(2), sc.axis(3), sc.axis(4),
              sc.axis(5)});
  sc.tensorize(sc.axis(4), isMax ? aluMaxAccIntrin(p) : aluSumIntrin(p));
  s[xin].computeAt(s[cacc], ro);

  std::vector<Tensor> args{x};
  if (!isMax) {
    args.push_back(mult);
    args.push_back(shift);
  }
  args.push_back(out);
  tir::Kernel kern = tir::lower(s, args, name, lo);
  std::vector<AccelRegion> regions(args.size());
  regions[0].name = n.inputs[0]->name;
  regions[0].packedShape = {ps.NB, ps.CB, ps.H, ps.W, B, BO};
  if (!isMax) {
    auto fill = [&](int64_t v) {
      std::vector<int32_t> e(static_cast<size_t>(B * BO), static_cast<int32_t>(v));
      std::vector<uint8_t> bytes(e.size() * 4);
      std::memcpy(bytes.data(), e.data(), bytes.size());
      return bytes;
    };
    regions[1].name = n.name + ".multiplier";
    regions[1].data = fill(n.i("multiplier"));
    regions[2].name = n.name + ".shift";
    regions[2].data = fill(n.i("shift"));
  }
  const size_t r = args.size() - 1;
  regions[r].name = n.outputs[0]->name;
  regions[r].packedShape = {ps.NB, ps.CB, ps.OH, ps.OW, B, BO};
  AccelKernel k = generateAccel(kern, config, regions);
  // generateAccel returns every parameter region (placed) and the micro-ops last.
  k.inputs = {k.constants[0]};
  k.output = k.constants[r];
  k.constants.erase(k.constants.begin() + static_cast<long>(r));
  k.constants.erase(k.constants.begin());
  return k;
}

}  // namespace kiln::codegen::accel_target
