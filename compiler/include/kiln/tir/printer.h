// A readable text form of expressions, statements and kernels: what `--dump-ir` and the
// lowering log print, so a wrong result is bisected by reading the IR after each pass.
#pragma once

#include <string>

#include "kiln/tir/kernel.h"

namespace kiln::tir {

std::string printExpr(const Expr& e);
std::string printStmt(const Stmt& s);
std::string printKernel(const Kernel& k);

}  // namespace kiln::tir
