// Tiled convolution streams for the benchmarks (see conv_stream.h).
#include "conv_stream.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <tuple>

namespace kiln::bench {

using accel::AluOp;
using accel::Insn;
using accel::MemType;
using accel::Opcode;
using accel::Uop;

std::vector<ConvShape> resnet18Convs() {
  std::vector<ConvShape> v;
  v.push_back({"conv1", 224, 224, 3, 64, 7, 2, 3});
  for (int i = 0; i < 4; ++i) v.push_back({"layer1." + std::to_string(i), 56, 56, 64, 64});
  const int sizes[] = {56, 28, 14}, chans[] = {64, 128, 256};
  for (int l = 0; l < 3; ++l) {
    const int h = sizes[l], c = chans[l];
    const std::string n = "layer" + std::to_string(l + 2);
    v.push_back({n + ".0.conv1", h, h, c, 2 * c, 3, 2, 1});
    v.push_back({n + ".0.downsample", h, h, c, 2 * c, 1, 2, 0});
    for (int i = 0; i < 3; ++i)
      v.push_back({n + ".conv" + std::to_string(i), h / 2, h / 2, 2 * c, 2 * c});
  }
  return v;
}

namespace {

Insn memInsn(Opcode op, MemType m, uint64_t sram, uint64_t dram, uint64_t ys, uint64_t xs,
             uint64_t stride) {
  Insn in;
  in.opcode = op;
  in.memory_type = m;
  in.sram_base = static_cast<uint32_t>(sram);
  in.dram_base = static_cast<uint32_t>(dram);
  in.y_size = static_cast<uint32_t>(ys);
  in.x_size = static_cast<uint32_t>(xs);
  in.x_stride = static_cast<uint32_t>(stride);
  return in;
}

uint64_t align(uint64_t v, uint64_t a) {
  return (v + a - 1) / a * a;
}

}  // namespace

ConvStream buildConvStream(const accel::Config& config, const ConvShape& s,
                           std::vector<uint8_t>& dram, uint32_t seed) {
  const accel::Params& p = config.params();
  const int bi = p.block_in, bo = p.block_out, k2 = s.k * s.k;
  const int cib = (s.cin + bi - 1) / bi, cob = s.cout / bo;
  const int oh = s.outH(), ow = s.outW();
  if (s.cout % bo) throw Error(s.name + ": output channels must be a multiple of block_out");
  const int64_t inp_half = p.inp_depth / 2, wgt_half = p.wgt_depth / 2;
  const int64_t acc_half_max = (p.acc_depth - cob) / 2;

  // The output tile: the largest candidate that divides the output and whose input tile
  // (with its halo) fits half the input buffer.
  int t = 0, in_tile = 0;
  for (int c : {14, 8, 7}) {
    const int it = (c - 1) * s.stride + s.k;
    if (oh % c == 0 && ow % c == 0 && int64_t{it} * it <= inp_half &&
        int64_t{c} * c <= acc_half_max) {
      t = c;
      in_tile = it;
      break;
    }
  }
  const int64_t group = std::min<int64_t>(
      {cob, t ? acc_half_max / (int64_t{t} * t) : 0, wgt_half / (int64_t{cib} * k2)});
  if (t == 0 || group < 1)
    throw Error(s.name + ": config " + config.name() + " is too small for this layer's tiles");
  const int64_t tile_in = int64_t{in_tile} * in_tile;
  const int chunk = static_cast<int>(std::min<int64_t>(cib, inp_half / tile_in));
  const int chunks = (cib + chunk - 1) / chunk;
  const int64_t acc_half = group * t * t, mult_base = 2 * acc_half;

  // DRAM: input [cib][h][w], weights [cob][cib][k][k], multipliers [cob], output
  // [cob][oh][ow], micro-ops last.
  const uint64_t inp_elem = config.elementBytes(MemType::kInp);
  const uint64_t wgt_elem = config.elementBytes(MemType::kWgt);
  const uint64_t acc_elem = config.elementBytes(MemType::kAcc);
  const uint64_t out_elem = config.elementBytes(MemType::kOut);
  const uint64_t uop_elem = config.elementBytes(MemType::kUop);
  const uint64_t a = std::max({inp_elem, wgt_elem, acc_elem, out_elem, uop_elem});
  const uint64_t inp_at = 0;
  const uint64_t wgt_at = align(inp_at + uint64_t(cib) * s.h * s.w * inp_elem, a);
  const uint64_t mult_at = align(wgt_at + uint64_t(cob) * cib * k2 * wgt_elem, a);
  const uint64_t out_at = align(mult_at + uint64_t(cob) * acc_elem, a);
  const uint64_t uop_at = align(out_at + uint64_t(cob) * oh * ow * out_elem, a);

  std::mt19937 rng(seed);
  dram.assign(uop_at, 0);
  for (uint64_t i = inp_at; i < wgt_at; ++i) dram[i] = static_cast<uint8_t>(rng());
  for (uint64_t i = wgt_at; i < mult_at; ++i) dram[i] = static_cast<uint8_t>(rng());
  for (uint64_t i = 0; i < uint64_t(cob) * bo * p.batch; ++i) {
    uint32_t mult = (1u << 30) + (rng() % (1u << 28));  // about 2^-10 after the shift of 40
    std::memcpy(&dram[mult_at + i * 4], &mult, 4);
  }

  // Micro-op sets, one per distinct step (buffer halves, group size, chunk), each [reset |
  // gemm | alu], loaded before the step's compute.
  std::vector<Uop> uops;
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>, uint64_t> sets;
  auto uopSet = [&](int64_t ah, int64_t ih, int64_t wh, int64_t co0, int64_t gsz, int c) {
    const int cc = std::min(chunk, cib - c * chunk);
    auto key = std::make_tuple(ah, ih, wh, co0, gsz, int64_t{c});
    auto it = sets.find(key);
    if (it != sets.end()) return it->second;
    const uint64_t at = uops.size();
    for (int64_t co = 0; co < gsz; ++co)
      uops.push_back({uint32_t(ah * acc_half + co * t * t), 0, 0});
    for (int64_t co = 0; co < gsz; ++co)
      for (int ci = 0; ci < cc; ++ci)
        for (int ky = 0; ky < s.k; ++ky)
          for (int kx = 0; kx < s.k; ++kx)
            uops.push_back(
                {uint32_t(ah * acc_half + co * t * t),
                 uint32_t(ih * inp_half + ci * tile_in + ky * in_tile + kx),
                 uint32_t(wh * wgt_half + ((co * cib + c * chunk + ci) * s.k + ky) * s.k + kx)});
    for (int64_t co = 0; co < gsz; ++co)
      uops.push_back({uint32_t(ah * acc_half + co * t * t), uint32_t(mult_base + co0 + co), 0});
    sets[key] = at;
    return at;
  };

  ConvStream out;
  std::vector<Insn>& v = out.insns;
  std::vector<size_t> uop_loads;  // their dram_base is relative to the micro-op region
  v.push_back(memInsn(Opcode::kLoad, MemType::kAcc, mult_base, mult_at / acc_elem, 1, cob, cob));

  const int tiles_y = oh / t, tiles_x = ow / t;
  const int64_t groups = (cob + group - 1) / group;
  const int64_t outputs = groups * tiles_y * tiles_x, steps = outputs * chunks;
  int64_t step = 0, o = 0;
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t co0 = g * group, gsz = std::min<int64_t>(group, cob - co0);
    for (int ty = 0; ty < tiles_y; ++ty) {
      for (int tx = 0; tx < tiles_x; ++tx, ++o) {
        const int64_t ah = o % 2;
        for (int c = 0; c < chunks; ++c, ++step) {
          const int64_t ih = step % 2, wh = g % 2;
          const int cc = std::min(chunk, cib - c * chunk);
          const bool first = c == 0, last = c == chunks - 1;
          // Load: this chunk's input channels (the first load waits for compute to be done
          // with the half's previous step), and the group's weights on its first step.
          const int y0 = ty * t * s.stride - s.pad, x0 = tx * t * s.stride - s.pad;
          const int pt = std::max(0, -y0), pl = std::max(0, -x0);
          const int pb = std::max(0, y0 + in_tile - s.h), pr = std::max(0, x0 + in_tile - s.w);
          for (int ci = 0; ci < cc; ++ci) {
            Insn in = memInsn(Opcode::kLoad, MemType::kInp, ih * inp_half + ci * tile_in,
                              inp_at / inp_elem + uint64_t(c * chunk + ci) * s.h * s.w +
                                  uint64_t(y0 + pt) * s.w + (x0 + pl),
                              in_tile - pt - pb, in_tile - pl - pr, s.w);
            in.y_pad_0 = pt;
            in.y_pad_1 = pb;
            in.x_pad_0 = pl;
            in.x_pad_1 = pr;
            in.pop_next = ci == 0 && step >= 2;
            v.push_back(in);
            if (ci == 0 && first && ty == 0 && tx == 0)
              v.push_back(memInsn(Opcode::kLoad, MemType::kWgt, wh * wgt_half,
                                  wgt_at / wgt_elem + uint64_t(co0) * cib * k2, 1, gsz * cib * k2,
                                  gsz * cib * k2));
          }
          v.back().push_next = true;

          // Compute: the step's micro-ops; zero the accumulators (once store is done with
          // the half's previous output), accumulate, and after the last chunk requantize
          // and apply ReLU.
          const uint64_t set = uopSet(ah, ih, wh, co0, gsz, c);
          const uint64_t n_uops = 2 * gsz + gsz * cc * k2;
          uop_loads.push_back(v.size());
          v.push_back(memInsn(Opcode::kLoad, MemType::kUop, 0, set, 1, n_uops, n_uops));
          Insn gemm;
          gemm.opcode = Opcode::kGemm;
          gemm.iter_out = t;
          gemm.iter_in = t;
          gemm.acc_factor_out = t;
          gemm.acc_factor_in = 1;
          if (first) {
            Insn reset = gemm;
            reset.reset = true;
            reset.uop_begin = 0;
            reset.uop_end = static_cast<uint32_t>(gsz);
            reset.pop_next = o >= 2;
            v.push_back(reset);
          }
          gemm.uop_begin = static_cast<uint32_t>(gsz);
          gemm.uop_end = static_cast<uint32_t>(gsz + gsz * cc * k2);
          gemm.inp_factor_out = static_cast<uint32_t>(s.stride * in_tile);
          gemm.inp_factor_in = static_cast<uint32_t>(s.stride);
          gemm.pop_prev = true;
          gemm.push_prev = step + 2 < steps;
          v.push_back(gemm);
          if (!last) continue;
          Insn requant;
          requant.opcode = Opcode::kAlu;
          requant.alu_op = AluOp::kRequant;
          requant.use_imm = true;
          requant.imm = 40;
          requant.uop_begin = static_cast<uint32_t>(n_uops - gsz);
          requant.uop_end = static_cast<uint32_t>(n_uops);
          requant.iter_out = t;
          requant.iter_in = t;
          requant.acc_factor_out = t;
          requant.acc_factor_in = 1;
          v.push_back(requant);
          Insn relu = requant;
          relu.alu_op = AluOp::kMax;
          relu.imm = 0;
          relu.push_next = true;
          v.push_back(relu);

          // Store: every output channel block of the tile.
          for (int64_t co = 0; co < gsz; ++co) {
            Insn st = memInsn(Opcode::kStore, MemType::kOut, ah * acc_half + co * t * t,
                              out_at / out_elem + uint64_t(co0 + co) * oh * ow +
                                  uint64_t(ty) * t * ow + uint64_t(tx) * t,
                              t, t, ow);
            st.pop_prev = co == 0;
            st.push_prev = co == gsz - 1 && (o + 2 < outputs || o == outputs - 1);
            v.push_back(st);
          }
        }
      }
    }
  }
  Insn finish;
  finish.opcode = Opcode::kFinish;
  finish.pop_next = true;
  v.push_back(finish);

  // The micro-op region, and the loads that read it.
  dram.resize(uop_at + uops.size() * uop_elem);
  for (size_t i = 0; i < uops.size(); ++i) {
    uint64_t w = encodeUop(config.layout(), uops[i]);
    for (uint64_t b = 0; b < uop_elem; ++b)
      dram[uop_at + i * uop_elem + b] = static_cast<uint8_t>(w >> (8 * b));
  }
  for (size_t i : uop_loads) v[i].dram_base += static_cast<uint32_t>(uop_at / uop_elem);
  out.dramBytes = dram.size();
  out.outBase = out_at;
  out.outBytes = uint64_t(cob) * oh * ow * out_elem;
  return out;
}

}  // namespace kiln::bench
