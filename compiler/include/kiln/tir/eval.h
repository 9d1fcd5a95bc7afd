// Evaluating integer index expressions at compile time, with every variable bound to a
// value: how tensorize checks that a loop nest moves through memory as an intrinsic's
// definition does, and how the accelerator's code generator turns loop nests into the
// strides and bases of its instructions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "kiln/te/expr.h"

namespace kiln::tir {

using VarValues = std::map<const te::ExprNode*, int64_t>;

// The value of an integer or boolean expression (comparisons give 0 or 1); nullopt when it
// reads memory, calls a function, or uses a variable not in `values` (unbound variables
// count as 0 when `unboundIsZero`). Div and Mod floor, as the IR defines them.
std::optional<int64_t> evalInt(const te::Expr& e, const VarValues& values,
                               bool unboundIsZero = false);

}  // namespace kiln::tir
