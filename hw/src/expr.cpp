// The spec's expression language: a recursive-descent parser into a small tree, and its
// evaluation against a config's parameter values.
#include "kiln/accel/expr.h"

#include <algorithm>
#include <cctype>

#include "kiln/runtime/error.h"

namespace kiln::accel {

struct Expr::Node {
  enum Kind { kNumber, kName, kUnary, kBinary, kCall } kind;
  int64_t number = 0;
  std::string text;  // name, operator or function
  std::vector<std::shared_ptr<const Node>> args;
};

namespace {

using NodePtr = std::shared_ptr<const Expr::Node>;

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  NodePtr parseAll() {
    NodePtr n = parseBinary(0);
    skipSpace();
    if (pos_ != s_.size()) fail("unexpected '" + std::string(1, s_[pos_]) + "'");
    return n;
  }

 private:
  // Binary operators from loosest to tightest binding.
  static int precedence(std::string_view op) {
    static const std::pair<std::string_view, int> kTable[] = {
        {"||", 1}, {"&&", 2}, {"==", 3}, {"!=", 3}, {"<", 4}, {"<=", 4}, {">", 4},
        {">=", 4}, {"+", 5},  {"-", 5},  {"*", 6},  {"/", 6}, {"%", 6}};
    for (auto& [name, p] : kTable)
      if (name == op) return p;
    return 0;
  }

  std::string peekOperator() {
    skipSpace();
    for (std::string_view op :
         {"||", "&&", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%"})
      if (s_.substr(pos_, op.size()) == op) return std::string(op);
    return "";
  }

  NodePtr parseBinary(int min_prec) {
    NodePtr lhs = parseUnary();
    for (;;) {
      std::string op = peekOperator();
      int prec = op.empty() ? 0 : precedence(op);
      if (prec == 0 || prec <= min_prec) return lhs;
      pos_ += op.size();
      NodePtr rhs = parseBinary(prec);
      lhs = make(Expr::Node::kBinary, op, {lhs, rhs});
    }
  }

  NodePtr parseUnary() {
    skipSpace();
    if (pos_ < s_.size() && (s_[pos_] == '-' || s_[pos_] == '!')) {
      std::string op(1, s_[pos_++]);
      return make(Expr::Node::kUnary, op, {parseUnary()});
    }
    return parsePrimary();
  }

  NodePtr parsePrimary() {
    skipSpace();
    if (pos_ >= s_.size()) fail("expression ends early");
    char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      NodePtr n = parseBinary(0);
      expect(')');
      return n;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) return parseNumber();
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = pos_;
      while (pos_ < s_.size() &&
             (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
        ++pos_;
      std::string name(s_.substr(start, pos_ - start));
      skipSpace();
      if (pos_ < s_.size() && s_[pos_] == '(') {
        ++pos_;
        std::vector<NodePtr> args;
        skipSpace();
        if (pos_ < s_.size() && s_[pos_] == ')') {
          ++pos_;
        } else {
          for (;;) {
            args.push_back(parseBinary(0));
            skipSpace();
            if (pos_ < s_.size() && s_[pos_] == ',') {
              ++pos_;
              continue;
            }
            expect(')');
            break;
          }
        }
        checkArity(name, args.size());
        return make(Expr::Node::kCall, name, std::move(args));
      }
      auto n = std::make_shared<Expr::Node>();
      n->kind = Expr::Node::kName;
      n->text = std::move(name);
      return n;
    }
    fail("unexpected '" + std::string(1, c) + "'");
  }

  NodePtr parseNumber() {
    size_t start = pos_;
    int base = 10;
    if (s_.substr(pos_, 2) == "0x" || s_.substr(pos_, 2) == "0X") {
      base = 16;
      pos_ += 2;
    }
    int64_t v = 0;
    size_t digits = 0;
    while (pos_ < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[pos_]))) {
      char d = s_[pos_];
      int digit = std::isdigit(static_cast<unsigned char>(d))
                      ? d - '0'
                      : std::tolower(static_cast<unsigned char>(d)) - 'a' + 10;
      if (digit >= base) break;
      if (v > (INT64_MAX - digit) / base) {
        pos_ = start;
        fail("number too large");
      }
      v = v * base + digit;
      ++pos_;
      ++digits;
    }
    if (digits == 0) fail("malformed number");
    auto n = std::make_shared<Expr::Node>();
    n->kind = Expr::Node::kNumber;
    n->number = v;
    return n;
  }

  void checkArity(const std::string& fn, size_t n) {
    if (fn == "clog2" || fn == "is_pow2") {
      if (n != 1) fail(fn + "() takes one argument");
    } else if (fn == "bram36" || fn == "uram288") {
      if (n != 2) fail(fn + "() takes two arguments (width_bits, depth)");
    } else if (fn == "max" || fn == "min") {
      if (n == 0) fail(fn + "() takes at least one argument");
    } else {
      fail("unknown function '" + fn + "'");
    }
  }

  static NodePtr make(Expr::Node::Kind kind, std::string text, std::vector<NodePtr> args) {
    auto n = std::make_shared<Expr::Node>();
    n->kind = kind;
    n->text = std::move(text);
    n->args = std::move(args);
    return n;
  }

  void skipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void expect(char c) {
    skipSpace();
    if (pos_ >= s_.size() || s_[pos_] != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  [[noreturn]] void fail(const std::string& what) {
    throw Error("expression '" + std::string(s_) + "': " + what + " at column " +
                std::to_string(pos_ + 1));
  }

  std::string_view s_;
  size_t pos_ = 0;
};

int64_t evalNode(const Expr::Node& n, const Expr::Lookup& lookup, const std::string& text) {
  auto fail = [&](const std::string& what) -> int64_t {
    throw Error("expression '" + text + "': " + what);
  };
  switch (n.kind) {
    case Expr::Node::kNumber:
      return n.number;
    case Expr::Node::kName: {
      std::optional<int64_t> v = lookup(n.text);
      if (!v) fail("unknown name '" + n.text + "'");
      return *v;
    }
    case Expr::Node::kUnary: {
      int64_t a = evalNode(*n.args[0], lookup, text);
      return n.text == "-" ? -a : static_cast<int64_t>(!a);
    }
    case Expr::Node::kBinary: {
      const std::string& op = n.text;
      int64_t a = evalNode(*n.args[0], lookup, text);
      if (op == "&&" && !a) return 0;
      if (op == "||" && a) return 1;
      int64_t b = evalNode(*n.args[1], lookup, text);
      if (op == "+") return a + b;
      if (op == "-") return a - b;
      if (op == "*") return a * b;
      if (op == "/" || op == "%") {
        if (b == 0) fail("division by zero");
        return op == "/" ? a / b : a % b;
      }
      if (op == "<") return a < b;
      if (op == "<=") return a <= b;
      if (op == ">") return a > b;
      if (op == ">=") return a >= b;
      if (op == "==") return a == b;
      if (op == "!=") return a != b;
      return b != 0;  // && and || after short-circuiting
    }
    case Expr::Node::kCall: {
      std::vector<int64_t> v;
      for (auto& a : n.args) v.push_back(evalNode(*a, lookup, text));
      if (n.text == "max") return *std::max_element(v.begin(), v.end());
      if (n.text == "min") return *std::min_element(v.begin(), v.end());
      if (n.text == "is_pow2") return v[0] > 0 && (v[0] & (v[0] - 1)) == 0;
      if (n.text == "clog2") {
        if (v[0] < 1) fail("clog2 of " + std::to_string(v[0]));
        return clog2(v[0]);
      }
      if (v[0] < 0 || v[1] < 0) fail(n.text + " of a negative size");
      return n.text == "bram36" ? bram36Blocks(v[0], v[1]) : uram288Blocks(v[0], v[1]);
    }
  }
  return 0;
}

void collectNames(const Expr::Node& n, std::vector<std::string>& out) {
  if (n.kind == Expr::Node::kName && std::find(out.begin(), out.end(), n.text) == out.end())
    out.push_back(n.text);
  for (auto& a : n.args) collectNames(*a, out);
}

}  // namespace

Expr Expr::parse(std::string_view text) {
  Expr e;
  e.text_ = std::string(text);
  e.root_ = Parser(text).parseAll();
  return e;
}

int64_t Expr::eval(const Lookup& lookup) const {
  if (!root_) throw Error("empty expression");
  return evalNode(*root_, lookup, text_);
}

std::vector<std::string> Expr::names() const {
  std::vector<std::string> out;
  if (root_) collectNames(*root_, out);
  return out;
}

int clog2(int64_t x) {
  int bits = 0;
  while ((int64_t{1} << bits) < x) ++bits;
  return bits;
}

int64_t bram36Blocks(int64_t width_bits, int64_t depth) {
  if (width_bits == 0 || depth == 0) return 0;
  int64_t best = INT64_MAX;
  for (int64_t width = 1, rows = 32768; width <= 64; width *= 2, rows /= 2) {
    int64_t blocks = ((depth + rows - 1) / rows) * ((width_bits + width - 1) / width);
    best = std::min(best, blocks);
  }
  return best;
}

int64_t uram288Blocks(int64_t width_bits, int64_t depth) {
  return ((width_bits + 71) / 72) * ((depth + 4095) / 4096);
}

}  // namespace kiln::accel
