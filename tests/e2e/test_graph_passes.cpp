// The graph passes on whole models: the optimised graph computes the same outputs as the
// imported one (reference executor on both, 1e-5 relative: batch-norm folding changes only
// float rounding), every Conv -> BatchNormalization pair is folded, and the memory plan
// never gives two simultaneously live values overlapping bytes.
#include "kiln/frontend/onnx.h"
#include "kiln/passes/pass.h"
#include "kiln/ref/executor.h"
#include "model_harness.h"

#include <set>

namespace kiln::test {
namespace {

class GraphPasses : public ::testing::TestWithParam<std::string> {};

TEST_P(GraphPasses, PreserveResultsAndPlanMemorySoundly) {
  fs::path model = modelsDir() / (GetParam() + ".onnx");
  Expected<Graph> before = importOnnx(model.string());
  Expected<Graph> after = importOnnx(model.string());
  ASSERT_TRUE(before && after) << before.message();
  optimizeGraph(*after);

  for (Node* n : after->nodes())
    if (n->op == "BatchNormalization") {
      ASSERT_NE(n->inputs[0]->producer, nullptr);
      EXPECT_NE(n->inputs[0]->producer->op, "Conv")
          << "unfolded batch norm after a Conv: " << n->describe();
    }
  for (size_t k = 0; k < before->outputs().size(); ++k)
    EXPECT_EQ(before->outputs()[k]->name, after->outputs()[k]->name)
        << "output names must survive optimisation";

  std::map<std::string, NDArray> feeds;
  uint32_t seed = 7;
  for (Value* in : before->inputs()) feeds[in->name] = randomTensor(in->shape, seed++);
  auto want = ref::Executor(*before).run(feeds);
  auto got = ref::Executor(*after).run(feeds);
  for (size_t k = 0; k < want.size(); ++k) {
    Diff d = diff(got[k], want[k]);
    EXPECT_LE(d.relative, 1e-5) << "output " << k << ": max abs diff " << d.maxAbs;
  }

  // Soundness from first principles: kernels (fused groups) run in order; a value occupies
  // its bytes from the kernel that writes it to the last kernel that reads it.
  MemoryPlan plan = planMemory(*after);
  EXPECT_LE(plan.arenaBytes, plan.naiveBytes);
  std::map<int64_t, int> ordinal;
  for (Node* n : after->nodes())
    ordinal.try_emplace(n->i(kFuseGroupAttr), static_cast<int>(ordinal.size()));
  auto kernelOf = [&](const Node* n) { return ordinal.at(n->i(kFuseGroupAttr)); };
  struct Live {
    const MemoryPlan::Slot* slot;
    int from, to;
  };
  std::vector<Live> live;
  for (const auto& s : plan.slots) {
    int to = kernelOf(s.value->producer);
    for (Node* n : after->nodes())
      for (Value* in : n->inputs)
        if (in == s.value) to = std::max(to, kernelOf(n));
    for (Value* o : after->outputs())
      if (o == s.value) to = static_cast<int>(ordinal.size());
    live.push_back({&s, kernelOf(s.value->producer), to});
  }
  for (size_t i = 0; i < live.size(); ++i)
    for (size_t j = i + 1; j < live.size(); ++j) {
      const auto& a = live[i];
      const auto& b = live[j];
      bool together = a.from <= b.to && b.from <= a.to;
      bool overlap = a.slot->offset < b.slot->offset + b.slot->size &&
                     b.slot->offset < a.slot->offset + a.slot->size;
      EXPECT_FALSE(together && overlap)
          << a.slot->value->name << " and " << b.slot->value->name << " share memory";
    }
  // Every value read by a kernel other than the one that wrote it is in memory.
  std::set<const Value*> planned;
  for (const auto& s : plan.slots) planned.insert(s.value);
  for (Node* n : after->nodes()) {
    for (Value* in : n->inputs) {
      if (in && in->producer && kernelOf(in->producer) != kernelOf(n)) {
        EXPECT_TRUE(planned.count(in)) << in->name << " crosses kernels but has no memory";
      }
    }
  }
  std::cout << "[ " << GetParam() << " ] " << before->nodes().size() << " -> "
            << after->nodes().size() << " nodes; activations " << plan.arenaBytes
            << " B with reuse, " << plan.naiveBytes << " B without\n";
}

INSTANTIATE_TEST_SUITE_P(Models, GraphPasses,
                         ::testing::Values("resnet18", "resnet50", "mobilenetv2", "squeezenet1_1",
                                           "batch3", "asym_pads", "grouped_dilated", "auto_pad",
                                           "gemm_variants", "concat_reshape"));

}  // namespace
}  // namespace kiln::test
