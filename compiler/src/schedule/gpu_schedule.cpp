// GPU schedules per operator family, shared by CUDA and OpenCL (see gpu_schedule.h).
#include "kiln/schedule/gpu_schedule.h"

#include "kiln/runtime/error.h"

#include <algorithm>
#include <sstream>
#include <string>
#include <tuple>

namespace kiln::schedule {

namespace {
int64_t extentOf(const Stage& s, const Var& v) {
  return s.loops()[s.loopIndex(v)].extent;
}

int64_t largestDivisor(int64_t n, int64_t cap) {
  for (int64_t d = std::min(n, cap); d > 1; --d)
    if (n % d == 0) return d;
  return 1;
}

// The largest block size that divides `total` (a warp multiple where one divides), or 0.
int64_t dividingBlock(int64_t total, int64_t cap) {
  for (int64_t d = cap; d >= 32; d -= 32)
    if (total % d == 0) return d;
  for (int64_t d = cap; d >= 16; --d)
    if (total % d == 0) return d;
  return total <= cap ? total : 0;
}

// Threads per block for `total` threads: the target's, or fewer (down to a warp) so that a
// small launch still spreads over minBlocks multiprocessors. (ResNet-50's dense layer, 1000
// outputs reading 8 MB of weights, took 0.27 ms on an H100 in 4 blocks of 250; 0.07 ms in
// 32 blocks of 32.)
int64_t blockCap(int64_t total, const GpuTarget& target) {
  const int64_t perBlock = total / std::max<int64_t>(target.minBlocks, 1);
  return std::clamp<int64_t>(perBlock, 32, target.threadsPerBlock);
}

// Fuses the given (adjacent, outermost) loops and binds them to blocks and threads.
void bindFused(Stage& s, const std::vector<Var>& spatial, const GpuTarget& target) {
  Var f = spatial.size() > 1 ? s.fuse(spatial) : spatial[0];
  const int64_t total = extentOf(s, f);
  // A block size that divides the outputs needs no guard; else full blocks and a guard.
  const int64_t cap = blockCap(total, target);
  int64_t threads = dividingBlock(total, cap);
  if (threads < std::min<int64_t>(64, cap)) threads = std::min(total, cap);
  auto [bo, ti] = s.split(f, threads);
  s.bind(bo, "blockIdx.x");
  s.bind(ti, "threadIdx.x");
}
}  // namespace

void parseGpuTuning(const std::string& spec, GpuTarget* target) {
  std::stringstream ss(spec);
  for (std::string item; std::getline(ss, item, ',');) {
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    int64_t value = -1;
    try {
      size_t used = 0;
      if (eq != std::string::npos) value = std::stoll(item.substr(eq + 1), &used);
      if (used == 0 || eq + 1 + used != item.size()) value = -1;
    } catch (const std::exception&) {
      value = -1;
    }
    int64_t* field = key == "oc"        ? &target->maxOcBlock
                     : key == "ow"      ? &target->maxOwBlock
                     : key == "rc"      ? &target->rcUnroll
                     : key == "fill"    ? &target->fillThreads
                     : key == "threads" ? &target->threadsPerBlock
                                        : nullptr;
    const bool ok = key == "rows"      ? value == 0 || value == 1
                    : key == "threads" ? value >= 32 && value <= 1024 && value % 32 == 0
                                       : field && value >= 1;
    if (!ok)
      throw Error("GPU tuning '" + item +
                  "': expected oc=N, ow=N, rc=N, fill=N, threads=N (a warp multiple up to "
                  "1024) or rows=0|1, N a positive integer, separated by commas");
    if (field)
      *field = value;
    else
      target->fullRows = value == 1;
  }
}

void scheduleGpuDefault(Stage& s, const GpuTarget& target) {
  std::vector<Var> sp;
  for (const Loop& l : s.loops())
    if (!l.isReduce) sp.push_back(l.var);
  if (sp.empty()) {
    // A scalar (a full reduction): one thread, still a launch.
    return;
  }
  bindFused(s, sp, target);
}

void scheduleMatmulGpu(Stage& s, const GpuTarget& target) {
  scheduleGpuDefault(s, target);
  if (s.reduceAxes().empty()) return;
  // A classifier's dense layer has few outputs (1000 threads) and a long reduction: unrolled
  // by 16, each thread has 16 independent loads in flight. (ResNet-50's 2048 x 1000 layer on
  // an H100 went from 0.27 to 0.07 ms with this and blockCap's smaller blocks together; most
  // of it was the blocks: 4 multiprocessors had been loading all 8 MB of weights.)
  const IterVar& k = s.reduceAxes().back();
  const int64_t f = largestDivisor(k.extent, 16);
  if (k.extent < 128 || f < 4) return;
  auto [ko, ki] = s.split(k.var, f);
  s.unroll(ki);
}

void scheduleConv2dGpu(Stage& s, const GpuTarget& target) {
  Var n = s.axis(0), oc = s.axis(1), oh = s.axis(2), ow = s.axis(3);
  const int64_t N = extentOf(s, n), OC = extentOf(s, oc), OH = extentOf(s, oh),
                OW = extentOf(s, ow);
  const int64_t outputs = N * OC * OH * OW;
  // The largest tile (a divisor of the channels) that still leaves enough threads.
  int64_t cap = target.maxOcBlock;
  while (cap > 1 && outputs / cap < target.fillThreads) cap /= 2;
  const int64_t ocBlock = largestDivisor(OC, cap);
  if (ocBlock == 1) {
    scheduleGpuDefault(s, target);
    return;
  }
  auto [oco, oci] = s.split(oc, ocBlock);
  s.reorder({n, oco, oh, ow, s.reduceAxis(0), s.reduceAxis(1), s.reduceAxis(2), oci});
  s.unroll(oci);
  bindFused(s, {n, oco, oh, ow}, target);
}

namespace {

// A reduction r whose only reader is the elementwise output o (bias, batch norm, residual
// add, activation, all inlined into o): o takes r's thread layout, and r is computed inside
// each of o's threads into a private array of ocBlock sums, so the epilogue runs on registers
// and r never goes to memory. False (nothing changed) when the shapes do not allow it.
bool fuseEpilogue(Stage& o, Stage& r, const GpuTarget& target) {
  const Shape& shape = r.tensor()->shape;
  if (o.tensor()->shape != shape || !o.splits().empty() || !o.fuses().empty() ||
      !r.splits().empty() || !r.fuses().empty() || o.axes().empty())
    return false;
  const bool conv = r.tensor()->tag == "conv2d" && shape.size() == 4;
  int64_t total = 1;
  for (int64_t e : shape) total *= e;
  // conv2d: a register tile of ocBlock channels x owBlock columns per thread, as large as
  // leaves enough threads to fill the device.
  int64_t ocBlock = 1, owBlock = 1;
  if (conv) {
    // A row that no column count up to maxOwBlock divides into 4 or more (7 and 14, ResNet's
    // last two stages) takes its largest divisor up to twice that (7) as the tile's columns,
    // with fewer channels. Where the window is wider than one column this is worth half the
    // threads: with 4 columns or more the window is unrolled, so neighbouring taps share
    // loaded inputs, and the weights load as float4s (below). A 1x1 window shares nothing
    // between columns: its whole short rows (7) only where they still fill the device (H100,
    // ResNet-50 batch 16: layer4's 2048 -> 512 convolutions in 2 x 7 tiles, 28K threads, 0.41
    // ms each; in 8 x 1 tiles 0.20 ms; its 512 -> 2048 ones, 115K threads, faster in 2 x 7).
    const std::vector<IterVar>& red = r.reduceAxes();
    const bool window = red.size() == 3 && red[2].extent > 1;
    const int64_t wide = largestDivisor(shape[3], 2 * target.maxOwBlock);
    for (int64_t cap = target.maxOcBlock * target.maxOwBlock; cap >= 1; cap /= 2) {
      ocBlock = largestDivisor(shape[1], std::min(cap, target.maxOcBlock));
      owBlock = largestDivisor(shape[3], std::max<int64_t>(1, cap / ocBlock));
      if (target.fullRows && wide >= 4 && (window || wide == shape[3]) &&
          owBlock < std::min<int64_t>(wide, cap / ocBlock)) {
        const int64_t oc = largestDivisor(shape[1], std::max<int64_t>(1, cap / wide));
        if (total / (oc * wide) >= (window ? target.fillThreads / 2 : target.fillThreads)) {
          ocBlock = oc;
          owBlock = wide;
          break;
        }
        if (window) continue;  // fewer channels before the narrow plain tile
      }
      if (total / (ocBlock * owBlock) >= target.fillThreads) break;
    }
  }
  const int64_t tiles = total / (ocBlock * owBlock);
  const int64_t threads = dividingBlock(tiles, blockCap(tiles, target));
  // Every thread must compute an element that exists: the block size has to divide.
  if (threads == 0) return false;
  std::vector<Var> outer, tile;
  for (size_t d = 0; d < o.axes().size(); ++d) {
    Var v = o.axis(d);
    const int64_t b = !conv ? 1 : d == 1 ? ocBlock : d == 3 ? owBlock : 1;
    if (b > 1) {
      auto [vo, vi] = o.split(v, b);
      outer.push_back(vo);
      tile.push_back(vi);
    } else {
      outer.push_back(v);
    }
  }
  if (!tile.empty()) {
    std::vector<Var> order = outer;
    order.insert(order.end(), tile.begin(), tile.end());
    o.reorder(order);
    for (const Var& t : tile) o.unroll(t);
  }
  Var f = outer.size() > 1 ? o.fuse(outer) : outer[0];
  auto [bo, ti] = o.split(f, threads);
  o.bind(bo, "blockIdx.x");
  o.bind(ti, "threadIdx.x");
  if (conv) {
    // Per thread: the reduction outside, the tile innermost and unrolled: each input element
    // loaded feeds ocBlock sums, each weight owBlock, and all the sums stay in registers.
    r.reorder({r.axis(0), r.axis(2), r.reduceAxis(0), r.reduceAxis(1), r.reduceAxis(2), r.axis(1),
               r.axis(3)});
    if (ocBlock > 1) r.unroll(r.axis(1));
    if (owBlock > 1) r.unroll(r.axis(3));
    // With a tile of 4 or more columns, a small window (3x3) is unrolled too: neighbouring
    // taps of neighbouring columns read the same input element, which the compiler then
    // loads once (measured on an H100: layer1 of ResNet-18 at batch 16 0.28 -> 0.20 ms; with
    // narrower tiles the unrolled window only added register pressure and was slower).
    const std::vector<IterVar> red = r.reduceAxes();
    const bool small = red.size() == 3 && red[1].extent <= 3 && red[2].extent <= 3;
    const bool unrollWindow = owBlock >= 4 && small;
    if (unrollWindow) {
      r.unroll(red[1].var);
      r.unroll(red[2].var);
    }
    // With the whole window unrolled (or a 1x1 window), rcUnroll input channels per step:
    // a channel's weights for the window are KH x KW consecutive floats, so rcUnroll of them
    // start on a 16-byte boundary when rcUnroll * KH * KW divides by 4, and the CUDA compiler
    // loads them as float4 (the emitted kernels promise 16-byte aligned buffers).
    const bool oneByOne = red.size() == 3 && red[1].extent == 1 && red[2].extent == 1;
    if (target.rcUnroll > 1 && (unrollWindow || oneByOne) && red[0].extent % target.rcUnroll == 0 &&
        red[0].extent > target.rcUnroll) {
      auto [rco, rci] = r.split(red[0].var, target.rcUnroll);
      r.reorder({r.axis(0), r.axis(2), rco, rci, red[1].var, red[2].var, r.axis(1), r.axis(3)});
      r.unroll(rci);
      if (oneByOne) {
        r.unroll(red[1].var);
        r.unroll(red[2].var);
      }
    }
  }
  r.computeAt(o, ti);
  return true;
}

// A convolution with its epilogue in shared-memory tiles: each block computes a tile of
// ocThreads x ocBlock channels, ohThreads rows and owThreads x owBlock columns; each of its
// threads the ocBlock x owBlock register tile as in fuseEpilogue. The reduction over input
// channels runs in chunks of rcChunk: per chunk the block copies the input rows and weights
// its tile needs into shared memory (cooperative_copy.cpp spreads the copy over the threads,
// between barriers), and every thread reads them from there.
struct SharedConvPlan {
  int64_t ocBlock = 1, owBlock = 1, ocThreads = 0, ohThreads = 1, owThreads = 1, rcChunk = 1;
};

std::vector<int64_t> divisors(int64_t n) {
  std::vector<int64_t> d;
  for (int64_t i = 1; i <= n; ++i)
    if (n % i == 0) d.push_back(i);
  return d;
}

// The plan for reduction r (conv2d, group 1, read through input x and weights w), or none
// (ocThreads == 0) when no tile fills the device with whole blocks.
SharedConvPlan planSharedConv(const Stage& r, const GpuTarget& target) {
  SharedConvPlan p, none;
  const Shape& y = r.tensor()->shape;
  const std::vector<IterVar>& red = r.reduceAxes();
  if (y.size() != 4 || red.size() != 3) return none;
  const int64_t N = y[0], OC = y[1], OH = y[2], OW = y[3];
  const int64_t C = red[0].extent, KH = red[1].extent, KW = red[2].extent;
  const int64_t total = N * OC * OH * OW;
  for (int64_t cap = target.maxOcBlock * target.maxOwBlock; cap >= 1; cap /= 2) {
    p.ocBlock = largestDivisor(OC, std::min(cap, target.maxOcBlock));
    p.owBlock = largestDivisor(OW, std::max<int64_t>(1, cap / p.ocBlock));
    if (total / (p.ocBlock * p.owBlock) >= target.fillThreads) break;
  }
  const int64_t OCo = OC / p.ocBlock, OWo = OW / p.owBlock;
  // The block shape with the most multiply-adds per element copied, among those of 64 to
  // threadsPerBlock threads (whole warps) that still give minBlocks blocks.
  double best = 0;
  SharedConvPlan chosen = none;
  for (int64_t oct : divisors(OCo))
    for (int64_t oht : divisors(OH))
      for (int64_t owt : divisors(OWo)) {
        const int64_t threads = oct * oht * owt;
        if (threads < 64 || threads > target.threadsPerBlock || threads % 32 != 0) continue;
        const int64_t blocks = N * (OCo / oct) * (OH / oht) * (OWo / owt);
        if (blocks < target.minBlocks) continue;
        // Elements copied per input channel of a chunk (stride 1 bound; strided layers read
        // about twice the rows and columns, phase-split) against multiply-adds.
        const int64_t rows = oht + KH - 1, cols = owt * p.owBlock + KW - 1;
        const int64_t copied = rows * cols + oct * p.ocBlock * KH * KW;
        const double reuse =
            static_cast<double>(threads * p.ocBlock * p.owBlock * KH * KW) / copied;
        if (reuse > best) {
          best = reuse;
          chosen = p;
          chosen.ocThreads = oct, chosen.ohThreads = oht, chosen.owThreads = owt;
        }
      }
  if (chosen.ocThreads == 0) return chosen;
  // The chunk of input channels: as many as fit in a quarter of the shared memory (the
  // strided input's phases double its rows and columns, so budget for that).
  const int64_t rows = 2 * chosen.ohThreads + KH, cols = 2 * chosen.owThreads * chosen.owBlock + KW;
  const int64_t perChannel = rows * cols + chosen.ocThreads * chosen.ocBlock * KH * KW;
  chosen.rcChunk = largestDivisor(C, std::max<int64_t>(1, target.sharedFloats / perChannel));
  return chosen;
}

// Applies plan p to output o and reduction r (found by gpuSchedule, checked by fuseEpilogue's
// rules); adds the two shared-memory copy stages.
void applySharedConv(Schedule& sch, const Tensor& ot, const Tensor& rt, const SharedConvPlan& p) {
  // The cache stages first: adding stages moves the others.
  const Tensor& x = rt->op->inputs[0];
  const Tensor& w = rt->op->inputs[1];
  Tensor xs = sch.cacheRead(x, "shared", {rt});
  Tensor ws = sch.cacheRead(w, "shared", {rt});
  Stage& o = sch[ot];
  Var n = o.axis(0), oc = o.axis(1), oh = o.axis(2), ow = o.axis(3);
  auto [oco, oci] = o.split(oc, p.ocBlock);
  auto [ocb, oct] = o.split(oco, p.ocThreads);
  auto [ohb, oht] = o.split(oh, p.ohThreads);
  auto [owo, owi] = o.split(ow, p.owBlock);
  auto [owb, owt] = o.split(owo, p.owThreads);
  o.reorder({n, ocb, ohb, owb, oct, oht, owt, oci, owi});
  o.unroll(oci);
  o.unroll(owi);
  Var bo = o.fuse({n, ocb, ohb, owb});
  Var ti = o.fuse({oct, oht, owt});
  o.bind(bo, "blockIdx.x");
  o.bind(ti, "threadIdx.x");
  Stage& r = sch[rt];
  const std::vector<IterVar> red = r.reduceAxes();
  auto [rco, rci] = r.split(red[0].var, p.rcChunk);
  r.reorder({r.axis(0), r.axis(2), rco, rci, red[1].var, red[2].var, r.axis(1), r.axis(3)});
  if (p.ocBlock > 1) r.unroll(r.axis(1));
  if (p.owBlock > 1) r.unroll(r.axis(3));
  if (p.owBlock >= 4 && red[1].extent <= 3 && red[2].extent <= 3) {
    r.unroll(red[1].var);
    r.unroll(red[2].var);
  }
  r.computeAt(sch[ot], ti);
  sch[xs].computeAt(sch[rt], rco);
  sch[ws].computeAt(sch[rt], rco);
}

}  // namespace

Schedule gpuSchedule(const std::vector<Tensor>& outputs, const GpuTarget& target) {
  Schedule sch(outputs);
  auto isOutput = [&](const Tensor& t) {
    return std::find(outputs.begin(), outputs.end(), t) != outputs.end();
  };
  // Elementwise values that are not outputs are computed inline where they are read.
  for (Stage& s : sch.stages())
    if (!isOutput(s.tensor()) && s.tensor()->tag == "injective") s.computeInline();
  // Reductions with an elementwise epilogue: computed inside the epilogue's threads.
  std::vector<Tensor> fused;
  std::vector<std::tuple<Tensor, Tensor, SharedConvPlan>> sharedConvs;
  for (Stage& o : sch.stages()) {
    if (!isOutput(o.tensor()) || o.tensor()->tag != "injective") continue;
    std::vector<Tensor> reads;
    readsThroughInline(sch, o.tensor(), &reads);
    for (const Tensor& t : reads) {
      Stage& r = sch[t];
      const std::string& tag = t->tag;
      // (A long dense reduction is better unrolled at the root, scheduleMatmulGpu.)
      const bool longMatmul = tag == "matmul" && r.reduceAxes().back().extent >= 128;
      if (isOutput(t) || r.reduceAxes().empty() || longMatmul ||
          (tag != "conv2d" && tag != "matmul" && tag != "reduce"))
        continue;
      // r must have no other reader.
      bool shared = false;
      for (const Stage& other : sch.stages()) {
        if (&other == &o || other.inlined() || &other == &r) continue;
        std::vector<Tensor> rs;
        readsThroughInline(sch, other.tensor(), &rs);
        shared = shared || std::find(rs.begin(), rs.end(), t) != rs.end();
      }
      if (shared) continue;
      // Shared-memory tiles for a group-1 convolution that reads its input and weights
      // directly (applied below: the copy stages they add would move the stages iterated here).
      if (target.convTiles != GpuTarget::ConvTiles::Registers && tag == "conv2d" &&
          o.tensor()->shape == t->shape && o.splits().empty() && o.fuses().empty() &&
          t->op->inputs.size() == 2 && t->op->inputs[1]->shape.size() == 4 &&
          t->op->inputs[1]->shape[1] == r.reduceAxes()[0].extent &&
          t->op->inputs[0]->shape[1] == t->op->inputs[1]->shape[1]) {
        SharedConvPlan p = planSharedConv(r, target);
        // Auto: where measured faster on an H100, layers of 14x14 or more whose register
        // tiles are small (batch 1): the block's shared rows give the reuse the tile cannot.
        const bool worth = target.convTiles == GpuTarget::ConvTiles::Shared ||
                           (p.ocBlock * p.owBlock <= 4 && t->shape[2] >= 14);
        if (p.ocThreads > 0 && worth) {
          sharedConvs.emplace_back(o.tensor(), t, p);
          fused.push_back(o.tensor());
          fused.push_back(t);
          break;
        }
      }
      if (fuseEpilogue(o, r, target)) {
        fused.push_back(o.tensor());
        fused.push_back(t);
        break;
      }
    }
  }
  for (const auto& [ot, rt, plan] : sharedConvs) {
    applySharedConv(sch, ot, rt, plan);
    for (const Stage& s : sch.stages())
      if (s.attachedTo() == rt) fused.push_back(s.tensor());
  }
  for (Stage& s : sch.stages()) {
    if (s.inlined() || std::find(fused.begin(), fused.end(), s.tensor()) != fused.end()) continue;
    if (s.tensor()->tag == "conv2d")
      scheduleConv2dGpu(s, target);
    else if (s.tensor()->tag == "matmul")
      scheduleMatmulGpu(s, target);
    else
      scheduleGpuDefault(s, target);
  }
  return sch;
}

}  // namespace kiln::schedule
