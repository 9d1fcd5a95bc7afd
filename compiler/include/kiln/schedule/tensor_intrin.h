// A tensor intrinsic: a fixed-size computation a target does in one step (the accelerator's
// GEMM over one BATCH x BLOCK_IN x BLOCK_OUT block, an ALU operation over one accumulator
// tile), declared with its own tensor-expression definition.
//
// Stage::tensorize(loop, intrin) replaces the loops from `loop` inwards by one call of the
// intrinsic. Lowering checks that the replaced nest computes what the definition computes:
// the same loop extents (its spatial axes, then its reduce axes), the same expression tree
// (operators, casts, constants, reduction), and reads whose indices move with the loops
// exactly as the definition's do. The call's arguments are the output's and each input's
// element at the start of the region (a TensorRead with the tensorized loop variables at 0;
// after storage flattening, a Load whose index is that element's offset), in the order of
// the definition's inputs, followed by `scalars`.
#pragma once

#include <string>
#include <vector>

#include "kiln/te/tensor.h"

namespace kiln::schedule {

struct TensorIntrin {
  std::string name;               // the call the tensorized loops become ("accel.gemm")
  te::Tensor definition;          // a compute over placeholders: what one call computes
  std::string resetName;          // for a reduction: the call its initialization becomes
  std::vector<te::Expr> scalars;  // immediate operands appended to the call
};

}  // namespace kiln::schedule
