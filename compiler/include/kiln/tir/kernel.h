// A lowered kernel: a name, the flat buffers it takes (inputs then outputs, in the order
// the caller passes their pointers) and its body in loop IR. What code generators compile.
#pragma once

#include <string>
#include <vector>

#include "kiln/tir/stmt.h"

namespace kiln::tir {

struct Kernel {
  std::string name;
  std::vector<Buffer> params;
  Stmt body;
};

}  // namespace kiln::tir
