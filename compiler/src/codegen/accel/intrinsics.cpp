// The accelerator's tensor intrinsics (see intrinsics.h): definitions over one entry of
// its buffers, sized by the config.
#include "intrinsics.h"

namespace kiln::codegen::accel_target {

using namespace te;  // NOLINT
using schedule::TensorIntrin;

namespace {
Shape accTile(const accel::Params& p) {
  return {p.batch, p.block_out};
}
}  // namespace

TensorIntrin gemmIntrin(const accel::Params& p) {
  Tensor x = placeholder("x", DType::I8, {p.batch, p.block_in});
  Tensor w = placeholder("w", DType::I8, {p.block_out, p.block_in});
  IterVar i = makeAxis("i", p.block_in);
  Tensor out = compute("gemm", accTile(p), [&](const Indices& o) {
    return sum(cast(DType::I32, read(x, {o[0], i.var})) * cast(DType::I32, read(w, {o[1], i.var})),
               {i});
  });
  return {"accel.gemm", out, "accel.gemm.reset", {}};
}

TensorIntrin aluAddIntrin(const accel::Params& p) {
  Tensor x = placeholder("x", DType::I32, accTile(p));
  Tensor y = placeholder("y", DType::I32, accTile(p));
  Tensor out =
      compute("add", accTile(p), [&](const Indices& o) { return read(x, o) + read(y, o); });
  return {"accel.alu.add", out, "", {}};
}

TensorIntrin aluMulIntrin(const accel::Params& p, DType xt, int64_t imm) {
  Tensor x = placeholder("x", xt, accTile(p));
  Tensor out = compute("mul", accTile(p), [&](const Indices& o) {
    Expr v = read(x, o);
    if (xt != DType::I32) v = cast(DType::I32, v);
    return v * intImm(imm, DType::I32);
  });
  return {"accel.alu.mul", out, "", {intImm(imm, DType::I32)}};
}

TensorIntrin aluRequantIntrin(const accel::Params& p) {
  Tensor x = placeholder("x", DType::I32, accTile(p));
  Tensor m = placeholder("m", DType::I32, accTile(p));
  Tensor s = placeholder("s", DType::I32, accTile(p));
  Tensor out = compute("requant", accTile(p), [&](const Indices& o) {
    return call("requantize", {read(x, o), read(m, o), read(s, o)});
  });
  return {"accel.alu.requantize", out, "", {}};
}

TensorIntrin aluRequantImmIntrin(const accel::Params& p, int64_t shift) {
  Tensor x = placeholder("x", DType::I32, accTile(p));
  Tensor m = placeholder("m", DType::I32, accTile(p));
  Tensor out = compute("requant", accTile(p), [&](const Indices& o) {
    return call("requantize", {read(x, o), read(m, o), intImm(shift, DType::I32)});
  });
  return {"accel.alu.requantize_imm", out, "", {intImm(shift, DType::I32)}};
}

TensorIntrin aluMulAddIntrin(const accel::Params& p, DType yt, int64_t imm) {
  Tensor x = placeholder("x", DType::I32, accTile(p));
  Tensor y = placeholder("y", yt, accTile(p));
  Tensor out = compute("muladd", accTile(p), [&](const Indices& o) {
    Expr v = read(y, o);
    if (yt != DType::I32) v = cast(DType::I32, v);
    return read(x, o) + v * intImm(imm, DType::I32);
  });
  return {"accel.alu.muladd", out, "", {intImm(imm, DType::I32)}};
}

TensorIntrin aluMaxIntrin(const accel::Params& p, int64_t imm) {
  Tensor x = placeholder("x", DType::I32, accTile(p));
  Tensor out = compute("max", accTile(p),
                       [&](const Indices& o) { return max(read(x, o), intImm(imm, DType::I32)); });
  return {"accel.alu.max", out, "", {intImm(imm, DType::I32)}};
}

TensorIntrin aluMinIntrin(const accel::Params& p, int64_t imm) {
  Tensor x = placeholder("x", DType::I32, accTile(p));
  Tensor out = compute("min", accTile(p),
                       [&](const Indices& o) { return min(read(x, o), intImm(imm, DType::I32)); });
  return {"accel.alu.min", out, "", {intImm(imm, DType::I32)}};
}

TensorIntrin aluMacIntrin(const accel::Params& p) {
  Tensor x = placeholder("x", DType::I8, accTile(p));
  Tensor w = placeholder("w", DType::I8, accTile(p));
  // A reduction update with no axes of its own: the taps are the loops around it.
  Tensor out = compute("mac", accTile(p), [&](const Indices& o) {
    return Expr(std::make_shared<Reduce>(
        ReduceKind::Sum, cast(DType::I32, read(x, o)) * cast(DType::I32, read(w, o)),
        std::vector<IterVar>{}));
  });
  return {"accel.alu.mac", out, "accel.gemm.reset", {}};
}

namespace {
// A reduction update with no axes of its own over one int8 tile (the window's taps are the
// loops around it).
TensorIntrin accumulate(const accel::Params& p, ReduceKind kind, const char* name,
                        const char* reset) {
  Tensor x = placeholder("x", DType::I8, accTile(p));
  Tensor out = compute(name, accTile(p), [&](const Indices& o) {
    return Expr(
        std::make_shared<Reduce>(kind, cast(DType::I32, read(x, o)), std::vector<IterVar>{}));
  });
  return {name, out, reset, {}};
}
}  // namespace

TensorIntrin aluSumIntrin(const accel::Params& p) {
  return accumulate(p, ReduceKind::Sum, "accel.alu.sum", "accel.gemm.reset");
}

TensorIntrin aluMaxAccIntrin(const accel::Params& p) {
  return accumulate(p, ReduceKind::Max, "accel.alu.maxacc", "accel.alu.max.reset");
}

}  // namespace kiln::codegen::accel_target
