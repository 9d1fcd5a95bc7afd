// The accelerator's tensor intrinsics for one config, each declared by its own tensor
// expression over one buffer entry (so tensorize can check a loop nest against it), and
// the memory scopes of its buffers.
//
//   accel.gemm     out[b, o] += sum_i int32(x[b, i]) * int32(w[o, i])   (reset: accel.gemm.reset)
//   accel.alu.add  out = x + y                    ALU ADD, y from a tile
//   accel.alu.mul  out = int32(x) * imm           ALU MUL with an immediate (x int8 or int32)
//   accel.alu.requantize  out = requantize(x, m, s)  ALU REQUANT, m and s from tiles
//   accel.alu.requantize_imm  out = requantize(x, m, imm)  ALU REQUANT, one shift (use_imm)
//   accel.alu.muladd  out = x + int32(y) * imm     ALU MAC with an immediate (y int8 or int32)
//   accel.alu.max / accel.alu.min  out = max / min(x, imm)
//   accel.alu.mac  out += int32(x) * int32(w)     ALU MAC (depthwise; reset: accel.gemm.reset)
//   accel.alu.sum  out += int32(x)                ALU ADD, x from a tile (average pooling;
//                                                 reset: accel.gemm.reset)
//   accel.alu.maxacc  out = max(out, int32(x))    ALU MAX, x from a tile (max pooling; reset:
//                                                 accel.alu.max.reset, max's identity INT32_MIN)
// The ALU works in place: the code generator gives `out` the storage of `x`.
#pragma once

#include "kiln/accel/config.h"
#include "kiln/schedule/tensor_intrin.h"

namespace kiln::codegen::accel_target {

inline const char* kScopeInp = "accel.inp";
inline const char* kScopeWgt = "accel.wgt";
inline const char* kScopeAcc = "accel.acc";

schedule::TensorIntrin gemmIntrin(const accel::Params& p);
schedule::TensorIntrin aluAddIntrin(const accel::Params& p);
schedule::TensorIntrin aluMulIntrin(const accel::Params& p, DType x, int64_t imm);
schedule::TensorIntrin aluRequantIntrin(const accel::Params& p);
schedule::TensorIntrin aluRequantImmIntrin(const accel::Params& p, int64_t shift);
schedule::TensorIntrin aluMulAddIntrin(const accel::Params& p, DType y, int64_t imm);
schedule::TensorIntrin aluMaxIntrin(const accel::Params& p, int64_t imm);
schedule::TensorIntrin aluMinIntrin(const accel::Params& p, int64_t imm);
schedule::TensorIntrin aluMacIntrin(const accel::Params& p);
schedule::TensorIntrin aluSumIntrin(const accel::Params& p);
schedule::TensorIntrin aluMaxAccIntrin(const accel::Params& p);

}  // namespace kiln::codegen::accel_target
