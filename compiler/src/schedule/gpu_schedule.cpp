// GPU schedules per operator family, shared by CUDA and OpenCL (see gpu_schedule.h).
#include "kiln/schedule/gpu_schedule.h"

#include <algorithm>

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
    for (int64_t cap = target.maxOcBlock * target.maxOwBlock; cap >= 1; cap /= 2) {
      ocBlock = largestDivisor(shape[1], std::min(cap, target.maxOcBlock));
      owBlock = largestDivisor(shape[3], std::max<int64_t>(1, cap / ocBlock));
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
    const std::vector<IterVar>& red = r.reduceAxes();
    if (owBlock >= 4 && red.size() == 3 && red[1].extent <= 3 && red[2].extent <= 3) {
      r.unroll(red[1].var);
      r.unroll(red[2].var);
    }
  }
  r.computeAt(o, ti);
  return true;
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
  std::vector<const Stage*> fused;
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
      if (!shared && fuseEpilogue(o, r, target)) {
        fused.push_back(&o);
        fused.push_back(&r);
        break;
      }
    }
  }
  for (Stage& s : sch.stages()) {
    if (s.inlined() || std::find(fused.begin(), fused.end(), &s) != fused.end()) continue;
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
