// One int8 graph operator -> an accelerator kernel: its definition on the blocked layout
// (topi/quantized.cpp), an accelerator schedule sized to the config, tir::lower, and the
// accelerator code generator (codegen_accel.cpp). Weights, biases and requantization
// factors are packed here, ahead of time, into the device layout.
//
// The schedule of a convolution (a dense layer is a 1x1 convolution of 1x1 data):
//   - the output is tiled (rows, columns, blocks of output channels); its stage is the
//     copy from the acc buffer to DRAM (STORE), and its innermost tile loop is where the
//     rest of a tile is computed (computeAt);
//   - the convolution accumulates in the acc buffer (cacheWrite), its reduction over input
//     channel blocks split so that the input and weight tiles of one chunk fit their
//     buffers; those tiles are copied in per chunk (cacheRead into accel.inp / accel.wgt,
//     the zero border with them); its innermost batch x block_out x block_in loops become
//     the GEMM intrinsic (tensorize), the initialization its reset; where a kernel's weights
//     are too many for the wgt buffer, a chunk is also a few of its rows;
//   - bias, requantization and the clamp are stages in the acc buffer (cacheWrite), each
//     tensorized onto one ALU operation; biases, multipliers and shifts are loaded once;
//   - tile sizes: the choice (among divisors) with the fewest cycles by a simple model of
//     GEMM and DMA time, such that the tiles fit the buffers twice over (double buffering).
#include <cmath>
#include <limits>

#include "compile_pool.h"
#include "intrinsics.h"
#include "kiln/codegen/accel.h"
#include "kiln/runtime/accel_layout.h"
#include "kiln/runtime/error.h"
#include "kiln/schedule/schedule.h"
#include "kiln/tir/lower.h"
#include "kiln/topi/topi.h"

namespace kiln::codegen {

namespace {

using namespace accel_target;  // NOLINT
using schedule::Schedule;
using te::Tensor;

int64_t ceilDiv(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

std::vector<int64_t> divisors(int64_t n) {
  std::vector<int64_t> d;
  for (int64_t i = 1; i <= n; ++i)
    if (n % i == 0) d.push_back(i);
  return d;
}

// Per-channel int32 values as [OC / BO, B, BO] entries (rows repeated), zero beyond OC.
std::vector<uint8_t> perChannelEntries(const std::vector<int64_t>& v, int64_t OB, int64_t B,
                                       int64_t BO) {
  std::vector<int32_t> e(static_cast<size_t>(OB * B * BO), 0);
  for (int64_t o = 0; o < OB; ++o)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < BO; ++i)
        if (o * BO + i < static_cast<int64_t>(v.size()))
          e[static_cast<size_t>((o * B + b) * BO + i)] =
              static_cast<int32_t>(v[static_cast<size_t>(o * BO + i)]);
  std::vector<uint8_t> bytes(e.size() * 4);
  std::memcpy(bytes.data(), e.data(), bytes.size());
  return bytes;
}

struct ConvShape {
  int64_t NB, CB, OB, H, W, OH, OW, KH, KW, SH, SW;
  std::vector<int64_t> pads;
};

// A DMA row's fixed cost in the tile model: the DRAM latency the cycle model assumes (32)
// plus the job's request, delivery and gap cycles (hw/spec/accel.yaml, timing).
constexpr double kDmaRowCycles = 36;

struct Tiles {
  int64_t th = 1, tw = 1, to = 1, kc = 1, kr = 1;  // kc channel blocks x kr kernel rows a chunk
  bool constantsPerTile = false;  // biases, multipliers, shifts loaded per tile of channels
  double cycles = 0;              // the model's estimate
};

// aluReads: accumulator reads per output entry of the epilogue (the ALU's one read port).
Tiles chooseConvTiles(const ConvShape& c, const accel::Config& config, bool bias,
                      int64_t aluReads) {
  const accel::Params& p = config.params();
  const int64_t nconst = bias ? 3 : 2;
  // Per-channel constants stay in the acc buffer for the whole layer when they take at most
  // a quarter of it; otherwise each tile of output channels loads its own.
  const bool perTile = nconst * c.OB > p.acc_depth / 4;
  const double axiBytes = p.axi_width / 8.0;
  const double inpEntry = double(p.batch) * p.block_in, wgtEntry = double(p.block_out) * p.block_in;
  const double outEntry = double(p.batch) * p.block_out;
  double best = std::numeric_limits<double>::infinity();
  Tiles bestT;
  bool found = false;
  for (int64_t th : divisors(c.OH))
    for (int64_t tw : divisors(c.OW))
      for (int64_t to : divisors(c.OB))
        for (int64_t kc : divisors(c.CB))
          for (int64_t kr : divisors(c.KH)) {
            const int64_t ih = (th - 1) * c.SH + kr, iw = (tw - 1) * c.SW + c.KW;
            // A padded input tile one column wide has no run of DRAM entries for the DMA's
            // columns (a K x 1 convolution, as folding its columns makes, in 1-wide tiles).
            if (iw == 1 && c.W > 1 && c.pads[0] + c.pads[2] > 0) continue;
            const int64_t acc = to * th * tw, inp = kc * ih * iw, wgt = to * kc * kr * c.KW;
            const int64_t persistent = perTile ? 2 * nconst * to : nconst * c.OB;
            if (2 * acc + persistent > p.acc_depth || 2 * inp > p.inp_depth ||
                2 * wgt > p.wgt_depth || kr * c.KW * kc * to > p.uop_depth / 2 || th > 16383 ||
                tw > 16383)
              continue;
            const double spatial = double(c.OH / th) * double(c.OW / tw) * c.NB;
            const double chunks = double(c.CB / kc) * double(c.KH / kr);
            const double inpBytes = spatial * double(c.OB / to) * chunks * inp * inpEntry;
            // Weights stay in their buffer across spatial tiles when a tile's chunks alternate
            // between the two copies (at most two chunks).
            const double wgtLoads = chunks <= 2 ? double(c.OB / to) : spatial * double(c.OB / to);
            const double wgtBytes = wgtLoads * chunks * wgt * wgtEntry;
            const double outBytes = spatial * double(c.OB) * th * tw * outEntry;
            const double entries = spatial * double(c.OB) * th * tw;
            // GEMM and the epilogue's ALU operations share the compute module.
            const double gemm = entries * (double(c.CB) * c.KH * c.KW + double(aluReads));
            // Each DMA row (a job) waits out the DRAM's latency before its beats.
            const double rows = spatial * double(c.OB / to) * chunks * kc * ih +
                                wgtLoads * chunks * to + spatial * double(c.OB) * th;
            const double dma = (inpBytes + wgtBytes + outBytes) / axiBytes + kDmaRowCycles * rows;
            const double insns = spatial * double(c.OB / to) * (chunks * (kc + to * kc + 2) + 8);
            const double cycles = std::max(gemm, dma) + 0.1 * std::min(gemm, dma) + 20 * insns;
            if (cycles < best) {
              best = cycles;
              bestT = {th, tw, to, kc, kr, perTile, cycles};
              found = true;
            }
          }
  if (!found)
    throw Error("accelerator: no tiling of this convolution fits config '" + config.name() +
                "' (its buffers are too small even for one output pixel)");
  return bestT;
}

// A QConv's (or a QGemm's, as a 1x1 convolution of 1x1 data) shape in blocks of the config.
ConvShape convShape(const Node& n, const accel::Params& p) {
  const bool conv = n.op == "QConv";
  const Shape& xs = n.inputs[0]->shape;
  const Shape& ws = n.inputs[1]->shape;
  ConvShape c;
  c.NB = ceilDiv(xs[0], p.batch);
  c.CB = ceilDiv(xs[1], p.block_in);
  c.OB = ceilDiv(ws[0], p.block_out);
  c.H = conv ? xs[2] : 1;
  c.W = conv ? xs[3] : 1;
  c.KH = conv ? ws[2] : 1;
  c.KW = conv ? ws[3] : 1;
  c.pads = conv ? n.ints("pads") : std::vector<int64_t>{0, 0, 0, 0};
  c.SH = conv ? n.ints("strides")[0] : 1;
  c.SW = conv ? n.ints("strides")[1] : 1;
  c.OH = (c.H + c.pads[0] + c.pads[2] - c.KH) / c.SH + 1;
  c.OW = (c.W + c.pads[1] + c.pads[3] - c.KW) / c.SW + 1;
  return c;
}

// Accumulator reads per output entry of requantizePacked's ALU operations: ADD of the bias
// (dst, src), REQUANT (dst, multiplier, shift), MAX / MIN with an immediate (dst).
int64_t epilogueReads(const Node& n) {
  return (n.input(2) ? 2 : 0) + 3 + (n.i("out_min") > -128 ? 1 : 0) +
         (n.i("out_max") < 127 ? 1 : 0);
}

struct Built {
  std::vector<Tensor> args;
  std::vector<AccelRegion> regions;
  size_t output = 0;
  std::vector<size_t> inputs;
};

// The epilogue stages of requantizePacked (by their tags: min, max, requant or requant.imm
// with the shift `shiftImm`, bias), from the output back to the accumulation: each computed
// in the acc buffer, tensorized onto one ALU operation. Returns the stage the epilogue
// starts from.
Tensor scheduleEpilogue(Schedule& s, const Tensor& out, const std::vector<Tensor>& constants,
                        const te::Var& at, const accel::Params& p, int64_t lo, int64_t hi,
                        const te::Var* constantsAt = nullptr, int64_t shiftImm = 0) {
  std::vector<std::pair<Tensor, schedule::TensorIntrin>> alu;
  Tensor t = out->op->inputs[0];
  for (;; t = t->op->inputs[0]) {
    if (t->tag == "requant.bias")
      alu.emplace_back(t, aluAddIntrin(p));
    else if (t->tag == "requant")
      alu.emplace_back(t, aluRequantIntrin(p));
    else if (t->tag == "requant.imm")
      alu.emplace_back(t, aluRequantImmIntrin(p, shiftImm));
    else if (t->tag == "requant.max")
      alu.emplace_back(t, aluMaxIntrin(p, lo));
    else if (t->tag == "requant.min")
      alu.emplace_back(t, aluMinIntrin(p, hi));
    else
      break;
  }
  for (auto& [st, intrin] : alu) {
    Tensor c = s.cacheWrite(st, kScopeAcc);
    s[st].computeInline();
    s[c].computeAt(s[out], at);
    s[c].tensorize(s[c].axis(s[c].axes().size() - 2), intrin);
  }
  // Biases, multipliers and shifts: loaded into the acc buffer once, or per tile of channels.
  for (const Tensor& k : constants) {
    Tensor c = s.cacheRead(k, kScopeAcc);
    if (constantsAt) s[c].computeAt(s[out], *constantsAt);
  }
  return t;
}

// A depthwise convolution: the ALU's multiply-accumulate, one tap of one block of channels
// per micro-op (input tiles in the acc buffer, loaded as int8 with their zero border), then
// the same epilogue as a convolution. The weights and per-channel constants of a tile of
// channel blocks are loaded with it.
AccelKernel compileDepthwise(const Node& n, const accel::Config& config,
                             const tir::LowerOptions& lo) {
  const accel::Params& p = config.params();
  const int64_t B = p.batch, BO = p.block_out;
  const NDArray& w = *n.inputs[1]->constant;
  const Shape& xs = n.inputs[0]->shape;
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], KH = w.shape()[2], KW = w.shape()[3];
  const std::vector<int64_t> pads = n.ints("pads"), st = n.ints("strides");
  const int64_t NB = ceilDiv(N, B), CB = ceilDiv(C, BO);
  const int64_t OH = (H + pads[0] + pads[2] - KH) / st[0] + 1;
  const int64_t OW = (W + pads[1] + pads[3] - KW) / st[1] + 1;
  const bool hasBias = n.input(2) != nullptr;
  const int64_t nconst = hasBias ? 3 : 2;
  // Tiles: the most output entries per tile whose accumulators, input tiles (both twice),
  // weights and constants fit the acc buffer, with the weights and shifts (ALU aux operands)
  // within the micro-op's reach of wgt_depth entries.
  int64_t bt = 0, bh = 0, bw = 0, bestScore = -1;
  for (int64_t to : divisors(CB))
    for (int64_t th : divisors(OH))
      for (int64_t tw : divisors(OW)) {
        const int64_t ih = (th - 1) * st[0] + KH, iw = (tw - 1) * st[1] + KW;
        const int64_t acc = 2 * to * th * tw + 2 * to * ih * iw + 2 * to * (KH * KW + nconst);
        if (acc > p.acc_depth || 2 * to * (KH * KW + 1) > p.wgt_depth ||
            to * KH * KW > p.uop_depth / 2)
          continue;
        const int64_t score = to * th * tw * 4 + (tw == OW);
        if (score > bestScore) bestScore = score, bt = to, bh = th, bw = tw;
      }
  if (bestScore < 0)
    throw Error("accelerator: no tiling of depthwise convolution '" + n.name + "' fits config '" +
                config.name() + "'");
  const std::string name = "accel_" + n.name;
  Tensor x = te::placeholder("x", DType::I8, {NB, CB, H, W, B, BO});
  Tensor wt = te::placeholder("w", DType::I8, {CB, KH, KW, B, BO});
  Tensor bias = hasBias ? te::placeholder("bias", DType::I32, {CB, B, BO}) : Tensor();
  Tensor mult = te::placeholder("mult", DType::I32, {CB, B, BO});
  Tensor shift = te::placeholder("shift", DType::I32, {CB, B, BO});
  Tensor acc = topi::depthwiseConv2dPacked(x, wt, st, pads, name);
  Tensor out = topi::requantizePacked(acc, bias, mult, shift, n.i("out_min"), n.i("out_max"), name);
  Schedule s({out});
  auto& so = s[out];
  auto [oo, oi] = so.split(so.axis(1), bt);
  auto [ho, hi] = so.split(so.axis(2), bh);
  auto [wo, wi] = so.split(so.axis(3), bw);
  so.reorder({so.axis(0), oo, ho, wo, oi, hi, wi, so.axis(4), so.axis(5)});
  std::vector<Tensor> consts;
  if (hasBias) consts.push_back(bias);
  consts.push_back(mult);
  consts.push_back(shift);
  scheduleEpilogue(s, out, consts, wo, p, n.i("out_min"), n.i("out_max"), &oo);
  Tensor cacc = s.cacheWrite(acc, kScopeAcc);
  s[acc].computeInline();
  const Tensor pad = acc->op->inputs[0];
  Tensor xin = s.cacheRead(pad, kScopeAcc, {cacc});
  s[pad].computeInline();
  Tensor win = s.cacheRead(wt, kScopeAcc, {cacc});
  auto& sc = s[cacc];
  sc.computeAt(s[out], wo);
  sc.reorder({sc.reduceAxis(0), sc.reduceAxis(1), sc.axis(0), sc.axis(1), sc.axis(2), sc.axis(3),
              sc.axis(4), sc.axis(5)});
  sc.tensorize(sc.axis(4), aluMacIntrin(p));
  s[xin].computeAt(s[out], wo);
  s[win].computeAt(s[out], oo);
  std::vector<Tensor> args{x, wt};
  if (hasBias) args.push_back(bias);
  args.push_back(mult);
  args.push_back(shift);
  args.push_back(out);
  tir::Kernel kern = tir::lower(s, args, name, lo);
  std::vector<AccelRegion> regions(args.size());
  regions[0].name = n.inputs[0]->name;
  regions[0].packedShape = {NB, CB, H, W, B, BO};
  regions[1].name = n.inputs[1]->name;
  {
    std::vector<int8_t> pw(static_cast<size_t>(CB * KH * KW * B * BO), 0);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = 0; y < KH; ++y)
        for (int64_t xx = 0; xx < KW; ++xx)
          for (int64_t b = 0; b < B; ++b)
            pw[static_cast<size_t>(((((c / BO) * KH + y) * KW + xx) * B + b) * BO + c % BO)] =
                w.data<int8_t>()[(c * KH + y) * KW + xx];
    regions[1].data.assign(reinterpret_cast<uint8_t*>(pw.data()),
                           reinterpret_cast<uint8_t*>(pw.data()) + pw.size());
  }
  size_t r = 2;
  if (hasBias) {
    const NDArray& b = *n.input(2)->constant;
    std::vector<int64_t> bv(b.data<int32_t>(), b.data<int32_t>() + b.numel());
    regions[r].name = n.input(2)->name;
    regions[r++].data = perChannelEntries(bv, CB, B, BO);
  }
  regions[r].name = n.name + ".multiplier";
  regions[r++].data = perChannelEntries(n.ints("multiplier"), CB, B, BO);
  regions[r].name = n.name + ".shift";
  regions[r++].data = perChannelEntries(n.ints("shift"), CB, B, BO);
  regions[r].name = n.outputs[0]->name;
  regions[r].packedShape = {NB, CB, OH, OW, B, BO};
  AccelKernel k = generateAccel(kern, config, regions);
  k.inputs = {k.constants[0]};
  k.output = k.constants[r];
  k.constants.erase(k.constants.begin() + static_cast<long>(r));
  k.constants.erase(k.constants.begin());
  k.macs = static_cast<uint64_t>(N * C * OH * OW * KH * KW);
  return k;
}

}  // namespace

bool accelSupports(const Node& n, const accel::Config& config, std::string* why) {
  auto no = [&](const std::string& w) {
    if (why) *why = w;
    return false;
  };
  const accel::Params& p = config.params();
  if (p.block_in != p.block_out)
    return no("the config's block_in and block_out differ, so activations cannot chain");
  if (n.op == "QConv") {
    for (int64_t d : n.ints("dilations"))
      if (d != 1) return no("dilated convolution");
    const int64_t group = n.i("group"), C = n.inputs[0]->shape[1];
    const int64_t OC = n.inputs[1]->shape[0];
    if (group != 1 && !(group == C && OC == C))
      return no("grouped convolution (only depthwise, one filter per channel, runs on the device)");
    for (int64_t q : n.ints("pads"))
      if (q > 15) return no("padding wider than 15");
    if (!n.inputs[1]->isConstant()) return no("weights that are not constant");
    return true;
  }
  if (n.op == "QGemm") return n.inputs[1]->isConstant() || no("weights that are not constant");
  if (n.op == "QAdd") {
    const Shape& s = n.inputs[0]->shape;
    if (s.size() != 4 && s.size() != 2) return no("a tensor that is neither NCHW nor [N, C]");
    if (n.i("a_mul") > 32767 || n.i("b_mul") > 32767) return no("operand scales beyond 16 bits");
    return true;
  }
  if (n.op == "QMaxPool" || n.op == "QAveragePool") return poolSupported(n, config, why);
  return no("no accelerator definition for " + n.op);
}

double estimateAccelCycles(const Node& n, const accel::Config& config) {
  if ((n.op != "QConv" || n.i("group") != 1) && n.op != "QGemm")
    throw Error("accelerator: no cycle estimate for " + n.describe());
  const accel::Params& p = config.params();
  const ConvShape c = convShape(n, p);
  return chooseConvTiles(c, config, n.input(2) != nullptr, epilogueReads(n)).cycles;
}

AccelKernel compileAccelNode(const Node& n, const accel::Config& config, std::ostream* log) {
  std::string why;
  if (!accelSupports(n, config, &why))
    throw Error("accelerator: node '" + n.name + "' (" + n.op + ") cannot run on it: " + why);
  const accel::Params& p = config.params();
  const int64_t B = p.batch, BI = p.block_in, BO = p.block_out;
  tir::LowerOptions lo;
  lo.log = log;
  lo.partitionLoops = false;  // padding is the DMA engine's: keep the guarded copies whole
  AccelKernel k;
  const std::string name = "accel_" + n.name;

  if (n.op == "QConv" && n.i("group") > 1) return compileDepthwise(n, config, lo);
  if (n.op == "QMaxPool" || n.op == "QAveragePool") return compilePool(n, config, lo);
  if (n.op == "QConv" || n.op == "QGemm") {
    const bool conv = n.op == "QConv";
    const NDArray& w = *n.inputs[1]->constant;
    const Shape& xs = n.inputs[0]->shape;
    const ConvShape c = convShape(n, p);
    const int64_t N = xs[0], C = xs[1], OC = w.shape()[0];
    const bool hasBias = n.input(2) != nullptr;
    Tiles t = chooseConvTiles(c, config, hasBias, epilogueReads(n));

    Tensor x = te::placeholder("x", DType::I8, {c.NB, c.CB, c.H, c.W, B, BI});
    Tensor wt = te::placeholder("w", DType::I8, {c.OB, c.CB, c.KH, c.KW, BO, BI});
    Tensor bias = hasBias ? te::placeholder("bias", DType::I32, {c.OB, B, BO}) : Tensor();
    Tensor mult = te::placeholder("mult", DType::I32, {c.OB, B, BO});
    Tensor shift = te::placeholder("shift", DType::I32, {c.OB, B, BO});
    Tensor acc = topi::conv2dPacked(x, wt, {c.SH, c.SW}, c.pads, name);
    Tensor out =
        topi::requantizePacked(acc, bias, mult, shift, n.i("out_min"), n.i("out_max"), name);

    Schedule s({out});
    auto& so = s[out];
    auto [oo, oi] = so.split(so.axis(1), t.to);
    auto [ho, hi] = so.split(so.axis(2), t.th);
    auto [wo, wi] = so.split(so.axis(3), t.tw);
    so.reorder({so.axis(0), oo, ho, wo, oi, hi, wi, so.axis(4), so.axis(5)});
    std::vector<Tensor> consts;
    if (hasBias) consts.push_back(bias);
    consts.push_back(mult);
    consts.push_back(shift);
    scheduleEpilogue(s, out, consts, wo, p, n.i("out_min"), n.i("out_max"),
                     t.constantsPerTile ? &oo : nullptr);
    // The convolution: accumulate in acc, chunks of kc input-channel blocks.
    Tensor cacc = s.cacheWrite(acc, kScopeAcc);
    s[acc].computeInline();
    const Tensor pad = acc->op->inputs[0];
    Tensor xin = s.cacheRead(pad, kScopeInp, {cacc});
    s[pad].computeInline();
    Tensor win = s.cacheRead(wt, kScopeWgt, {cacc});
    auto& sc = s[cacc];  // (stages are all added: references stay valid)
    sc.computeAt(s[out], wo);
    auto [ko, ki] = sc.split(sc.reduceAxis(0), t.kc);
    auto [ro, ri] = sc.split(sc.reduceAxis(1), t.kr);
    sc.reorder({ko, ro, ki, ri, sc.reduceAxis(2), sc.axis(0), sc.axis(1), sc.axis(2), sc.axis(3),
                sc.axis(4), sc.axis(5), sc.reduceAxis(3)});
    sc.tensorize(sc.axis(4), gemmIntrin(p));
    s[xin].computeAt(s[cacc], ro);
    s[win].computeAt(s[cacc], ro);

    std::vector<Tensor> args{x, wt};
    if (hasBias) args.push_back(bias);
    args.push_back(mult);
    args.push_back(shift);
    args.push_back(out);
    tir::Kernel kern = tir::lower(s, args, name, lo);

    // The regions: x, packed weights, per-channel constants, the output.
    std::vector<AccelRegion> regions(args.size());
    regions[0].name = n.inputs[0]->name;
    regions[0].packedShape = {c.NB, c.CB, c.H, c.W, B, BI};
    regions[1].name = n.inputs[1]->name;
    {
      std::vector<int8_t> pw(static_cast<size_t>(c.OB * c.CB * c.KH * c.KW * BO * BI), 0);
      const int64_t KC = conv ? w.shape()[1] : w.shape()[1];
      for (int64_t o = 0; o < OC; ++o)
        for (int64_t ci = 0; ci < KC; ++ci)
          for (int64_t y = 0; y < c.KH; ++y)
            for (int64_t xx = 0; xx < c.KW; ++xx)
              pw[static_cast<size_t>(
                  ((((o / BO) * c.CB + ci / BI) * c.KH + y) * c.KW + xx) * BO * BI + (o % BO) * BI +
                  ci % BI)] = w.data<int8_t>()[((o * KC + ci) * c.KH + y) * c.KW + xx];
      regions[1].data.assign(reinterpret_cast<uint8_t*>(pw.data()),
                             reinterpret_cast<uint8_t*>(pw.data()) + pw.size());
    }
    size_t r = 2;
    if (hasBias) {
      const NDArray& b = *n.input(2)->constant;
      std::vector<int64_t> bv(b.data<int32_t>(), b.data<int32_t>() + b.numel());
      regions[r].name = n.input(2)->name;
      regions[r++].data = perChannelEntries(bv, c.OB, B, BO);
    }
    regions[r].name = n.name + ".multiplier";
    regions[r++].data = perChannelEntries(n.ints("multiplier"), c.OB, B, BO);
    regions[r].name = n.name + ".shift";
    regions[r++].data = perChannelEntries(n.ints("shift"), c.OB, B, BO);
    regions[r].name = n.outputs[0]->name;
    regions[r].packedShape = {c.NB, c.OB, c.OH, c.OW, B, BO};
    k = generateAccel(kern, config, regions);
    // generateAccel returns every parameter region (placed) and the micro-ops last.
    k.inputs = {k.constants[0]};
    k.output = k.constants[r];
    k.constants.erase(k.constants.begin() + static_cast<long>(r));
    k.constants.erase(k.constants.begin());
    k.macs = static_cast<uint64_t>(N * OC * c.OH * c.OW * C * c.KH * c.KW);
    return k;
  }

  // QAdd: both operands loaded into the acc buffer (as int8, sign-extended) a block of rows
  // at a time, scaled, added, requantized and clamped in place by the ALU.
  const Shape& xs = n.inputs[0]->shape;
  std::vector<int64_t> ps = accel_layout::packedShape(xs, B, BO);
  Tensor a = te::placeholder("a", DType::I8, ps);
  Tensor b = te::placeholder("b", DType::I8, ps);
  Tensor mult = te::placeholder("mult", DType::I32, {B, BO});
  const int64_t am = n.i("a_mul"), bm = n.i("b_mul");
  Tensor out =
      topi::qaddPacked(a, b, am, bm, mult, n.i("shift"), n.i("out_min"), n.i("out_max"), name);
  // Rows per tile: the two operands, twice over, in what the acc buffer has left.
  const int64_t rowEntries = ps[3];
  int64_t th = 1;
  for (int64_t d : divisors(ps[2]))
    if (2 * 2 * d * rowEntries + 1 <= p.acc_depth) th = d;
  if (2 * 2 * th * rowEntries + 1 > p.acc_depth)
    throw Error("accelerator: a row of '" + n.name + "' does not fit config '" + config.name() +
                "''s acc buffer");
  Schedule s({out});
  auto& so = s[out];
  auto [ho, hi] = so.split(so.axis(2), th);
  so.reorder({so.axis(0), so.axis(1), ho, hi, so.axis(3), so.axis(4), so.axis(5)});
  // The sum: a's scaled values in place (MUL), then b's added (MAC by an immediate); the
  // requantization's shift is an immediate too (one read of the accumulator port fewer).
  const Tensor sum = scheduleEpilogue(s, out, {mult}, ho, p, n.i("out_min"), n.i("out_max"),
                                      nullptr, n.i("shift"));
  const Tensor sa = sum->op->inputs[0];
  for (auto [t, intrin] : std::vector<std::pair<Tensor, schedule::TensorIntrin>>{
           {sum, aluMulAddIntrin(p, DType::I8, bm)}, {sa, aluMulIntrin(p, DType::I8, am)}}) {
    Tensor c = s.cacheWrite(t, kScopeAcc);
    s[t].computeInline();
    s[c].computeAt(s[out], ho);
    s[c].tensorize(s[c].axis(4), intrin);
  }
  for (const Tensor& in : {a, b}) {
    Tensor c = s.cacheRead(in, kScopeAcc);
    s[c].computeAt(s[out], ho);
  }
  std::vector<Tensor> args{a, b, mult, out};
  tir::Kernel kern = tir::lower(s, args, name, lo);
  std::vector<AccelRegion> regions(args.size());
  regions[0].name = n.inputs[0]->name;
  regions[0].packedShape = ps;
  regions[1].name = n.inputs[1]->name;
  regions[1].packedShape = ps;
  regions[2].name = n.name + ".multiplier";
  regions[2].data =
      perChannelEntries(std::vector<int64_t>(static_cast<size_t>(BO), n.i("multiplier")), 1, B, BO);
  regions[3].name = n.outputs[0]->name;
  regions[3].packedShape = ps;
  k = generateAccel(kern, config, regions);
  k.inputs = {k.constants[0], k.constants[1]};
  k.output = k.constants[3];
  k.constants.erase(k.constants.begin() + 3);
  k.constants.erase(k.constants.begin(), k.constants.begin() + 2);
  return k;
}

}  // namespace kiln::codegen
