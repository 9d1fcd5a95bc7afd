// Tuned CPU schedules per operator family (see cpu_schedule.h for the recipes), and the
// fusion of a convolution into its epilogue's tile.
#include "kiln/schedule/cpu_schedule.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "kiln/schedule/default_schedule.h"

namespace kiln::schedule {

namespace {
int64_t extentOf(const Stage& s, const Var& v) {
  return s.loops()[s.loopIndex(v)].extent;
}

// The largest divisor of n that is at most cap (1 when n <= 0).
int64_t largestDivisor(int64_t n, int64_t cap) {
  for (int64_t d = std::min(n, cap); d > 1; --d)
    if (n % d == 0) return d;
  return 1;
}
}  // namespace

int64_t cpuColumnBlock(int64_t width, int64_t lanes) {
  // A short row is one block (the code generator covers it with whole registers and one
  // partial register); a long one is cut into whole vectors, or else into the largest
  // divisor of at most two vectors.
  if (width <= 2 * lanes) return width;
  if (width % lanes == 0) return lanes;
  const int64_t d = largestDivisor(width, 2 * lanes);
  return d >= lanes / 2 ? d : lanes;  // no good divisor: a guarded split by one vector
}

namespace {
// Whether the NCHW form's channel tiles go inside its rows: a convolution that sums over
// several input channels (not a depthwise one) reads the same input rows in every channel
// tile, so with the tiles inside a row those rows come from cache once per row instead of
// from memory once per channel tile (a 1x1 projection to 24 channels reads its 144-channel
// input once, not three times). A depthwise tile reads only its own channels, and keeps the
// rows outside so that consecutive rows share their input rows in L1.
bool channelTilesInsideRows(const Stage& conv) {
  return !conv.reduceAxes().empty() && conv.reduceAxes()[0].extent > 1;
}

// The NCHW register tile: owBlock output columns (the vector lanes) x ocBlock channels.
std::pair<int64_t, int64_t> nchwTile(int64_t OC, int64_t OW, const CpuTarget& target) {
  const int64_t owBlock = cpuColumnBlock(OW, target.lanes);
  // The tile's accumulators (ocBlock rows of owBlock columns, each row a whole number of
  // vector registers) fill the register budget.
  const int64_t regsPerRow = (owBlock + target.lanes - 1) / target.lanes;
  return {largestDivisor(OC, std::max<int64_t>(1, target.accumulators / regsPerRow)), owBlock};
}

// The NCHWc register tile: ocVecs channel blocks (one vector each) x owBlock columns.
std::pair<int64_t, int64_t> nchwcTile(int64_t OCO, int64_t OW, const CpuTarget& target) {
  const int64_t budget = std::max<int64_t>(2, 2 * target.accumulators - 4);
  const int64_t ocVecs = OCO % 4 == 0 && OW <= budget / 4 ? 4 : OCO % 2 == 0 ? 2 : 1;
  const int64_t cap = budget / ocVecs;
  int64_t owBlock = largestDivisor(OW, cap);
  if (owBlock < cap / 2 && OW > cap) owBlock = cap;  // no good divisor: a partitioned tail
  return {ocVecs, owBlock};
}
}  // namespace

void scheduleConv2dCpu(Stage& s, const CpuTarget& target) {
  Var n = s.axis(0), oc = s.axis(1), oh = s.axis(2), ow = s.axis(3);
  const auto [ocBlock, owBlock] = nchwTile(extentOf(s, oc), extentOf(s, ow), target);
  auto [oco, oci] = s.split(oc, ocBlock);
  auto [owo, owi] = s.split(ow, owBlock);
  const bool inside = channelTilesInsideRows(s);
  s.reorder({n, inside ? oh : oco, inside ? oco : oh, owo, s.reduceAxis(0), s.reduceAxis(1),
             s.reduceAxis(2), oci, owi});
  Var outer = inside ? s.fuse({n, oh, oco}) : s.fuse({n, oco, oh});
  s.parallel(outer);
  if (ocBlock > 1) s.unroll(oci);
  s.vectorize(owi);
}

void scheduleConv2dNchwcCpu(Stage& s, const CpuTarget& target) {
  Var n = s.axis(0), oco = s.axis(1), oh = s.axis(2), ow = s.axis(3), oci = s.axis(4);
  // Output channels are the vector lanes: a tile of ocVecs channel blocks x owBlock columns
  // keeps ocVecs * owBlock vector accumulators (all but a few registers); every tap loads
  // ocVecs weight vectors and broadcasts owBlock input elements.
  const auto [ocVecs, owBlock] = nchwcTile(extentOf(s, oco), extentOf(s, ow), target);
  auto [ocoo, ocoi] = s.split(oco, ocVecs);
  auto [owo, owi] = s.split(ow, owBlock);
  s.reorder({n, ocoo, oh, owo, s.reduceAxis(0), s.reduceAxis(1), s.reduceAxis(2), owi, ocoi, oci});
  s.parallel(s.fuse({n, ocoo, oh}));
  if (ocVecs > 1) s.unroll(ocoi);
  s.unroll(owi);
  s.vectorize(oci);
}

void scheduleMatmulCpu(Stage& s, const CpuTarget& target) {
  std::vector<Var> sp;
  for (const Loop& l : s.loops())
    if (!l.isReduce) sp.push_back(l.var);
  if (sp.empty()) return;
  const int64_t cols = extentOf(s, sp.back());
  const int64_t block = std::min(cols, target.lanes * 4);
  auto [co, ci] = s.split(sp.back(), block);
  // Rows of extent 1 (a batch-1 dense layer) stay outside, out of the fused parallel loop, so
  // the column blocks are the parallel loop itself and loop partitioning can peel the last,
  // partial block off it.
  std::vector<Var> unit, outer;
  for (auto it = sp.begin(); it + 1 < sp.end(); ++it)
    (extentOf(s, *it) == 1 ? unit : outer).push_back(*it);
  outer.push_back(co);
  std::vector<Var> order = unit;
  order.insert(order.end(), outer.begin(), outer.end());
  for (const IterVar& r : s.reduceAxes()) order.push_back(r.var);
  order.push_back(ci);
  s.reorder(order);
  s.parallel(outer.size() > 1 ? s.fuse(outer) : co);
  s.vectorize(ci);
}

void scheduleReductionCpu(Stage& s, const CpuTarget& target) {
  std::vector<Var> sp;
  for (const Loop& l : s.loops())
    if (!l.isReduce) sp.push_back(l.var);
  // Vectorize the innermost output axis when it is long enough (a pooling window's row of
  // outputs), with the reduce loops around it; else the default (a reduction per output).
  if (sp.size() < 2 || s.reduceAxes().empty() || extentOf(s, sp.back()) < target.lanes / 2) {
    scheduleReduction(s);
    return;
  }
  Var inner = sp.back();
  sp.pop_back();
  std::vector<Var> order = sp;
  for (const IterVar& r : s.reduceAxes()) order.push_back(r.var);
  order.push_back(inner);
  s.reorder(order);
  s.parallel(sp.size() > 1 ? s.fuse(sp) : sp[0]);
  s.vectorize(inner);
}

bool fuseConvEpilogueCpu(Stage& o, Stage& r, const CpuTarget& target) {
  const bool nchwc = r.tensor()->tag == "conv2d_nchwc";
  const Shape& rs = r.tensor()->shape;
  const Shape& os = o.tensor()->shape;
  if ((r.tensor()->tag != "conv2d" && !nchwc) || os.size() != 4 || !o.splits().empty() ||
      !o.fuses().empty() || !r.splits().empty() || !r.fuses().empty() || r.reduceAxes().size() != 3)
    return false;
  // The epilogue's loops over the NCHW output tile the way the convolution's own schedule
  // does, so that the tile's sums are the convolution's register tile.
  int64_t ocTile = 0, owBlock = 0, ocVecs = 0, lanes = 0;
  if (nchwc) {
    lanes = rs.size() == 5 ? rs[4] : 0;
    if (lanes <= 0 || os != Shape{rs[0], rs[1] * lanes, rs[2], rs[3]}) return false;
    std::tie(ocVecs, owBlock) = nchwcTile(rs[1], rs[3], target);
    ocTile = ocVecs * lanes;
  } else {
    if (os != rs) return false;
    std::tie(ocTile, owBlock) = nchwTile(rs[1], rs[3], target);
  }
  // Every tile whole: a guarded tail would compute columns of the convolution that do not
  // exist.
  if (os[1] % ocTile != 0 || os[3] % owBlock != 0) return false;
  Var n = o.axis(0), oc = o.axis(1), oh = o.axis(2), ow = o.axis(3);
  auto [oco, oci] = o.split(oc, ocTile);
  auto [owo, owi] = o.split(ow, owBlock);
  const bool inside = !nchwc && channelTilesInsideRows(r);
  o.reorder({n, inside ? oh : oco, inside ? oco : oh, owo, oci, owi});
  o.parallel(inside ? o.fuse({n, oh, oco}) : o.fuse({n, oco, oh}));
  if (ocTile > 1) o.unroll(oci);
  o.vectorize(owi);
  // The convolution, per tile: the reduction outside, the tile inside (unrolled, vector
  // lanes innermost), as in scheduleConv2dCpu / scheduleConv2dNchwcCpu.
  const Var rc = r.reduceAxis(0), ry = r.reduceAxis(1), rx = r.reduceAxis(2);
  if (nchwc) {
    r.reorder({r.axis(0), r.axis(2), rc, ry, rx, r.axis(3), r.axis(1), r.axis(4)});
    r.unroll(r.axis(3));
    if (ocVecs > 1) r.unroll(r.axis(1));
    r.vectorize(r.axis(4));
  } else {
    r.reorder({r.axis(0), r.axis(2), rc, ry, rx, r.axis(1), r.axis(3)});
    if (ocTile > 1) r.unroll(r.axis(1));
    r.vectorize(r.axis(3));
  }
  r.computeAt(o, owo);
  return true;
}

bool attachDepthwisePadCpu(Schedule& sch, Stage& o, Stage& r) {
  // One input channel per output channel: the tile reads ocBlock channels of the padded
  // input, a few rows and a tile's columns, which stay in L1; a group-1 convolution would
  // copy every input channel once per channel tile, so its copy stays whole, at the root.
  if (r.tensor()->tag != "conv2d" || r.reduceAxes().empty() || r.reduceAxes()[0].extent != 1 ||
      !r.attachedTo())
    return false;
  Tensor pad;
  for (const Tensor& in : r.tensor()->op->inputs)
    if (in->op && in->tag == "conv2d.pad") pad = in;
  if (!pad) return false;
  for (const Stage& other : sch.stages()) {
    if (other.tensor() == r.tensor() || other.tensor() == pad || other.inlined()) continue;
    std::vector<Tensor> reads;
    readsThroughInline(sch, other.tensor(), &reads);
    if (std::find(reads.begin(), reads.end(), pad) != reads.end()) return false;
  }
  Stage& p = sch[pad];
  p.vectorize(p.axes().back().var);
  p.computeAt(o, r.attachLoop());
  return true;
}

Schedule cpuSchedule(const std::vector<Tensor>& outputs, const CpuTarget& target,
                     const std::vector<Tensor>& inlined, bool fuseEpilogues) {
  Schedule sch(outputs);
  auto isOutput = [&](const Tensor& t) {
    return std::find(outputs.begin(), outputs.end(), t) != outputs.end();
  };
  for (const Tensor& t : inlined)
    if (t->op && t->tag == "injective" && !isOutput(t)) sch[t].computeInline();
  for (Stage& s : sch.stages())
    if (s.tensor()->tag == "layout_transform" && !isOutput(s.tensor())) s.computeInline();
  // A convolution whose only reader is its elementwise epilogue (bias, batch norm, residual
  // add, activation and the NCHWc -> NCHW transform, all inlined into it) is computed inside
  // the epilogue's tile: its sums go from registers through the epilogue to the output, and
  // never to memory.
  std::vector<const Stage*> fused;
  for (Stage& o : sch.stages()) {
    if (!fuseEpilogues || !isOutput(o.tensor()) || o.tensor()->tag != "injective" || o.inlined())
      continue;
    std::vector<Tensor> reads;
    readsThroughInline(sch, o.tensor(), &reads);
    for (const Tensor& t : reads) {
      if (isOutput(t) || (t->tag != "conv2d" && t->tag != "conv2d_nchwc")) continue;
      bool shared = false;
      for (const Stage& other : sch.stages()) {
        if (&other == &o || other.inlined() || other.tensor() == t) continue;
        std::vector<Tensor> rs;
        readsThroughInline(sch, other.tensor(), &rs);
        shared = shared || std::find(rs.begin(), rs.end(), t) != rs.end();
      }
      Stage& r = sch[t];
      if (!shared && fuseConvEpilogueCpu(o, r, target)) {
        fused.push_back(&o);
        fused.push_back(&r);
        if (attachDepthwisePadCpu(sch, o, r)) {
          for (const Tensor& in : t->op->inputs)
            if (in->op && in->tag == "conv2d.pad") fused.push_back(&sch[in]);
        }
        break;
      }
    }
  }
  for (Stage& s : sch.stages()) {
    const std::string& tag = s.tensor()->tag;
    if (s.inlined() || std::find(fused.begin(), fused.end(), &s) != fused.end()) continue;
    if (tag == "conv2d_nchwc")
      scheduleConv2dNchwcCpu(s, target);
    else if (tag == "conv2d")
      scheduleConv2dCpu(s, target);
    else if (tag == "matmul")
      scheduleMatmulCpu(s, target);
    else if (tag == "reduce")
      scheduleReductionCpu(s, target);
    else
      scheduleInjective(s);
  }
  return sch;
}

}  // namespace kiln::schedule
