// Integer expressions in the accelerator spec: field widths, derived values and the rules a
// config must satisfy are written as text in hw/spec/accel.yaml and evaluated per config.
//
// Grammar (C precedence): numbers (decimal, 0x hex), names, + - * / %, < <= > >= == !=,
// && ||, unary - and !, parentheses, and the functions clog2(x), max(a, ...), min(a, ...),
// is_pow2(x), bram36(width_bits, depth) and uram288(width_bits, depth).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::accel {

class Expr {
 public:
  // Resolves a name to its value; nullopt if the name is unknown.
  using Lookup = std::function<std::optional<int64_t>(std::string_view)>;

  Expr() = default;
  // Throws kiln::Error naming the position of a syntax error.
  static Expr parse(std::string_view text);

  // Throws kiln::Error for an unknown name, a division by zero or a bad function argument.
  int64_t eval(const Lookup& lookup) const;
  // The names the expression refers to (not the functions), in order of first use.
  std::vector<std::string> names() const;
  const std::string& text() const { return text_; }
  bool empty() const { return root_ == nullptr; }

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
  std::string text_;
};

// ceil(log2(x)) for x >= 1.
int clog2(int64_t x);
// 36-Kbit block RAMs (RAMB36, 32 Kbit of data) a memory of depth entries of width_bits needs,
// in the best of the aspect ratios 32Kx1 .. 512x64.
int64_t bram36Blocks(int64_t width_bits, int64_t depth);
// UltraRAMs (URAM288: 4096 x 72 bits, one aspect ratio) a memory of depth entries of width_bits
// needs.
int64_t uram288Blocks(int64_t width_bits, int64_t depth);

}  // namespace kiln::accel
