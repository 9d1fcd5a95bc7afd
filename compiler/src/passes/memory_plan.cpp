// Static memory planning: lifetimes from the node order, then offsets in one arena, largest
// value first, each at the lowest offset that no value live at the same time occupies
// (the greedy-by-size heuristic; close to optimal on CNNs, whose lifetimes are short chains).
#include <algorithm>

#include "graph_edit.h"
#include "kiln/passes/pass.h"

namespace kiln {

MemoryPlan planMemory(const Graph& g, size_t alignment) {
  const std::vector<Node*> nodes = g.nodes();
  auto uses = consumers(g);
  std::map<const Node*, int> index;
  for (size_t i = 0; i < nodes.size(); ++i) index[nodes[i]] = static_cast<int>(i);
  std::map<int64_t, std::pair<int, int>> groupSpan;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i]->has(kFuseGroupAttr)) {
      auto [it, fresh] = groupSpan.try_emplace(nodes[i]->i(kFuseGroupAttr), static_cast<int>(i),
                                               static_cast<int>(i));
      if (!fresh) it->second.second = static_cast<int>(i);
    }
  auto span = [&](const Node* n) -> std::pair<int, int> {
    if (n->has(kFuseGroupAttr)) return groupSpan.at(n->i(kFuseGroupAttr));
    return {index.at(n), index.at(n)};
  };
  auto sameGroup = [](const Node* a, const Node* b) {
    return a->has(kFuseGroupAttr) && b->has(kFuseGroupAttr) &&
           a->i(kFuseGroupAttr) == b->i(kFuseGroupAttr);
  };

  MemoryPlan plan;
  for (const Node* n : nodes)
    for (const Value* v : n->outputs) {
      const bool output = isGraphOutput(g, v);
      // Values that stay inside a fused kernel are never stored.
      bool internal = !output && !uses[v].empty() &&
                      std::all_of(uses[v].begin(), uses[v].end(),
                                  [&](const Node* c) { return sameGroup(c, n); });
      if (internal) continue;
      // A fused group runs as one kernel: its inputs stay live until the group's last node
      // and its outputs exist from the group's first.
      int last = span(n).second;
      for (const Node* c : uses[v]) last = std::max(last, span(c).second);
      if (output) last = static_cast<int>(nodes.size());
      const int first = span(n).first;
      size_t size =
          (static_cast<size_t>(shapeNumel(v->shape)) * dtypeSize(v->dtype) + alignment - 1) /
          alignment * alignment;
      plan.slots.push_back({v, 0, size, first, last});
      plan.naiveBytes += size;
    }

  std::vector<size_t> order(plan.slots.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return plan.slots[a].size > plan.slots[b].size; });
  std::vector<size_t> placed;
  for (size_t i : order) {
    MemoryPlan::Slot& s = plan.slots[i];
    // Intervals already taken by values whose lifetimes overlap this one, by offset.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t j : placed) {
      const MemoryPlan::Slot& o = plan.slots[j];
      if (o.firstUse <= s.lastUse && s.firstUse <= o.lastUse)
        busy.push_back({o.offset, o.offset + o.size});
    }
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (auto [lo, hi] : busy) {
      if (offset + s.size <= lo) break;
      offset = std::max(offset, hi);
    }
    s.offset = offset;
    plan.arenaBytes = std::max(plan.arenaBytes, offset + s.size);
    placed.push_back(i);
  }
  return plan;
}

}  // namespace kiln
