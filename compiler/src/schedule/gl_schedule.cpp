// The GLSL back end's schedule: inline what is elementwise, give every stored stage one
// fragment per RGBA texel (four lanes), compute single-consumer reductions at their consumer's
// fragment (see gl_schedule.h).
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

// The fragment and lane loops of a stored stage; `blocked` when the lane is the stage's own
// innermost axis of extent kGLLanes (a channel block), not a split of the fused index.
struct Fragment {
  Var frag, lane;
  bool blocked = false;
};

// The axis of reduction `r` that a blocked reader's lane runs over: its own innermost axis when
// it has the reader's shape (a convolution in NCHW4c), its channel axis when the reader is its
// NCHW4c form (a depthwise convolution or pooling in NCHW); -1 when neither.
int laneAxis(const Tensor& r, const Tensor& reader) {
  const Shape &s = r->shape, &b = reader->shape;
  if (s == b) return static_cast<int>(s.size()) - 1;
  if (s.size() == 4 && b.size() == 5 && s[0] == b[0] && s[1] == b[1] * kGLLanes && s[2] == b[2] &&
      s[3] == b[3])
    return 1;
  return -1;
}

}  // namespace

Schedule glSchedule(const std::vector<Tensor>& outputs, bool bindFragments) {
  Schedule sch(outputs);
  auto isOutput = [&](const Tensor& t) {
    return std::find(outputs.begin(), outputs.end(), t) != outputs.end();
  };
  // Everything elementwise stays in registers: a fragment recomputes it where it is read
  // (a convolution's zero padding included: a guarded read costs less than a pass).
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
  // Every stored stage: its spatial axes become the fragment loop (one RGBA texel, four
  // consecutive elements) and a lane loop of four inside it, unrolled.
  std::map<const te::TensorNode*, Fragment> fragment;
  std::set<const te::TensorNode*> attached;
  for (Stage& s : sch.stages()) {
    if (s.inlined()) continue;
    const Tensor& t = s.tensor();
    // A reduction with one elementwise reader of as many elements is computed in that
    // reader's fragment (decided before fusing: an attached stage keeps its loops as defined).
    auto r = readers.find(t.get());
    if (!isOutput(t) && r != readers.end() && r->second.size() == 1 && !t->shape.empty()) {
      const Stage& reader = *r->second.front();
      if (!isReduction(reader.tensor()) &&
          shapeNumel(reader.tensor()->shape) == shapeNumel(t->shape)) {
        attached.insert(t.get());
        continue;
      }
    }
    std::vector<Var> spatial;
    std::vector<int64_t> extents;
    for (const Loop& l : s.loops())
      if (!l.isReduce) {
        spatial.push_back(l.var);
        extents.push_back(l.extent);
      }
    if (spatial.empty()) continue;
    Fragment f;
    if (spatial.size() >= 2 && extents.back() == kGLLanes) {
      f.lane = spatial.back();
      spatial.pop_back();
      f.frag = spatial.size() == 1 ? spatial[0] : s.fuse(spatial);
      f.blocked = true;
    } else {
      std::tie(f.frag, f.lane) =
          s.split(spatial.size() == 1 ? spatial[0] : s.fuse(spatial), kGLLanes);
    }
    s.unroll(f.lane);
    if (bindFragments) s.bind(f.frag, "fragment");
    fragment[t.get()] = f;
  }
  for (Stage& s : sch.stages()) {
    if (!attached.count(s.tensor().get())) continue;
    Stage& reader = *readers[s.tensor().get()].front();
    const Fragment& f = fragment.at(reader.tensor().get());
    const int axis = f.blocked ? laneAxis(s.tensor(), reader.tensor()) : -1;
    if (axis < 0) {
      // One element per lane: the reduction runs four times, one after the other.
      s.computeAt(reader, f.lane);
      continue;
    }
    // The four lanes' reductions run together: their common reads (an input texel of four
    // channels, a tap of the window) are fetched once and feed four multiply-adds. The lane
    // axis goes innermost, after the reduce loops; a first reduce axis of whole texels (input
    // channels of an NCHW4c input) is split so its four channels are unrolled beside it.
    s.computeAt(reader, f.frag);
    std::vector<Var> order;
    for (size_t a = 0; a < s.axes().size(); ++a)
      if (static_cast<int>(a) != axis) order.push_back(s.axis(a));
    std::vector<Var> inner;
    for (size_t a = 0; a < s.reduceAxes().size(); ++a) {
      const Var rv = s.reduceAxis(a);
      const int64_t ext = s.loops()[s.loopIndex(rv)].extent;
      if (a == 0 && ext > kGLLanes && ext % kGLLanes == 0) {
        auto [ro, ri] = s.split(rv, kGLLanes);
        order.push_back(ro);
        inner.push_back(ri);
        s.unroll(ri);
      } else {
        order.push_back(rv);
        // A window axis of up to 7 taps is unrolled: its taps' offsets become constants.
        if (a > 0 && ext <= 7) s.unroll(rv);
      }
    }
    order.insert(order.end(), inner.begin(), inner.end());
    order.push_back(s.axis(static_cast<size_t>(axis)));
    s.reorder(order);
    s.unroll(s.axis(static_cast<size_t>(axis)));
  }
  return sch;
}

}  // namespace kiln::schedule
