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

void scheduleMatmulCpu(Stage& s, const CpuTarget& target) {
  std::vector<Var> sp;
  for (const Loop& l : s.loops())
    if (!l.isReduce) sp.push_back(l.var);
  if (sp.empty()) return;
  const int64_t cols = extentOf(s, sp.back());
  const int64_t block = std::min(cols, target.lanes * 4);
  auto [co, ci] = s.split(sp.back(), block);
  std::vector<Var> outer(sp.begin(), sp.end() - 1);
  outer.push_back(co);
  std::vector<Var> order = outer;
  for (const IterVar& r : s.reduceAxes()) order.push_back(r.var);
  order.push_back(ci);
  s.reorder(order);
  s.parallel(outer.size() > 1 ? s.fuse(outer) : co);
  s.vectorize(ci);
}

Schedule cpuSchedule(const std::vector<Tensor>& outputs, const CpuTarget& target) {
  Schedule sch(outputs);
  for (Stage& s : sch.stages()) {
    const std::string& tag = s.tensor()->tag;
    if (tag == "conv2d")
      scheduleConv2dCpu(s, target);
    else if (tag == "matmul")
      scheduleMatmulCpu(s, target);
    else if (tag == "reduce")
      scheduleReduction(s);
    else
      scheduleInjective(s);
  }
  return sch;
}

}  // namespace kiln::schedule
