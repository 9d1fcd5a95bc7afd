// cache_read, cache_write and tensorize: caches change where a computation keeps its data,
// never what it computes (checked by running the kernels through the LLVM back end against
// the unscheduled result); tensorize replaces loop nests by intrinsic calls only where the
// nest computes what the intrinsic's definition does, and says what differs otherwise.
#include <gtest/gtest.h>

#include <random>

#include "kiln/codegen/llvm_jit.h"
#include "kiln/runtime/error.h"
#include "kiln/schedule/schedule.h"
#include "kiln/tir/lower.h"
#include "kiln/tir/printer.h"

namespace kiln {
namespace {

using namespace te;  // NOLINT
using schedule::Schedule;
using schedule::TensorIntrin;

// Out = relu(A * B) + 1 with A 12 x 10, B 10 x 8.
struct Mm {
  static constexpr int64_t M = 12, N = 8, K = 10;
  Tensor a = placeholder("A", DType::F32, {M, K});
  Tensor b = placeholder("B", DType::F32, {K, N});
  IterVar k = makeAxis("k", K);
  Tensor c = compute("C", {M, N}, [&](const Indices& i) {
    return sum(read(a, {i[0], k.var}) * read(b, {k.var, i[1]}), {k});
  });
  Tensor out = compute("Out", {M, N},
                       [&](const Indices& i) { return max(read(c, i), Expr(0.0f)) + Expr(1.0f); });
  std::vector<float> av, bv;
  Mm() {
    std::mt19937 g(5);
    std::uniform_real_distribution<float> d(-1, 1);
    for (int64_t i = 0; i < M * K; ++i) av.push_back(d(g));
    for (int64_t i = 0; i < K * N; ++i) bv.push_back(d(g));
  }
  std::vector<float> run(const Schedule& sch, std::string* ir) {
    tir::Kernel kern = tir::lower(sch, {a, b, out}, "mm");
    *ir = tir::printKernel(kern);
    auto jit = codegen::LLVMJit::compile({kern});
    std::vector<float> o(M * N, -1.0f), ac = av, bc = bv;
    void* args[] = {ac.data(), bc.data(), o.data()};
    jit->lookup("mm")(args);
    return o;
  }
};

TEST(Cache, ReadAndWriteCachesComputeTheSame) {
  Mm m;
  std::string rootIr, ir;
  std::vector<float> want = m.run(Schedule({m.out}), &rootIr);
  Schedule s({m.out});
  // C accumulates in a "local" cache, four rows per tile of Out (C itself, now a copy, is
  // inlined into Out); A and B are copied into a "shared" cache per chunk of 5 of the
  // reduction.
  Tensor cl = s.cacheWrite(m.c, "local");
  s[m.c].computeInline();
  auto [yo, yi] = s[m.out].split(s[m.out].axis(0), 4);
  s[cl].computeAt(s[m.out], yo);
  auto [ko, ki] = s[cl].split(s[cl].reduceAxis(0), 5);
  s[cl].reorder({ko, s[cl].axis(0), s[cl].axis(1), ki});
  Tensor as = s.cacheRead(m.a, "shared");
  s[as].computeAt(s[cl], ko);
  Tensor bs = s.cacheRead(m.b, "shared", {cl});
  s[bs].computeAt(s[cl], ko);
  std::vector<float> got = m.run(s, &ir);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_FLOAT_EQ(got[i], want[i]) << "element " << i;
  // 4 rows x 8 columns of C in local memory, 4 rows x 5 of A and 5 rows of B in shared.
  EXPECT_NE(ir.find("allocate C.local[f32 * 32] in local"), std::string::npos) << ir;
  EXPECT_NE(ir.find("allocate A.shared[f32 * 20] in shared"), std::string::npos) << ir;
  EXPECT_NE(ir.find("allocate B.shared[f32 * 40] in shared"), std::string::npos) << ir;
}

TEST(Cache, ErrorsSayWhatToFix) {
  Mm m;
  Schedule s({m.out});
  EXPECT_THROW(s.cacheRead(m.a, ""), Error);
  try {
    s.cacheRead(m.a, "shared", {m.out});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'Out' is not a stage of this schedule that reads it"),
              std::string::npos)
        << e.what();
  }
  s[m.c].split(s[m.c].axis(0), 2);
  EXPECT_THROW(s.cacheWrite(m.c, "local"), Error);  // already scheduled
}

// A 4 x 4 x 4 matrix-multiply intrinsic: out[i, j] = sum_k x[i, k] * w[k, j].
TensorIntrin gemm4(bool transposed = false) {
  Tensor x = placeholder("x", DType::F32, {4, 4});
  Tensor w = placeholder("w", DType::F32, {4, 4});
  IterVar k = makeAxis("k", 4);
  Tensor o = compute("o", {4, 4}, [&](const Indices& i) {
    Expr wv = transposed ? read(w, {i[1], k.var}) : read(w, {k.var, i[1]});
    return sum(read(x, {i[0], k.var}) * wv, {k});
  });
  return TensorIntrin{"gemm4", o, "gemm4.reset", {}};
}

struct Tiled {
  Mm m;
  Schedule s{{m.out}};
  Var ii;
  Tiled() {
    auto& c = s[m.c];
    auto [io, i] = c.split(c.axis(0), 4);
    auto [jo, ji] = c.split(c.axis(1), 4);
    auto [ko, ki] = c.split(c.reduceAxis(0), 5);  // 10 = 2 x 5: the intrinsic needs 4
    c.reorder({io, jo, ko, i, ji, ki});
    ii = i;
  }
};

TEST(Tensorize, LoopsMustMatchTheIntrinsic) {
  Tiled t;
  t.s[t.m.c].tensorize(t.ii, gemm4());
  try {
    tir::lower(t.s, {t.m.a, t.m.b, t.m.out}, "mm");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("runs 5 reduce iterations where the intrinsic's axis k "
                                         "runs 4"),
              std::string::npos)
        << e.what();
  }
}

TEST(Tensorize, ReplacesTheNestByCallsAndChecksTheAccess) {
  // K = 8 so the reduction splits by 4.
  Tensor a = placeholder("A", DType::F32, {8, 8});
  Tensor b = placeholder("B", DType::F32, {8, 8});
  IterVar k = makeAxis("k", 8);
  Tensor c = compute("C", {8, 8}, [&](const Indices& i) {
    return sum(read(a, {i[0], k.var}) * read(b, {k.var, i[1]}), {k});
  });
  auto build = [&](const TensorIntrin& in) {
    Schedule s({c});
    auto& st = s[c];
    auto [io, ii] = st.split(st.axis(0), 4);
    auto [jo, ji] = st.split(st.axis(1), 4);
    auto [ko, ki] = st.split(st.reduceAxis(0), 4);
    st.reorder({io, jo, ko, ii, ji, ki});
    st.tensorize(ii, in);
    return tir::printKernel(tir::lower(s, {a, b, c}, "mm"));
  };
  std::string ir = build(gemm4());
  // One reset per output block, one call per (block, k chunk), no scalar loops left.
  EXPECT_NE(ir.find("gemm4.reset(C["), std::string::npos) << ir;
  EXPECT_NE(ir.find("gemm4(C["), std::string::npos) << ir;
  EXPECT_EQ(ir.find("C.i0.i"), std::string::npos) << ir;
  // B read transposed moves along the wrong dimension: refused.
  try {
    build(gemm4(true));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not move with the loops"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace kiln
