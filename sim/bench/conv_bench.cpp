// Benchmark of the cycle model on a realistic stream: a ResNet-18 3x3 convolution (layer1:
// 64 -> 64 channels, 56 x 56, stride 1, padding 1) tiled for the pynq-z1 config into 14 x 14
// output tiles with every output channel, with double-buffered input and accumulator tiles
// ordered by dependency tokens, padded strided input loads, requantization and ReLU.
//
// It runs the stream on the cycle model and on the functional reference, checks that both
// leave the same DRAM bytes, and prints simulated cycles per second of wall time against the
// 10 million cycles/s goal, and the cycles against the ideal (MACs / MACs per cycle).
//
//   kiln-sim-bench [--config NAME] [--repeat N]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kiln/accel/config.h"
#include "kiln/accel/isa.h"
#include "kiln/accel/reference.h"
#include "kiln/sim/cycle_model.h"
#if KILN_HAVE_SIM_RTL
#include "kiln/driver/accelerator.h"
#include "kiln/sim/rtl_backend.h"
#endif

using namespace kiln;
using namespace kiln::accel;

namespace {

constexpr int kH = 56, kW = 56, kC = 64, kK = 3;  // input = output size (padding 1)
constexpr int kTile = 14;                         // output tile: kTile x kTile pixels

struct DramMap {
  // DRAM byte addresses of each region.
  uint64_t uops = 0, mult = 64 << 10, wgt = 128 << 10, inp = 512 << 10, out = 1 << 20;
  uint64_t dram_bytes = 2 << 20;
};

Insn load(MemType m, uint32_t sram, uint32_t dram, uint32_t ys, uint32_t xs, uint32_t stride) {
  Insn in;
  in.opcode = Opcode::kLoad;
  in.memory_type = m;
  in.sram_base = sram;
  in.dram_base = dram;
  in.y_size = ys;
  in.x_size = xs;
  in.x_stride = stride;
  return in;
}

// Builds the stream and fills DRAM (micro-ops, multipliers, weights, input).
std::vector<Insn> buildConv(const Config& config, Machine& m, const DramMap& d) {
  const Params& p = config.params();
  const int bi = p.block_in, bo = p.block_out;
  const int cib = kC / bi, cob = kC / bo;  // channel blocks
  const int tiles_y = kH / kTile, tiles_x = kW / kTile, tiles = tiles_y * tiles_x;
  const int in_tile = kTile + kK - 1;  // input tile side with the halo
  const uint32_t inp_half = static_cast<uint32_t>(cib * in_tile * in_tile);
  const uint32_t acc_half = static_cast<uint32_t>(cob * kTile * kTile);
  const uint32_t mult_base = 2 * acc_half;
  if (2 * inp_half > p.inp_depth || mult_base + cob > p.acc_depth ||
      cob * cib * kK * kK > p.wgt_depth)
    throw Error("config " + config.name() + " is too small for this benchmark's tiles");
  std::mt19937 rng(7);
  auto byte = [&] { return static_cast<uint8_t>(rng() % 256); };
  auto dram = m.dram();

  // Micro-ops: per buffer half, cob reset ops, then (co, ci, ky, kx) GEMM ops, then cob ALU ops.
  std::vector<Uop> uops;
  std::array<uint32_t, 2> reset_at{}, gemm_at{}, alu_at{};
  for (uint32_t h = 0; h < 2; ++h) {
    reset_at[h] = static_cast<uint32_t>(uops.size());
    for (int co = 0; co < cob; ++co) uops.push_back({h * acc_half + co * kTile * kTile, 0, 0});
    gemm_at[h] = static_cast<uint32_t>(uops.size());
    for (int co = 0; co < cob; ++co)
      for (int ci = 0; ci < cib; ++ci)
        for (int ky = 0; ky < kK; ++ky)
          for (int kx = 0; kx < kK; ++kx)
            uops.push_back({h * acc_half + co * kTile * kTile,
                            h * inp_half + ci * in_tile * in_tile + ky * in_tile + kx,
                            static_cast<uint32_t>(((co * cib + ci) * kK + ky) * kK + kx)});
    alu_at[h] = static_cast<uint32_t>(uops.size());
    for (int co = 0; co < cob; ++co)
      uops.push_back({h * acc_half + co * kTile * kTile, mult_base + co, 0});
  }
  const uint64_t ub = config.elementBytes(MemType::kUop);
  for (size_t i = 0; i < uops.size(); ++i) {
    uint64_t w = encodeUop(config.layout(), uops[i]);
    for (uint64_t b = 0; b < ub; ++b)
      dram[d.uops + i * ub + b] = static_cast<uint8_t>(w >> (8 * b));
  }
  // Multipliers (about 2^-10 after the shift of 40 below), weights, input.
  for (int co = 0; co < cob; ++co)
    for (int e = 0; e < p.batch * bo; ++e) {
      uint32_t mult = (1u << 30) + (rng() % (1u << 28));
      std::memcpy(&dram[d.mult + (co * p.batch * bo + e) * 4], &mult, 4);
    }
  for (uint64_t i = 0; i < uint64_t(cob * cib * kK * kK) * bo * bi; ++i) dram[d.wgt + i] = byte();
  for (uint64_t i = 0; i < uint64_t(cib) * kH * kW * p.batch * bi; ++i) dram[d.inp + i] = byte();

  const uint32_t inp_elem = static_cast<uint32_t>(config.elementBytes(MemType::kInp));
  const uint32_t out_elem = static_cast<uint32_t>(config.elementBytes(MemType::kOut));
  std::vector<Insn> s;
  s.push_back(load(MemType::kUop, 0, static_cast<uint32_t>(d.uops / ub), 1,
                   static_cast<uint32_t>(uops.size()), static_cast<uint32_t>(uops.size())));
  s.push_back(load(MemType::kAcc, mult_base,
                   static_cast<uint32_t>(d.mult / config.elementBytes(MemType::kAcc)), 1, cob,
                   cob));
  s.push_back(load(MemType::kWgt, 0,
                   static_cast<uint32_t>(d.wgt / config.elementBytes(MemType::kWgt)), 1,
                   cob * cib * kK * kK, cob * cib * kK * kK));

  for (int t = 0; t < tiles; ++t) {
    const uint32_t h = t % 2;
    const int oy = (t / tiles_x) * kTile, ox = (t % tiles_x) * kTile;
    // Load: the input tile of every channel block, with the zero border where it leaves the
    // image. Tile t reuses the half of tile t - 2, which compute must have finished reading.
    const int y0 = oy - 1, x0 = ox - 1;
    const uint32_t pad_top = y0 < 0, pad_left = x0 < 0;
    const uint32_t pad_bottom = y0 + in_tile > kH, pad_right = x0 + in_tile > kW;
    for (int ci = 0; ci < cib; ++ci) {
      Insn in = load(MemType::kInp, h * inp_half + ci * in_tile * in_tile,
                     static_cast<uint32_t>(d.inp / inp_elem) + ci * kH * kW + (y0 + pad_top) * kW +
                         (x0 + pad_left),
                     in_tile - pad_top - pad_bottom, in_tile - pad_left - pad_right, kW);
      in.y_pad_0 = pad_top;
      in.y_pad_1 = pad_bottom;
      in.x_pad_0 = pad_left;
      in.x_pad_1 = pad_right;
      in.pop_next = ci == 0 && t >= 2;
      in.push_next = ci == cib - 1;
      s.push_back(in);
    }
    // Compute: zero the accumulators (once store has written tile t - 2 from this half),
    // convolve, requantize, ReLU.
    Insn reset;
    reset.opcode = Opcode::kGemm;
    reset.reset = true;
    reset.uop_begin = reset_at[h];
    reset.uop_end = reset_at[h] + cob;
    reset.iter_out = kTile;
    reset.iter_in = kTile;
    reset.acc_factor_out = kTile;
    reset.acc_factor_in = 1;
    reset.pop_next = t >= 2;
    s.push_back(reset);
    Insn gemm = reset;
    gemm.reset = false;
    gemm.pop_next = false;
    gemm.pop_prev = true;
    gemm.uop_begin = gemm_at[h];
    gemm.uop_end = gemm_at[h] + cob * cib * kK * kK;
    gemm.inp_factor_out = in_tile;
    gemm.inp_factor_in = 1;
    gemm.push_prev = t + 2 < tiles;
    s.push_back(gemm);
    Insn requant = reset;
    requant.opcode = Opcode::kAlu;
    requant.reset = false;
    requant.pop_next = false;
    requant.uop_begin = alu_at[h];
    requant.uop_end = alu_at[h] + cob;
    requant.alu_op = AluOp::kRequant;
    requant.use_imm = true;
    requant.imm = 40;
    s.push_back(requant);
    Insn relu = requant;
    relu.alu_op = AluOp::kMax;
    relu.imm = 0;
    relu.push_next = true;
    s.push_back(relu);
    // Store: every output channel block of the tile.
    for (int co = 0; co < cob; ++co) {
      Insn st = load(MemType::kOut, h * acc_half + co * kTile * kTile,
                     static_cast<uint32_t>(d.out / out_elem) + co * kH * kW + oy * kW + ox, kTile,
                     kTile, kW);
      st.opcode = Opcode::kStore;
      st.pop_prev = co == 0;
      st.push_prev = co == cob - 1 && (t + 2 < tiles || t == tiles - 1);
      s.push_back(st);
    }
  }
  Insn finish;
  finish.opcode = Opcode::kFinish;
  finish.pop_next = true;
  s.push_back(finish);
  return s;
}

double seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU seconds of this process: on a machine shared with other work, the steadier figure.
double cpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_name = "pynq-z1";
  int repeat = 3;
  bool rtl = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rtl") == 0) rtl = true;
    if (i + 1 >= argc) continue;
    if (std::strcmp(argv[i], "--config") == 0) config_name = argv[i + 1];
    if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::max(1, std::atoi(argv[i + 1]));
  }
  try {
    Config config = Config::find(config_name).value();
    DramMap d;
    sim::CycleModel model(config, d.dram_bytes);
    std::vector<Insn> stream = buildConv(config, model.machine(), d);
    Machine ref(config, d.dram_bytes);
    std::copy(model.dram().begin(), model.dram().end(), ref.dram().begin());
    std::vector<uint8_t> initial(model.dram().begin(), model.dram().end());

    // Reference first (its time is the anchor), then the cycle model, best of `repeat`.
    double ref_s = 1e30, sim_s = 1e30, sim_cpu = 1e30;
    sim::Stats stats;
    for (int r = 0; r < repeat; ++r) {
      std::copy(initial.begin(), initial.end(), ref.dram().begin());
      auto a = std::chrono::steady_clock::now();
      Expected<RunStats> rs = ref.run(stream);
      auto b = std::chrono::steady_clock::now();
      if (!rs) throw Error("reference: " + rs.message());
      ref_s = std::min(ref_s, seconds(a, b));

      std::copy(initial.begin(), initial.end(), model.dram().begin());
      double cpu = cpuSeconds();
      a = std::chrono::steady_clock::now();
      Expected<sim::Stats> ss = model.run(stream);
      b = std::chrono::steady_clock::now();
      cpu = cpuSeconds() - cpu;
      if (!ss) throw Error("cycle model: " + ss.message());
      sim_s = std::min(sim_s, seconds(a, b));
      sim_cpu = std::min(sim_cpu, cpu);
      stats = *ss;
    }
    bool same = std::equal(ref.dram().begin(), ref.dram().end(), model.dram().begin());

    const double macs = double(kH) * kW * kC * kC * kK * kK;
    const double ideal = macs / static_cast<double>(stats.macs_per_cycle);
    const double rate = static_cast<double>(stats.cycles) / sim_s;
    std::printf(
        "stream: ResNet-18 conv 3x3 %dx%dx%d -> %d, %dx%d output tiles, config %s, %zu "
        "instructions\n",
        kH, kW, kC, kC, kTile, kTile, config.name().c_str(), stream.size());
    std::printf("%s\n", stats.report().c_str());
    std::printf("bytes identical to the reference: %s\n", same ? "yes" : "NO");
    std::printf("ideal cycles (MACs / %llu): %.0f; simulated %llu = %.3f x ideal\n",
                static_cast<unsigned long long>(stats.macs_per_cycle), ideal,
                static_cast<unsigned long long>(stats.cycles), stats.cycles / ideal);
    std::printf("wall time: cycle model %.1f ms, functional reference %.1f ms (%.2f x)\n",
                sim_s * 1e3, ref_s * 1e3, sim_s / ref_s);
    std::printf("simulated cycles per second: %.2f M = %.2f x the 10 M cycles/s goal\n", rate / 1e6,
                rate / 1e7);
    const double cpu_rate = static_cast<double>(stats.cycles) / sim_cpu;
    std::printf("per CPU second: %.2f M = %.2f x the goal (cycle model %.1f ms of CPU)\n",
                cpu_rate / 1e6, cpu_rate / 1e7, sim_cpu * 1e3);
    if (rtl) {
#if KILN_HAVE_SIM_RTL
      // The same stream on the Verilated RTL, driven through its registers by the driver.
      auto backend = sim::makeSimRtlBackend(config, d.dram_bytes + (1 << 20));
      if (!backend) throw Error(backend.message());
      auto acc = driver::Accelerator::open(std::move(*backend), config);
      if (!acc) throw Error(acc.message());
      driver::DmaBuffer mem = (*acc)->allocate(d.dram_bytes);
      std::copy(initial.begin(), initial.end(), mem.host);
      std::vector<uint8_t> bytes = encodeStream(config.layout(), stream);
      auto a = std::chrono::steady_clock::now();
      Expected<driver::RunResult> r = (*acc)->run(bytes, mem.deviceAddr, std::chrono::minutes(30));
      auto b = std::chrono::steady_clock::now();
      if (!r) throw Error("RTL: " + r.message());
      const uint64_t rtl_cycles = r->counters.at("CYCLES");
      const bool rtl_same = std::equal(ref.dram().begin(), ref.dram().end(), mem.host);
      std::printf(
          "RTL (Verilator -O3, 1 thread): %llu cycles in %.2f s = %.3f M cycles/s; "
          "bytes identical to the reference: %s\n",
          static_cast<unsigned long long>(rtl_cycles), seconds(a, b),
          static_cast<double>(rtl_cycles) / seconds(a, b) / 1e6, rtl_same ? "yes" : "NO");
      std::printf("cycle model vs RTL: %+.1f%% cycles, %.0f x faster\n",
                  (static_cast<double>(stats.cycles) / static_cast<double>(rtl_cycles) - 1) * 100,
                  seconds(a, b) / sim_s);
      if (!rtl_same) return 1;
#else
      throw Error(
          "--rtl: this build has no Verilated RTL model (configure with Verilator installed)");
#endif
    }
    return same ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln-sim-bench: %s\n", e.what());
    return 1;
  }
}
