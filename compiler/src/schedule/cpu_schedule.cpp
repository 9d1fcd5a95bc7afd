// Tuned CPU schedules per operator family (see cpu_schedule.h for the recipes).
#include "kiln/schedule/cpu_schedule.h"

#include <algorithm>

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

void scheduleConv2dCpu(Stage& s, const CpuTarget& target) {
  Var n = s.axis(0), oc = s.axis(1), oh = s.axis(2), ow = s.axis(3);
  const int64_t OC = extentOf(s, oc), OW = extentOf(s, ow);
  const int64_t owBlock = cpuColumnBlock(OW, target.lanes);
  // The tile's accumulators (ocBlock rows of owBlock columns, each row a whole number of
  // vector registers) fill the register budget.
  const int64_t regsPerRow = (owBlock + target.lanes - 1) / target.lanes;
  const int64_t ocBlock =
      largestDivisor(OC, std::max<int64_t>(1, target.accumulators / regsPerRow));
  auto [oco, oci] = s.split(oc, ocBlock);
  auto [owo, owi] = s.split(ow, owBlock);
  s.reorder({n, oco, oh, owo, s.reduceAxis(0), s.reduceAxis(1), s.reduceAxis(2), oci, owi});
  Var outer = s.fuse({n, oco, oh});
  s.parallel(outer);
  if (ocBlock > 1) s.unroll(oci);
  s.vectorize(owi);
}

void scheduleConv2dNchwcCpu(Stage& s, const CpuTarget& target) {
  Var n = s.axis(0), oco = s.axis(1), oh = s.axis(2), ow = s.axis(3), oci = s.axis(4);
  const int64_t OCO = extentOf(s, oco), OW = extentOf(s, ow);
  // Output channels are the vector lanes: a tile of ocVecs channel blocks x owBlock columns
  // keeps ocVecs * owBlock vector accumulators (all but a few registers); every tap loads
  // ocVecs weight vectors and broadcasts owBlock input elements.
  const int64_t budget = std::max<int64_t>(2, 2 * target.accumulators - 4);
  const int64_t ocVecs = OCO % 4 == 0 && OW <= budget / 4 ? 4 : OCO % 2 == 0 ? 2 : 1;
  const int64_t cap = budget / ocVecs;
  int64_t owBlock = largestDivisor(OW, cap);
  if (owBlock < cap / 2 && OW > cap) owBlock = cap;  // no good divisor: a partitioned tail
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

Schedule cpuSchedule(const std::vector<Tensor>& outputs, const CpuTarget& target) {
  Schedule sch(outputs);
  for (Stage& s : sch.stages()) {
    const std::string& tag = s.tensor()->tag;
    const bool isOutput = std::find(outputs.begin(), outputs.end(), s.tensor()) != outputs.end();
    if (tag == "layout_transform" && !isOutput)
      s.computeInline();
    else if (tag == "conv2d_nchwc")
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
