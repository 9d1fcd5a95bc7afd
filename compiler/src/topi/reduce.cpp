// Reductions over a set of axes (ReduceSum, ReduceMean, ReduceMax), with or without the
// reduced axes kept as size-1 dimensions.
#include <algorithm>

#include "kiln/topi/topi.h"

namespace kiln::topi {

using namespace te;  // NOLINT

Tensor reduce(const Tensor& x, ReduceOp op, const std::vector<int64_t>& axes, bool keepdims,
              const std::string& name) {
  Shape out;
  std::vector<IterVar> raxes;
  int64_t count = 1;
  for (size_t d = 0; d < x->shape.size(); ++d) {
    bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
    if (reduced) {
      raxes.push_back(makeAxis(name + ".r" + std::to_string(d), x->shape[d]));
      count *= x->shape[d];
      if (keepdims) out.push_back(1);
    } else {
      out.push_back(x->shape[d]);
    }
  }
  const bool mean = op == ReduceOp::Mean;
  Tensor acc = compute(mean ? name + ".sum" : name, out, [&](const Indices& i) {
    Indices src;
    size_t oi = 0, ri = 0;
    for (size_t d = 0; d < x->shape.size(); ++d) {
      bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
      if (reduced) {
        src.push_back(raxes[ri++].var);
        if (keepdims) ++oi;
      } else {
        src.push_back(i[oi++]);
      }
    }
    return op == ReduceOp::Max ? maximum(read(x, src), raxes) : sum(read(x, src), raxes);
  });
  if (!mean) return acc;
  return compute(name, out, [&](const Indices& i) {
    return read(acc, i) / floatImm(static_cast<double>(count), x->dtype);
  });
}

}  // namespace kiln::topi
