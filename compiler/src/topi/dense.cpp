// Matrix products: Gemm (2-D, optional transposes, alpha/beta and a broadcast C) and
// MatMul (numpy semantics: 1-D operands promoted, batch dimensions broadcast).
#include "kiln/ops/op_registry.h"
#include "kiln/runtime/error.h"
#include "kiln/topi/topi.h"

namespace kiln::topi {

using namespace te;  // NOLINT

Tensor gemm(const Tensor& a, const Tensor& b, const Tensor& c, bool transA, bool transB,
            double alpha, double beta, const std::string& name) {
  if (a->rank() != 2 || b->rank() != 2)
    throw Error("'" + name + "': Gemm needs 2-D operands, got " + shapeStr(a->shape) + " and " +
                shapeStr(b->shape));
  const int64_t M = transA ? a->shape[1] : a->shape[0], K = transA ? a->shape[0] : a->shape[1];
  const int64_t N = transB ? b->shape[0] : b->shape[1];
  IterVar k = makeAxis(name + ".k", K);
  const bool epilogue = alpha != 1.0 || (c && beta != 0.0);
  Tensor prod = compute(
      epilogue ? name + ".matmul" : name, {M, N},
      [&](const Indices& i) {
        Expr av = transA ? read(a, {k.var, i[0]}) : read(a, {i[0], k.var});
        Expr bv = transB ? read(b, {i[1], k.var}) : read(b, {k.var, i[1]});
        return sum(av * bv, {k});
      },
      "matmul");
  if (!epilogue) return prod;
  return compute(name, {M, N}, [&](const Indices& i) {
    Expr r = read(prod, i);
    if (alpha != 1.0) r = floatImm(alpha, a->dtype) * r;
    if (c && beta != 0.0) {
      Indices ci;
      size_t off = 2 - c->shape.size();
      for (size_t d = 0; d < c->shape.size(); ++d)
        ci.push_back(c->shape[d] == 1 ? Expr(0) : i[off + d]);
      Expr cv = read(c, ci);
      r = r + (beta != 1.0 ? floatImm(beta, a->dtype) * cv : cv);
    }
    return r;
  });
}

Tensor matmul(const Tensor& a, const Tensor& b, const Shape& outShape, const std::string& name) {
  const bool va = a->rank() == 1, vb = b->rank() == 1;
  const int64_t K = a->shape.back();
  if (K != (vb ? b->shape[0] : b->shape[b->shape.size() - 2]))
    throw Error("'" + name + "': MatMul of " + shapeStr(a->shape) + " and " + shapeStr(b->shape));
  IterVar k = makeAxis(name + ".k", K);
  // Output index layout: batch..., M (unless a is a vector), N (unless b is a vector).
  const size_t batchRank = outShape.size() - (va ? 0 : 1) - (vb ? 0 : 1);
  auto batchIndex = [&](const Tensor& t, const Indices& out, size_t matRank) {
    Indices r;
    size_t tb = t->shape.size() - matRank;  // batch dims of t
    for (size_t d = 0; d < tb; ++d)
      r.push_back(t->shape[d] == 1 ? Expr(0) : out[batchRank - tb + d]);
    return r;
  };
  return compute(
      name, outShape,
      [&](const Indices& i) {
        Expr m = va ? Expr() : i[batchRank];
        Expr n = vb ? Expr() : i[batchRank + (va ? 0 : 1)];
        Indices ai = va ? Indices{} : batchIndex(a, i, 2),
                bi = vb ? Indices{} : batchIndex(b, i, 2);
        if (!va) ai.push_back(m);
        ai.push_back(k.var);
        bi.push_back(k.var);
        if (!vb) bi.push_back(n);
        return sum(read(a, ai) * read(b, bi), {k});
      },
      "matmul");
}

}  // namespace kiln::topi
