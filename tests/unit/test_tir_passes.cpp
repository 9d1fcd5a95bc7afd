// The loop-IR passes of loop partitioning and vectorization, on hand-built IR: what each
// turns a loop into (read back from the printed IR), what each must leave alone, and that the
// LLVM back end runs what vectorization makes (contiguous, strided and gathered lanes,
// selects, partial registers) to the values a scalar loop gives.
#include <gtest/gtest.h>

#include <vector>

#include "kiln/codegen/llvm_jit.h"
#include "kiln/tir/passes.h"
#include "kiln/tir/printer.h"

namespace kiln {
namespace {

using namespace te;  // NOLINT
using tir::For;
using tir::ForKind;
using tir::IfThenElse;
using tir::Seq;
using tir::Stmt;
using tir::Store;

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string partitioned(const Stmt& s) {
  return tir::printStmt(tir::simplify(tir::partitionLoops(s)));
}

TEST(LoopPartition, GuardOfANonDividingSplitLeavesTheMainPart) {
  // for xo in [0, 4): for xi in [0, 8): if (xo * 8 + xi < 30) a[xo * 8 + xi] = 1
  Buffer a = makeBuffer("a", DType::F32, 30);
  Var xo = makeVar("xo"), xi = makeVar("xi");
  Expr x = xo * 8 + xi;
  Stmt s = For::make(xo, 0, 4, ForKind::Serial,
                     For::make(xi, 0, 8, ForKind::Vectorized,
                               IfThenElse::make(x < Expr(30), Store::make(a, x, floatImm(1.0)))));
  const std::string ir = partitioned(s);
  // Three whole tiles without a test, then the last tile's 6 columns; the 2 columns past
  // the end are decided false and vanish.
  EXPECT_EQ(count(ir, "if ("), 0) << ir;
  EXPECT_NE(ir.find("for (xo, 0, 3)"), std::string::npos) << ir;
  EXPECT_NE(ir.find("vectorized for (xi, 0, 8)"), std::string::npos) << ir;
  EXPECT_NE(ir.find("vectorized for (xi, 0, 6)"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("xi, 6"), std::string::npos) << ir;
}

TEST(LoopPartition, PaddedReadLosesItsSelectAndClamps) {
  // b[j] = select(j - 1 >= 0 && j - 1 < 56, a[min(max(j - 1, 0), 55)], 0) for j in [0, 58)
  Buffer a = makeBuffer("a", DType::F32, 56), b = makeBuffer("b", DType::F32, 58);
  Var j = makeVar("j");
  Expr i = j - 1;
  Expr v = select(i >= Expr(0) && i < Expr(56), Load::make(a, min(max(i, Expr(0)), Expr(55))),
                  floatImm(0.0));
  const std::string ir =
      partitioned(For::make(j, 0, 58, ForKind::Vectorized, Store::make(b, j, v)));
  // Prologue j = 0 and epilogue j = 57 store the padding; the main part copies.
  EXPECT_NE(ir.find("b[0] = 0f"), std::string::npos) << ir;
  EXPECT_NE(ir.find("b[57] = 0f"), std::string::npos) << ir;
  EXPECT_NE(ir.find("vectorized for (j, 1, 56)"), std::string::npos) << ir;
  EXPECT_NE(ir.find("b[j] = a[(j - 1)]"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("select"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("min("), std::string::npos) << ir;
}

TEST(LoopPartition, LeavesConditionsItCannotBoundAlone) {
  // A condition not affine in the loop variable, and one on a variable of unknown range.
  Buffer a = makeBuffer("a", DType::F32, 64);
  Var x = makeVar("x"), n = makeVar("n");
  Stmt body = Seq::make({IfThenElse::make(x % 3 < Expr(1), Store::make(a, x, floatImm(1.0))),
                         IfThenElse::make(x < n, Store::make(a, x, floatImm(2.0)))});
  Stmt s = For::make(x, 0, 64, ForKind::Serial, body);
  const std::string ir = partitioned(s);
  EXPECT_EQ(count(ir, "for (x"), 1) << ir;
  EXPECT_EQ(count(ir, "if ("), 2) << ir;
}

std::string vectorized(const Stmt& s, int bytes = 64) {
  return tir::printStmt(tir::vectorizeLoops(s, bytes));
}

TEST(Vectorize, ShortRowIsOneVectorStatement) {
  Buffer a = makeBuffer("a", DType::F32, 16), b = makeBuffer("b", DType::F32, 16);
  Var i = makeVar("i");
  Stmt s = For::make(i, 0, 14, ForKind::Vectorized,
                     Store::make(b, i, Load::make(a, i) * floatImm(2.0) + floatImm(1.0)));
  const std::string ir = vectorized(s);
  EXPECT_EQ(ir, "b[ramp(0, 1, 14)] = ((a[ramp(0, 1, 14)] * x14(2f)) + x14(1f))\n");
  // No vector width (a target without vector IR): unchanged.
  EXPECT_TRUE(tir::vectorizeLoops(s, 0).same(s));
}

TEST(Vectorize, LongRowsAreWholeRegistersThenAPartialOne) {
  Buffer a = makeBuffer("a", DType::F32, 100), b = makeBuffer("b", DType::F32, 100);
  Var i = makeVar("i");
  auto loop = [&](int64_t extent) {
    return For::make(i, 0, extent, ForKind::Vectorized, Store::make(b, i, Load::make(a, i)));
  };
  // 40 floats with AVX-512: 16 + 16 + 8 lanes, unrolled.
  std::string ir = vectorized(loop(40));
  EXPECT_EQ(count(ir, ", 1, 16)]"), 4) << ir;  // two statements, a load and a store each
  EXPECT_NE(ir.find("b[ramp(32, 1, 8)]"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("for"), std::string::npos) << ir;
  // 100 floats with AVX2 (8 lanes): a loop of 12 whole registers and a 4-lane remainder.
  ir = vectorized(loop(100), 32);
  EXPECT_NE(ir.find("for (i.v, 0, 12)"), std::string::npos) << ir;
  EXPECT_NE(ir.find("b[ramp((i.v * 8), 1, 8)]"), std::string::npos) << ir;
  EXPECT_NE(ir.find("b[ramp(96, 1, 4)]"), std::string::npos) << ir;
  // NEON (16 bytes) on int8 data: 16 lanes per register.
  Buffer c = makeBuffer("c", DType::I8, 16), d = makeBuffer("d", DType::I8, 16);
  ir =
      vectorized(For::make(i, 0, 16, ForKind::Vectorized, Store::make(d, i, Load::make(c, i))), 16);
  EXPECT_EQ(ir, "d[ramp(0, 1, 16)] = c[ramp(0, 1, 16)]\n");
}

TEST(Vectorize, IndexArithmeticKeepsRampsWhole) {
  // a[2 * i + 1] (stride 2) and b[r * 10 + i] with r an outer variable (stride 1).
  Buffer a = makeBuffer("a", DType::F32, 64), b = makeBuffer("b", DType::F32, 160);
  Var i = makeVar("i"), r = makeVar("r");
  Stmt s =
      For::make(i, 0, 8, ForKind::Vectorized, Store::make(b, r * 10 + i, Load::make(a, i * 2 + 1)));
  EXPECT_EQ(vectorized(s), "b[ramp((r * 10), 1, 8)] = a[ramp(1, 2, 8)]\n");
}

TEST(Vectorize, LeavesLoopsWhoseLanesDependOnEachOther) {
  Buffer a = makeBuffer("a", DType::F32, 64), s1 = makeBuffer("s", DType::F32, 1);
  Var i = makeVar("i");
  // A sum over the loop: every lane would update the same element.
  Stmt sum = For::make(i, 0, 16, ForKind::Vectorized,
                       Store::make(s1, 0, Load::make(s1, 0) + Load::make(a, i)));
  EXPECT_NE(vectorized(sum).find("vectorized for (i, 0, 16)"), std::string::npos);
  // A recurrence: lane i reads what lane i - 1 writes.
  Stmt scan = For::make(i, 1, 16, ForKind::Vectorized,
                        Store::make(a, i, Load::make(a, i - 1) + floatImm(1.0)));
  EXPECT_NE(vectorized(scan).find("vectorized for (i, 1, 16)"), std::string::npos);
  // An in-place update of the element itself is fine.
  Stmt inPlace =
      For::make(i, 0, 16, ForKind::Vectorized, Store::make(a, i, Load::make(a, i) * floatImm(3)));
  EXPECT_EQ(vectorized(inPlace).find("for"), std::string::npos);
}

TEST(Vectorize, JitRunsVectorStatementsLikeTheScalarLoop) {
  // out[i] = select(in[2i] > 0, in[2i], exp(in[(i * 5) % 37])) + in[i] for i in [0, 37):
  // a strided load, a gather, a per-lane select and a vectorized intrinsic, over 16 + 16 + 5
  // lanes, against the same loop left scalar.
  const int64_t n = 37;
  Buffer in = makeBuffer("in", DType::F32, 2 * n), out = makeBuffer("out", DType::F32, n);
  Var i = makeVar("i");
  Expr x2 = Load::make(in, i * 2);
  Expr v = select(x2 > floatImm(0.0), x2, call("exp", {Load::make(in, (i * 5) % Expr(n))})) +
           Load::make(in, i);
  Stmt loop = For::make(i, 0, n, ForKind::Vectorized, Store::make(out, i, v));
  Stmt vec = tir::vectorizeLoops(loop, 64);
  ASSERT_EQ(tir::printStmt(vec).find("for"), std::string::npos) << tir::printStmt(vec);
  std::vector<float> input(static_cast<size_t>(2 * n));
  for (size_t k = 0; k < input.size(); ++k) input[k] = static_cast<float>(k % 7) - 3.0f;
  auto run = [&](const Stmt& body, const std::string& name) {
    auto jit = codegen::LLVMJit::compile({tir::Kernel{name, {in, out}, body}});
    std::vector<float> result(static_cast<size_t>(n), -1.0f), copy = input;
    void* args[] = {copy.data(), result.data()};
    jit->lookup(name)(args);
    return result;
  };
  std::vector<float> want = run(For::make(i, 0, n, ForKind::Serial, Store::make(out, i, v)), "s");
  std::vector<float> got = run(vec, "v");
  for (size_t k = 0; k < want.size(); ++k) EXPECT_FLOAT_EQ(got[k], want[k]) << "element " << k;
}

}  // namespace
}  // namespace kiln
