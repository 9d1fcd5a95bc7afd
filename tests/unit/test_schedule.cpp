// Schedules and lowering: every primitive (split, fuse, reorder, tile, vectorize, parallel,
// unroll, compute_inline) changes only how a computation loops, never what it computes,
// so each scheduled kernel must match the reference exactly as far as float rounding
// allows; plus what the passes print and the errors they give.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <random>
#include <sstream>

#include "kiln/codegen/llvm_jit.h"
#include "kiln/runtime/error.h"
#include "kiln/runtime/thread_pool.h"
#include "kiln/schedule/default_schedule.h"
#include "kiln/tir/ir_visitor.h"
#include "kiln/tir/lower.h"
#include "kiln/tir/passes.h"
#include "kiln/tir/printer.h"
#include "kiln/topi/topi.h"

namespace kiln {
namespace {

using namespace te;  // NOLINT
using schedule::Schedule;

std::vector<float> randomVec(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

// C = A (M x K) * B (K x N), plus relu(C) + 1 as an inlinable epilogue.
struct MatmulCase {
  static constexpr int64_t M = 19, N = 23, K = 13;
  Tensor a = placeholder("A", DType::F32, {M, K});
  Tensor b = placeholder("B", DType::F32, {K, N});
  IterVar k = makeAxis("k", K);
  Tensor c = compute("C", {M, N}, [&](const Indices& i) {
    return sum(read(a, {i[0], k.var}) * read(b, {k.var, i[1]}), {k});
  });
  Tensor r = compute("R", {M, N}, [&](const Indices& i) { return max(read(c, i), Expr(0.0f)); });
  Tensor out = compute("Out", {M, N}, [&](const Indices& i) { return read(r, i) + Expr(1.0f); });
  std::vector<float> av = randomVec(M * K, 1), bv = randomVec(K * N, 2);

  std::vector<float> expected() const {
    std::vector<float> o(M * N);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = 0;
        for (int64_t q = 0; q < K; ++q) s += double(av[i * K + q]) * bv[q * N + j];
        o[i * N + j] = static_cast<float>(std::max(s, 0.0) + 1.0);
      }
    return o;
  }

  // Lowers, JIT-compiles and runs the schedule; returns Out and the lowered text.
  std::vector<float> run(const Schedule& sch, std::string* ir = nullptr) {
    tir::Kernel kern = tir::lower(sch, {a, b, out}, "matmul");
    if (ir) *ir = tir::printKernel(kern);
    auto jit = codegen::LLVMJit::compile({kern});
    std::vector<float> o(M * N, -1.0f), ac = av, bc = bv;
    void* args[] = {ac.data(), bc.data(), o.data()};
    jit->lookup("matmul")(args);
    return o;
  }
};

void expectNear(const std::vector<float>& got, const std::vector<float>& want,
                const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-5 * std::max(1.0f, std::abs(want[i])))
        << what << ": element " << i;
}

TEST(Schedule, DefaultScheduleIsCorrect) {
  MatmulCase m;
  expectNear(m.run(schedule::defaultSchedule({m.out})), m.expected(), "default schedule");
}

TEST(Schedule, SplitReorderFuseVectorizeParallelUnrollInline) {
  MatmulCase m;
  Schedule s({m.out});
  auto& c = s[m.c];
  // Non-dividing splits (19 = 4*5 - 1, 23 = 8*3 - 1) exercise the guards.
  std::vector<Var> t = c.tile(c.axis(0), c.axis(1), 4, 8);
  auto [ko, ki] = c.split(c.reduceAxis(0), 5);
  c.reorder({t[0], t[1], ko, t[2], ki, t[3]});
  c.parallel(t[0]);
  c.unroll(ki);
  c.vectorize(t[3]);
  s[m.r].computeInline();
  auto& o = s[m.out];
  Var f = o.fuse(o.axis(0), o.axis(1));
  auto [fo, fi] = o.split(f, 16);
  o.parallel(fo);
  o.vectorize(fi);
  std::string ir;
  expectNear(m.run(s, &ir), m.expected(), "scheduled");
  EXPECT_NE(ir.find("parallel for"), std::string::npos) << ir;
  EXPECT_NE(ir.find("vectorized for"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("allocate R"), std::string::npos) << "R was inlined, yet has storage:\n" << ir;
  EXPECT_NE(ir.find("allocate C"), std::string::npos) << ir;
  // The guards of the non-dividing splits are partitioned away: full tiles run without a
  // test, the last row and column tiles (3 rows, 7 columns) are loops of their own.
  EXPECT_EQ(ir.find("if ("), std::string::npos) << "guards left after partitioning:\n" << ir;
  EXPECT_NE(ir.find("vectorized for (C.i1.i, 0, 7)"), std::string::npos) << ir;
  EXPECT_NE(ir.find("for (C.i0.i, 0, 3)"), std::string::npos) << ir;
}

TEST(Schedule, EveryPassIsLoggedInOrder) {
  MatmulCase m;
  Schedule s = schedule::defaultSchedule({m.out});
  std::ostringstream log;
  tir::lower(s, {m.a, m.b, m.out}, "matmul", tir::LowerOptions{&log});
  std::string text = log.str();
  size_t pos = 0;
  for (const char* pass :
       {"bound inference", "schedule ops", "storage flattening", "loop partitioning",
        "loop unrolling", "simplification", "vectorization"}) {
    size_t at = text.find(std::string("Lowering matmul after ") + pass);
    ASSERT_NE(at, std::string::npos) << pass << " missing from:\n" << text;
    EXPECT_GT(at + 1, pos) << pass << " out of order";
    pos = at;
  }
  EXPECT_NE(text.find("A read over [0, 18] x [0, 12]"), std::string::npos) << text;
}

TEST(Schedule, PrimitiveErrorsNameTheStage) {
  MatmulCase m;
  Schedule s({m.out});
  auto& c = s[m.c];
  auto [o, i] = c.split(c.axis(0), 4);
  try {
    c.split(c.axis(0), 2);  // already split
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stage 'C'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(c.parallel(c.reduceAxis(0)), Error);
  EXPECT_THROW(c.fuse(c.axis(1), c.reduceAxis(0)), Error);  // spatial with reduce
  EXPECT_THROW(c.computeInline(), Error);                   // a reduction
  EXPECT_THROW(c.computeAt(c, c.axis(1)), Error);
  EXPECT_THROW(s.cacheRead(m.a, ""), Error);  // a cache needs a memory scope
  s[m.out].computeInline();
  EXPECT_THROW(tir::lower(s, {m.a, m.b, m.out}, "bad"), Error);  // an output cannot be inlined
}

// compute_at: a producer computed inside its consumer's loop, over the region each
// iteration reads, gives the same result as computing it whole first.
struct BlurCase {
  static constexpr int64_t H = 21, W = 17;
  Tensor x = placeholder("x", DType::F32, {H + 2, W + 2});
  Tensor bx = compute("bx", {H + 2, W}, [&](const Indices& i) {
    return read(x, {i[0], i[1]}) + read(x, {i[0], i[1] + 1}) + read(x, {i[0], i[1] + 2});
  });
  Tensor by = compute("by", {H, W}, [&](const Indices& i) {
    return read(bx, {i[0], i[1]}) + read(bx, {i[0] + 1, i[1]}) + read(bx, {i[0] + 2, i[1]});
  });
  std::vector<float> xv = randomVec((H + 2) * (W + 2), 3);

  std::vector<float> run(const Schedule& sch, std::string* ir) {
    tir::Kernel k = tir::lower(sch, {x, by}, "blur");
    *ir = tir::printKernel(k);
    auto jit = codegen::LLVMJit::compile({k});
    std::vector<float> out(H * W), in = xv;
    void* args[] = {in.data(), out.data()};
    jit->lookup("blur")(args);
    return out;
  }
};

TEST(Schedule, ComputeAtMatchesComputeRoot) {
  BlurCase b;
  std::string rootIr, atIr, tiledIr;
  std::vector<float> want = b.run(Schedule({b.by}), &rootIr);
  {
    Schedule s({b.by});
    s[b.bx].computeAt(s[b.by], s[b.by].axis(0));  // three rows of bx per row of by
    expectNear(b.run(s, &atIr), want, "compute_at row");
    // bx's loop now sits inside by's row loop and runs over 3 rows, not H + 2.
    EXPECT_NE(atIr.find("for (bx.i0.r, 0, 3)"), std::string::npos) << atIr;
    // ... and stores only those 3 rows.
    EXPECT_NE(atIr.find("allocate bx[f32 * 51]"), std::string::npos) << atIr;
  }
  {
    Schedule s({b.by});
    auto [yo, yi] = s[b.by].split(s[b.by].axis(0), 4);  // 21 rows: a partial last tile
    s[b.by].parallel(yo);
    s[b.bx].computeAt(s[b.by], yo);
    s[b.bx].vectorize(s[b.bx].axis(1));
    expectNear(b.run(s, &tiledIr), want, "compute_at tile");
    EXPECT_NE(tiledIr.find("for (bx.i0.r, 0, 6)"), std::string::npos) << tiledIr;
    // Each parallel iteration has its own 6-row buffer: no two threads write the same one.
    ASSERT_NE(tiledIr.find("allocate bx[f32 * 102]"), std::string::npos) << tiledIr;
    EXPECT_GT(tiledIr.find("allocate bx[f32 * 102]"), tiledIr.find("parallel for")) << tiledIr;
  }
}

TEST(Schedule, ComputeAtOfAReduction) {
  MatmulCase m;
  Schedule s({m.out});
  s[m.r].computeInline();
  s[m.c].computeAt(s[m.out], s[m.out].axis(0));  // one row of C per row of Out
  std::string ir;
  expectNear(m.run(s, &ir), m.expected(), "matmul computed per row");
  EXPECT_NE(ir.find("C.i1.r"), std::string::npos) << ir;
}

TEST(Schedule, ComputeAtErrors) {
  BlurCase b;
  Schedule s({b.by});
  auto& bx = s[b.bx];
  EXPECT_THROW(bx.computeAt(bx, bx.axis(0)), Error);       // itself
  EXPECT_THROW(bx.computeAt(s[b.by], bx.axis(0)), Error);  // not a loop of by
  bx.computeAt(s[b.by], s[b.by].axis(0));
  EXPECT_THROW(bx.split(bx.axis(1), 4), Error);  // attached stages keep their loops
  s[b.by].split(s[b.by].axis(0), 2);             // the attach loop disappears
  try {
    tir::lower(s, {b.x, b.by}, "blur");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no longer exists"), std::string::npos) << e.what();
  }
}

// bind: loops become GPU indices. Every pass keeps them (even of extent 1), the printer shows
// their tag, the CPU back end refuses them, and, read as serial loops, the kernel still
// computes the same thing.
class UnbindThreads : public tir::IRMutator {
 public:
  using IRMutator::mutate;

 protected:
  using IRMutator::visit;
  tir::Stmt visit(const tir::For* op, const tir::Stmt&) override {
    return tir::For::make(
        op->var, op->min, op->extent,
        op->forKind == tir::ForKind::ThreadBinding ? tir::ForKind::Serial : op->forKind,
        mutate(op->body));
  }
};

TEST(Schedule, BindCarriesThreadTagsThroughLowering) {
  MatmulCase m;
  Schedule s({m.out});
  s[m.r].computeInline();
  auto& c = s[m.c];
  auto [io, ii] = c.split(c.axis(0), 8);  // 19 rows: a guarded partial block
  c.bind(io, "blockIdx.x");
  c.bind(ii, "threadIdx.x");
  c.bind(c.axis(1), "threadIdx.y");
  auto& o = s[m.out];
  auto [jo, ji] = o.split(o.axis(1), 32);  // 23 columns: one block of extent 1
  o.bind(o.axis(0), "blockIdx.y");
  o.bind(jo, "blockIdx.x");
  o.bind(ji, "threadIdx.x");
  std::ostringstream log;
  tir::LowerOptions opt;
  opt.log = &log;
  tir::Kernel k = tir::lower(s, {m.a, m.b, m.out}, "matmul", opt);
  std::string ir = tir::printKernel(k);
  EXPECT_NE(ir.find("thread blockIdx.x (C.i0.o, 0, 3)"), std::string::npos) << ir;
  EXPECT_NE(ir.find("thread threadIdx.x (C.i0.i, 0, 8)"), std::string::npos) << ir;
  EXPECT_NE(ir.find("thread threadIdx.y (C.i1, 0, 23)"), std::string::npos) << ir;
  EXPECT_NE(ir.find("thread blockIdx.y (Out.i0, 0, 19)"), std::string::npos) << ir;
  // Extent 1 after the split: the simplifier would drop a serial loop, not a binding.
  EXPECT_NE(ir.find("thread blockIdx.x (Out.i1.o, 0, 1)"), std::string::npos) << ir;
  // The LLVM back end refuses a GPU schedule, naming the loop and its tag.
  try {
    codegen::LLVMJit::compile({k});
    FAIL() << "the CPU back end accepted a bound loop";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("bound to blockIdx.x"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cuda or opencl"), std::string::npos) << msg;
  }
  // Read as serial loops, the bound kernel computes the product.
  UnbindThreads u;
  tir::Kernel serial{k.name, k.params, u.mutate(k.body)};
  auto jit = codegen::LLVMJit::compile({serial});
  std::vector<float> out(MatmulCase::M * MatmulCase::N, -1.0f), av = m.av, bv = m.bv;
  void* args[] = {av.data(), bv.data(), out.data()};
  jit->lookup("matmul")(args);
  expectNear(out, m.expected(), "bound schedule run serially");
}

TEST(Schedule, BindSurvivesUnrollingAndFragmentTag) {
  Tensor x = placeholder("x", DType::F32, {4, 6});
  Tensor y = compute("y", {4, 6}, [&](const Indices& i) { return read(x, i) * Expr(2.0f); });
  Schedule s({y});
  Var f = s[y].fuse(s[y].axis(0), s[y].axis(1));
  auto [fo, fi] = s[y].split(f, 3);
  s[y].bind(fo, "fragment");
  s[y].unroll(fi);
  std::string ir = tir::printKernel(tir::lower(s, {x, y}, "twice"));
  EXPECT_NE(ir.find("thread fragment (y.i0_i1.o, 0, 8)"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("y.i0_i1.i"), std::string::npos) << "the inner loop was not unrolled:\n" << ir;
}

TEST(Schedule, BindErrorsSayWhatToFix) {
  MatmulCase m;
  Schedule s({m.out});
  auto& c = s[m.c];
  auto expectError = [](const std::function<void()>& f, const std::string& part) {
    try {
      f();
      FAIL() << "expected an error containing '" << part << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  expectError([&] { c.bind(c.axis(0), "warpIdx.x"); }, "unknown thread tag");
  expectError([&] { c.bind(c.reduceAxis(0), "threadIdx.x"); }, "cannot bind reduce loop");
  c.bind(c.axis(0), "blockIdx.x");
  expectError([&] { c.bind(c.axis(1), "blockIdx.x"); }, "binds both");
  expectError([&] { c.split(c.axis(0), 4); }, "split and fuse first, then bind");
  expectError([&] { c.fuse(c.axis(0), c.axis(1)); }, "split and fuse first, then bind");
  expectError([&] { c.vectorize(c.axis(0)); }, "bound to blockIdx.x");
  c.bind(c.axis(0), "blockIdx.x");  // binding again to the same tag is harmless
  expectError(
      [&] {
        tir::For::make(makeVar("v"), 0, 4, tir::ForKind::ThreadBinding,
                       tir::Evaluate::make(Expr(0)));
      },
      "unknown thread tag ''");
}

TEST(Lowering, OutOfBoundsReadIsRejected) {
  Tensor x = placeholder("x", DType::F32, {8});
  Tensor y = compute("y", {8}, [&](const Indices& i) { return read(x, {i[0] + 1}); });
  try {
    tir::lower(Schedule({y}), {x, y}, "shift");
    FAIL() << "expected a bound inference error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("out of bounds"), std::string::npos) << m;
    EXPECT_NE(m.find("[1, 8]"), std::string::npos) << m;
  }
  // A guarded read of the same shifted index is fine.
  Tensor z = compute("z", {8}, [&](const Indices& i) {
    return topi::guardedRead(x, {i[0] + 1}, {{1, 8}}, Expr(0.0f));
  });
  EXPECT_NO_THROW(tir::lower(Schedule({z}), {x, z}, "shift"));
}

TEST(Lowering, MissingArgumentIsAClearError) {
  Tensor x = placeholder("x", DType::F32, {4});
  Tensor y = compute("y", {4}, [&](const Indices& i) { return read(x, i) * Expr(2.0f); });
  try {
    tir::lower(Schedule({y}), {y}, "k");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'x' is used but is neither a kernel argument"),
              std::string::npos)
        << e.what();
  }
}

TEST(Lowering, SimplifierFoldsIndexArithmetic) {
  Var x = makeVar("x");
  EXPECT_EQ(tir::printExpr(tir::simplify((x + 2) + 3)), "(x + 5)");
  EXPECT_EQ(tir::printExpr(tir::simplify(x * 1 + Expr(0) * x)), "x");
  EXPECT_EQ(tir::printExpr(tir::simplify(Expr(7) / 2 + Expr(-7) / 2 + Expr(-7) % 3)),
            "1");  // floor semantics
  EXPECT_EQ(tir::printExpr(tir::simplify(select(Expr(3) < Expr(4), x, Expr(0)))), "x");
  Var y = makeVar("y");
  EXPECT_EQ(tir::printExpr(tir::simplify((min(x, Expr(3)) + y) - min(x, Expr(3)))), "y");
}

TEST(Expr, TypeErrorsAreReportedWhereWritten) {
  Tensor x = placeholder("x", DType::F32, {4});
  EXPECT_THROW(read(x, {Expr(0)}) + Expr(1), Error);  // f32 + i64
  EXPECT_THROW(read(x, {Expr(0), Expr(1)}), Error);   // wrong rank
  EXPECT_THROW(call("nosuch", {Expr(1.0f)}), Error);
  EXPECT_THROW(
      compute("bad", {4},
              [&](const Indices& i) { return sum(read(x, i), {makeAxis("r", 2)}) + Expr(1.0f); }),
      Error);  // a reduction nested in an expression
}

// Integer semantics the back end must get right: floor division and modulo on negative
// values (padding offsets), casts between float and integer types, boolean results.
TEST(Codegen, FloorDivisionCastsAndBooleans) {
  Tensor q = compute("q", {12}, [&](const Indices& i) { return (i[0] - Expr(6)) / Expr(4); });
  Tensor r = compute("r", {12}, [&](const Indices& i) { return (i[0] - Expr(6)) % Expr(4); });
  Tensor f = compute("f", {12}, [&](const Indices& i) {
    return cast(DType::I32, cast(DType::F32, i[0] - Expr(6)) * Expr(0.75f));
  });
  Tensor b =
      compute("b", {12}, [&](const Indices& i) { return (i[0] > Expr(3)) && !(i[0] > Expr(8)); });
  tir::Kernel k = tir::lower(schedule::defaultSchedule({q, r, f, b}), {q, r, f, b}, "ints");
  auto jit = codegen::LLVMJit::compile({k});
  std::vector<int64_t> qv(12), rv(12);
  std::vector<int32_t> fv(12);
  std::vector<uint8_t> bv(12, 7);
  void* args[] = {qv.data(), rv.data(), fv.data(), bv.data()};
  jit->lookup("ints")(args);
  for (int64_t i = 0; i < 12; ++i) {
    int64_t x = i - 6;
    int64_t fq = x >= 0 ? x / 4 : -((-x + 3) / 4);
    EXPECT_EQ(qv[i], fq) << "floor(" << x << " / 4)";
    EXPECT_EQ(rv[i], x - fq * 4) << x << " mod 4";
    EXPECT_EQ(fv[i], static_cast<int32_t>(static_cast<float>(x) * 0.75f))
        << "i32(f32(" << x << ") * 0.75)";
    EXPECT_EQ(bv[i], (i > 3 && i <= 8) ? 1 : 0) << "bool at " << i;
  }
}

TEST(ThreadPool, CoversTheRangeOnceAndNestsSerially) {
  ThreadPool pool(3);
  std::vector<int> hits(1000, 0);
  pool.parallelFor(1000, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
  });
  for (int h : hits) ASSERT_EQ(h, 1);
  std::atomic<int> inner{0};
  ThreadPool::global().parallelFor(4, [&](int64_t b, int64_t e) {
    ThreadPool::global().parallelFor(
        10, [&](int64_t b2, int64_t e2) { inner += static_cast<int>(e2 - b2); });
    (void)b, (void)e;
  });
  EXPECT_EQ(inner.load(), 40);
}

}  // namespace
}  // namespace kiln
