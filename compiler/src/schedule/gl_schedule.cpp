// The GLSL back end's schedule: inline what is elementwise, compute single-consumer
// reductions at their consumer's fragment, fuse every stored stage's spatial axes into the
// fragment index (see gl_schedule.h).
#include "kiln/schedule/gl_schedule.h"

#include <algorithm>
#include <map>
#include <set>

namespace kiln::schedule {

namespace {

bool isReduction(const Tensor& t) {
  return t->op && t->op->body.as<te::Reduce>();
}

// The stored tensors that `t` reads, looking through inlined stages.
void storedReads(const Tensor& t, const std::set<const te::TensorNode*>& inlinedSet,
                 std::set<const te::TensorNode*>& seen, std::vector<Tensor>& out) {
  for (const Tensor& in : t->op->inputs) {
    if (!in->op || !seen.insert(in.get()).second) continue;
    if (inlinedSet.count(in.get()))
      storedReads(in, inlinedSet, seen, out);
    else
      out.push_back(in);
  }
}

}  // namespace

Schedule glSchedule(const std::vector<Tensor>& outputs, bool bindFragments) {
  Schedule sch(outputs);
  auto isOutput = [&](const Tensor& t) {
    return std::find(outputs.begin(), outputs.end(), t) != outputs.end();
  };
  // Everything elementwise stays in registers: a fragment recomputes it where it is read.
  std::set<const te::TensorNode*> inlinedSet;
  for (Stage& s : sch.stages())
    if (!isOutput(s.tensor()) && !isReduction(s.tensor())) {
      s.computeInline();
      inlinedSet.insert(s.tensor().get());
    }
  // Who reads each stored stage.
  std::map<const te::TensorNode*, std::vector<Stage*>> readers;
  for (Stage& s : sch.stages()) {
    if (s.inlined()) continue;
    std::set<const te::TensorNode*> seen;
    std::vector<Tensor> reads;
    storedReads(s.tensor(), inlinedSet, seen, reads);
    for (const Tensor& r : reads) readers[r.get()].push_back(&s);
  }
  // The fragment loop of every stage that is stored: its spatial axes fused, outermost.
  std::map<const te::TensorNode*, Var> fragment;
  std::set<const te::TensorNode*> attached;
  for (Stage& s : sch.stages()) {
    if (s.inlined()) continue;
    const Tensor& t = s.tensor();
    // A reduction with one elementwise reader of its shape is computed in that reader's
    // fragment (decided before fusing: an attached stage keeps its loops as defined).
    auto r = readers.find(t.get());
    if (!isOutput(t) && r != readers.end() && r->second.size() == 1) {
      const Stage& reader = *r->second.front();
      if (!isReduction(reader.tensor()) && reader.tensor()->shape == t->shape &&
          !t->shape.empty()) {
        attached.insert(t.get());
        continue;
      }
    }
    std::vector<Var> spatial;
    for (const Loop& l : s.loops())
      if (!l.isReduce) spatial.push_back(l.var);
    if (spatial.empty()) continue;
    fragment[t.get()] = spatial.size() == 1 ? spatial[0] : s.fuse(spatial);
    if (bindFragments) s.bind(fragment[t.get()], "fragment");
  }
  for (Stage& s : sch.stages()) {
    if (!attached.count(s.tensor().get())) continue;
    Stage& reader = *readers[s.tensor().get()].front();
    s.computeAt(reader, fragment.at(reader.tensor().get()));
  }
  return sch;
}

}  // namespace kiln::schedule
