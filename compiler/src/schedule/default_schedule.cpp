// Default schedules per operator family (see default_schedule.h for the recipes).
#include "kiln/schedule/default_schedule.h"

namespace kiln::schedule {

namespace {
std::vector<Var> spatialLoops(const Stage& s) {
  std::vector<Var> v;
  for (const Loop& l : s.loops())
    if (!l.isReduce) v.push_back(l.var);
  return v;
}
}  // namespace

void scheduleInjective(Stage& s) {
  std::vector<Var> sp = spatialLoops(s);
  if (sp.empty()) return;
  if (sp.size() >= 2) {
    Var outer = s.fuse(std::vector<Var>(sp.begin(), sp.end() - 1));
    s.parallel(outer);
  }
  s.vectorize(sp.back());
}

void scheduleReduction(Stage& s) {
  std::vector<Var> sp = spatialLoops(s);
  if (sp.empty()) return;
  s.parallel(s.fuse(sp));
}

void scheduleConv2d(Stage& s) {
  Var noc = s.fuse(s.axis(0), s.axis(1));
  s.parallel(noc);
  s.reorder({noc, s.axis(2), s.reduceAxis(0), s.reduceAxis(1), s.reduceAxis(2), s.axis(3)});
  s.vectorize(s.axis(3));
}

void scheduleMatmul(Stage& s) {
  std::vector<Var> sp = spatialLoops(s);
  std::vector<Var> order;
  if (sp.size() >= 2) {
    Var outer = s.fuse(std::vector<Var>(sp.begin(), sp.end() - 1));
    s.parallel(outer);
    order.push_back(outer);
  }
  for (const IterVar& r : s.reduceAxes()) order.push_back(r.var);
  if (!sp.empty()) {
    order.push_back(sp.back());
    s.reorder(order);
    s.vectorize(sp.back());
  }
}

Schedule defaultSchedule(const std::vector<Tensor>& outputs) {
  Schedule sch(outputs);
  for (Stage& s : sch.stages()) {
    const std::string& tag = s.tensor()->tag;
    if (tag == "conv2d")
      scheduleConv2d(s);
    else if (tag == "matmul")
      scheduleMatmul(s);
    else if (tag == "reduce")
      scheduleReduction(s);
    else
      scheduleInjective(s);
  }
  return sch;
}

}  // namespace kiln::schedule
