// Schedules: how to loop over the tensors that an operator's definition computes.
//
// A Schedule has one Stage per computed tensor. A Stage starts with one loop per axis
// (spatial axes in order, then reduce axes) and is reshaped by primitives that never change
// what is computed, only the order and the way the loops run:
//   split(v, factor) -> {outer, inner}   fuse(outer, inner) -> fused   reorder({...})
//   tile(x, y, fx, fy)   vectorize(v)   parallel(v)   unroll(v)   computeInline()
// A split whose factor does not divide the extent is guarded, so every schedule is correct.
//   computeAt(consumer, loop): computed inside the consumer's loop, each iteration producing
//   (and storing) just the region of it that the iteration reads.
//   bind(v, tag): the loop becomes a GPU index (tag blockIdx.{x,y,z}, threadIdx.{x,y,z}, or
//   "fragment" for a shader's one-output-element-per-fragment); only GPU and shader targets
//   accept such a schedule.
//   cacheRead / cacheWrite: a copy of a tensor in another memory scope (cache.cpp).
//   tensorize(loop, intrin): the loops from `loop` inwards become one intrinsic call.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kiln/schedule/tensor_intrin.h"
#include "kiln/te/tensor.h"
#include "kiln/tir/stmt.h"

namespace kiln::schedule {

using te::Expr;
using te::IterVar;
using te::Tensor;
using te::Var;

// One loop of a stage as it will be emitted.
struct Loop {
  Var var;
  int64_t extent;
  tir::ForKind kind = tir::ForKind::Serial;
  bool isReduce = false;
  std::string threadTag;  // the GPU index this loop is bound to (kind ThreadBinding)
};

struct SplitRelation {
  Var parent, outer, inner;
  int64_t factor;
  int64_t parentExtent;
};
struct FuseRelation {
  Var outer, inner, fused;
  int64_t innerExtent;
};

class Stage {
 public:
  explicit Stage(Tensor t);

  const Tensor& tensor() const { return tensor_; }
  // The spatial axes and the reduce axes of the compute, as defined.
  const std::vector<IterVar>& axes() const { return axes_; }
  const std::vector<IterVar>& reduceAxes() const { return reduceAxes_; }
  Var axis(size_t i) const;
  Var reduceAxis(size_t i) const;
  // The loops, outermost first.
  const std::vector<Loop>& loops() const { return loops_; }
  bool inlined() const { return inlined_; }
  const std::vector<SplitRelation>& splits() const { return splits_; }
  const std::vector<FuseRelation>& fuses() const { return fuses_; }
  // The order in which relations were created (true = split, index into splits/fuses).
  const std::vector<std::pair<bool, size_t>>& relationOrder() const { return order_; }

  std::pair<Var, Var> split(const Var& v, int64_t factor);
  Var fuse(const Var& outer, const Var& inner);
  // Fuses a run of adjacent loops, outermost first.
  Var fuse(const std::vector<Var>& vars);
  // The given loops take the positions they occupied, in the given order.
  void reorder(const std::vector<Var>& order);
  // split both, then order {xo, yo, xi, yi}; returns {xo, yo, xi, yi}.
  std::vector<Var> tile(const Var& x, const Var& y, int64_t fx, int64_t fy);
  void vectorize(const Var& v);
  void parallel(const Var& v);
  void unroll(const Var& v);
  void computeInline();

  // Only a stage without splits or fuses may be attached; it must be read by `parent` alone.
  void computeAt(Stage& parent, const Var& v);
  // The consumer stage's tensor and loop this stage is computed at (null when at the root).
  const Tensor& attachedTo() const { return attachTo_; }
  const Var& attachLoop() const { return attachVar_; }

  // v runs as the GPU index `thread` (see tir::isThreadTag); split or fuse first, then bind.
  // A reduce loop cannot be bound (its iterations update one element), nor can two loops of a
  // stage share a tag.
  void bind(const Var& v, const std::string& thread);
  // The loops from v inwards become one call of `intrin` (see tensor_intrin.h); lowering
  // checks that they compute what its definition computes.
  void tensorize(const Var& v, const TensorIntrin& intrin);
  const TensorIntrin* tensorized() const { return tensorized_ ? &intrin_ : nullptr; }
  const Var& tensorizeLoop() const { return tensorizeVar_; }

  // What this stage computes at its axes: the definition's body, or after cacheWrite a read
  // of the cache stage.
  const Expr& body() const { return body_; }
  // Reads this stage makes of one tensor that go to another instead (cacheRead).
  const std::vector<std::pair<Tensor, Tensor>>& readRedirects() const { return redirects_; }

  // The loop of v; throws kiln::Error naming the stage when v is not one of its loops.
  size_t loopIndex(const Var& v) const;

 private:
  void setKind(const Var& v, tir::ForKind k);
  void checkNotAttached(const char* primitive) const;
  void checkNotBound(const Var& v, const char* primitive) const;
  Tensor tensor_;
  std::vector<IterVar> axes_, reduceAxes_;
  std::vector<Loop> loops_;
  std::vector<SplitRelation> splits_;
  std::vector<FuseRelation> fuses_;
  std::vector<std::pair<bool, size_t>> order_;
  bool inlined_ = false;
  Tensor attachTo_;
  Var attachVar_;
  Expr body_;
  std::vector<std::pair<Tensor, Tensor>> redirects_;
  bool tensorized_ = false;
  TensorIntrin intrin_;
  Var tensorizeVar_;
  friend class Schedule;
};

class Schedule {
 public:
  // One stage per computed tensor that the outputs depend on, producers first.
  explicit Schedule(std::vector<Tensor> outputs);
  const std::vector<Tensor>& outputs() const { return outputs_; }
  std::vector<Stage>& stages() { return stages_; }
  const std::vector<Stage>& stages() const { return stages_; }
  // The stage of a computed tensor; throws kiln::Error when t has none.
  Stage& operator[](const Tensor& t);

  // A new stage "<t>.<scope>" that copies t into memory scope `scope`; the given readers
  // (every stage that reads t when empty) read the copy instead. Attach it with computeAt to
  // copy only the region one iteration of a reader's loop needs (cache.cpp).
  Tensor cacheRead(const Tensor& t, const std::string& scope,
                   const std::vector<Tensor>& readers = {});
  // t's computation moves to a new stage "<t>.<scope>" whose storage is in `scope`; t's own
  // stage becomes a copy of it (cache.cpp). t must not be scheduled yet.
  Tensor cacheWrite(const Tensor& t, const std::string& scope);

 private:
  std::vector<Tensor> outputs_;
  std::vector<Stage> stages_;
};

// The computed tensors t reads, looking through stages that are computed inline, each once.
void readsThroughInline(const Schedule& sch, const Tensor& t, std::vector<Tensor>* out);

}  // namespace kiln::schedule
