// Reading and writing NumPy .npy files (format 1.0/2.0/3.0, C order, little endian).
#pragma once

#include <string>

#include "kiln/runtime/ndarray.h"

namespace kiln {

// Throws kiln::Error saying what is wrong with the file (missing, not .npy, Fortran order,
// unsupported element type, truncated data).
NDArray readNpy(const std::string& path);
void writeNpy(const std::string& path, const NDArray& array);

}  // namespace kiln
