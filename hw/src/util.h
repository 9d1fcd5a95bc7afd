// Small string helpers shared by the library's messages and generators.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::accel {

// "0x1f" (lower case, no padding), or padded to `digits` hex digits.
std::string hex(uint64_t v, int digits = 0);
// Items joined with a separator.
std::string join(const std::vector<std::string>& items, const std::string& sep);

}  // namespace kiln::accel
