// Shape values as uniforms: the fragment shaders of one package that differ only in integer
// literals become one shader reading those literals from a uniform int array, kiln_u, set per
// pass. Layers of one kind (the 3x3 convolutions of every stage of a ResNet, the expansions of
// every MobileNet block) then link one program instead of one per shape, and a browser, which
// compiles each program at its first draw (10-50 ms each on SwiftShader), loads faster.
//
// It works on the generated sources, after code generation, because that is where the per-pass
// integers are final (the generator folds, hoists and specialises on the shapes first): each
// source is read as tokens, and every decimal int literal is either a slot (it may differ
// between the shaders of a group, and is a uniform where it does) or part of the group's key
// (it must be the same in all of them). Array sizes and constant indices stay in the key (a
// local array indexed by literals is registers, and GLSL wants its size constant); so do float
// literals. Everything else may be a uniform: texture widths and the masks and shifts of the
// texel addressing, element counts, strides and offsets of index arithmetic, divisors, and the
// bounds of the loops left in a shader. Chosen by measurement on SwiftShader (docs/webgl.md,
// "Shape values as uniforms"): Kiln's loop IR already unrolls what pays (window taps, the four
// lanes), so the loops left are reductions over channel blocks, whose bound costs the same as
// a uniform; the divisions on the fragment's position are hoisted to the top of the shader,
// once per fragment. A slot whose value is the same in every shader of a group stays a
// literal, so a shader no other one resembles is left exactly as generated.
#include "kiln/codegen/glsl_uniforms.h"

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string_view>

namespace kiln::codegen {

namespace {

// A source as its key (the text with every slot literal replaced by '\1', and the generator's
// "// Kiln: writes ..." line left out) and its slot values in order.
struct Parsed {
  std::string key;
  std::vector<int64_t> values;
  // The text between slots: pieces[i] precedes slot i; pieces.back() ends the source.
  std::vector<std::string> pieces;
};

bool identChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

Parsed parse(const std::string& s) {
  Parsed p;
  p.pieces.emplace_back();
  std::string prev;  // the previous operator or identifier token
  auto text = [&](std::string_view t, bool inKey = true) {
    p.pieces.back() += t;
    if (inKey) p.key += t;
  };
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if ((c == '#' && (i == 0 || s[i - 1] == '\n')) ||
        (c == '/' && i + 1 < s.size() && s[i + 1] == '/')) {
      size_t e = s.find('\n', i);
      e = e == std::string::npos ? s.size() : e + 1;
      const std::string_view line(s.data() + i, e - i);
      text(line, line.rfind("// Kiln: writes", 0) != 0);
      i = e;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t e = i;
      const bool hex = s.compare(i, 2, "0x") == 0;
      while (e < s.size() &&
             (identChar(s[e]) || s[e] == '.' ||
              (!hex && (s[e] == '+' || s[e] == '-') && (s[e - 1] == 'e' || s[e - 1] == 'E'))))
        ++e;
      bool plain = true;
      for (size_t j = i; j < e; ++j)
        plain = plain && std::isdigit(static_cast<unsigned char>(s[j]));
      const std::string tok = s.substr(i, e - i);
      const bool fixed = !plain || prev == "[" || tok.size() > 9;
      if (fixed) {
        text(tok);
      } else {
        p.values.push_back(std::strtoll(tok.c_str(), nullptr, 10));
        p.key += '\1';
        p.pieces.emplace_back();
      }
      prev = tok;
      i = e;
      continue;
    }
    if (identChar(c)) {
      size_t e = i;
      while (e < s.size() && identChar(s[e])) ++e;
      prev = s.substr(i, e - i);
      text(prev);
      i = e;
      continue;
    }
    if (!std::isspace(static_cast<unsigned char>(c))) prev = std::string(1, c);
    text(std::string_view(&s[i], 1));
    ++i;
  }
  return p;
}

// At most this many distinct per-pass integers in one shared shader: WebGL2 promises 224
// uniform vectors to a fragment shader, and an int array element may take one each.
constexpr size_t kMaxSlots = 128;

}  // namespace

std::vector<GLShaderUse> shareShapeUniforms(const std::vector<std::string>& sources) {
  std::vector<Parsed> parsed;
  parsed.reserve(sources.size());
  std::map<std::string, std::vector<size_t>> groups;  // key -> passes, in order
  for (size_t i = 0; i < sources.size(); ++i) {
    parsed.push_back(parse(sources[i]));
    groups[parsed.back().key].push_back(i);
  }
  std::vector<GLShaderUse> out(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) out[i].source = sources[i];
  for (const auto& [key, members] : groups) {
    const Parsed& first = parsed[members[0]];
    // A slot whose value is the same in every member stays a literal; the others become
    // uniforms, one per distinct column of values (a width used twice is one uniform).
    std::map<std::vector<int64_t>, size_t> slotOf;
    std::vector<std::string> literal(first.values.size());
    bool fits = true;
    for (size_t k = 0; k < first.values.size(); ++k) {
      std::vector<int64_t> column;
      for (size_t m : members) column.push_back(parsed[m].values[k]);
      bool same = true;
      for (int64_t v : column) same = same && v == column[0];
      if (same) {
        literal[k] = std::to_string(column[0]);
        continue;
      }
      auto [it, fresh] = slotOf.try_emplace(column, slotOf.size());
      literal[k] = std::string(kGLShapeUniform) + "[" + std::to_string(it->second) + "]";
      if (!fresh) continue;
      for (int64_t v : column) fits = fits && v >= INT32_MIN && v <= INT32_MAX;
    }
    if (slotOf.empty() || slotOf.size() > kMaxSlots || !fits) continue;  // stays as it was
    std::string src;
    for (size_t k = 0; k < first.values.size(); ++k) src += first.pieces[k] + literal[k];
    src += first.pieces.back();
    // The generator's comment names one layer's size; the shared shader says what it is.
    const std::string shared = "// Kiln: shared by " + std::to_string(members.size()) +
                               " passes; the integers that differ between them are " +
                               kGLShapeUniform + "\n";
    if (const size_t c = src.find("// Kiln: writes"); c != std::string::npos) {
      src.replace(c, src.find('\n', c) + 1 - c, shared);
    } else {
      src.insert(src.find('\n') + 1, shared);
    }
    const std::string decl = "uniform highp int " + std::string(kGLShapeUniform) + "[" +
                             std::to_string(slotOf.size()) + "];\n";
    const std::string after = "precision highp sampler2D;\n";
    const size_t at = src.find(after);
    src.insert(at == std::string::npos ? src.find('\n') + 1 : at + after.size(), decl);
    for (size_t pos = 0; pos < members.size(); ++pos) {
      GLShaderUse& use = out[members[pos]];
      use.source = src;
      use.uniforms.assign(slotOf.size(), 0);
      for (const auto& [column, slot] : slotOf) use.uniforms[slot] = int32_t(column[pos]);
    }
  }
  return out;
}

}  // namespace kiln::codegen
