// Assembler and disassembler for the text form of instruction streams. Both walk the
// fields of the opcode's format from the config's Layout, so the text form follows the
// spec like the binary one does.
#include "kiln/accel/assembler.h"

#include <charconv>
#include <set>
#include <sstream>

#include "names.h"
#include "util.h"

namespace kiln::accel {

namespace {

bool isFlag(const Field& f) {
  auto id = static_cast<InsnField>(f.id);
  return f.width == 1 && !f.is_signed && id != InsnField::kOpcode && id != InsnField::kMemoryType &&
         id != InsnField::kAluOp;
}

std::optional<int64_t> parseNumber(std::string_view s) {
  bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() ||
      v > static_cast<uint64_t>(INT64_MAX))
    return std::nullopt;
  return negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
}

std::vector<std::string> fieldNames(const Format& format) {
  std::vector<std::string> names;
  for (const Field& f : format.fields)
    if (f.id != static_cast<int>(InsnField::kOpcode)) names.push_back(f.name);
  return names;
}

Insn parseLine(std::string_view line, const Layout& layout) {
  std::istringstream words{std::string(line)};
  std::string mnemonic;
  words >> mnemonic;
  std::optional<Opcode> op = names::lookup<Opcode>(names::kOpcodes, mnemonic);
  if (!op) {
    std::vector<std::string> known(names::kOpcodes.begin(), names::kOpcodes.end());
    throw Error("unknown opcode '" + mnemonic + "'; the opcodes are " + join(known, ", "));
  }
  Insn insn;
  insn.opcode = *op;
  const Format& format = layout.format(*op);
  std::set<std::string> seen;
  std::string word;
  while (words >> word) {
    size_t eq = word.find('=');
    std::string key = word.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : word.substr(eq + 1);
    const Field* field = nullptr;
    for (const Field& f : format.fields)
      if (f.name == key && f.id != static_cast<int>(InsnField::kOpcode)) field = &f;
    if (!field)
      throw Error(mnemonic + " has no field '" + key + "'; its fields are " +
                  join(fieldNames(format), ", "));
    if (!seen.insert(key).second) throw Error("field '" + key + "' is given twice");
    auto id = static_cast<InsnField>(field->id);
    int64_t v = 0;
    if (eq == std::string::npos) {
      if (!isFlag(*field)) throw Error("field '" + key + "' needs a value (" + key + "=...)");
      v = 1;
    } else if (id == InsnField::kMemoryType) {
      std::optional<MemType> m = names::lookup<MemType>(names::kMemTypes, value);
      if (!m) {
        std::vector<std::string> known(names::kMemTypes.begin(), names::kMemTypes.end());
        throw Error("unknown memory_type '" + value + "'; the memory types are " +
                    join(known, ", "));
      }
      v = static_cast<int64_t>(*m);
    } else if (id == InsnField::kAluOp) {
      std::optional<AluOp> a = names::lookup<AluOp>(names::kAluOps, value);
      if (!a) {
        std::vector<std::string> known(names::kAluOps.begin(), names::kAluOps.end());
        throw Error("unknown alu_op '" + value + "'; the ALU operations are " + join(known, ", "));
      }
      v = static_cast<int64_t>(*a);
    } else {
      std::optional<int64_t> n = parseNumber(value);
      if (!n) throw Error(key + ": '" + value + "' is not a number");
      if (*n < field->minValue() || *n > field->maxValue())
        throw Error(key + " " + value + " does not fit its " + std::to_string(field->width) +
                    "-bit field (" + std::to_string(field->minValue()) + ".." +
                    std::to_string(field->maxValue()) + ")");
      v = *n;
    }
    setField(insn, id, v);
  }
  return insn;
}

}  // namespace

Expected<std::vector<Insn>> parseAssembly(std::string_view text, const Config& config) {
  return catchErrors([&] {
    std::vector<Insn> insns;
    size_t line_no = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      pos = end + 1;
      ++line_no;
      line = line.substr(0, line.find('#'));
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      try {
        insns.push_back(parseLine(line, config.layout()));
      } catch (const Error& e) {
        throw Error("line " + std::to_string(line_no) + ": " + e.what());
      }
    }
    return insns;
  });
}

Expected<std::vector<uint8_t>> assemble(std::string_view text, const Config& config) {
  Expected<std::vector<Insn>> insns = parseAssembly(text, config);
  if (!insns) return insns.error();
  return catchErrors([&] { return encodeStream(config.layout(), *insns); });
}

std::string formatInsn(const Insn& insn, const Config& config) {
  const Format& format = config.layout().format(insn.opcode);
  std::string s(name(insn.opcode));
  for (const Field& f : format.fields) {
    auto id = static_cast<InsnField>(f.id);
    if (id == InsnField::kOpcode) continue;
    int64_t v = getField(insn, id);
    if (id == InsnField::kMemoryType)
      s += " " + f.name + "=" + std::string(name(static_cast<MemType>(v)));
    else if (id == InsnField::kAluOp)
      s += " " + f.name + "=" + std::string(name(static_cast<AluOp>(v)));
    else if (v != 0)
      s += " " + (isFlag(f) ? f.name : f.name + "=" + std::to_string(v));
  }
  return s;
}

Expected<std::string> disassemble(std::span<const uint8_t> bytes, const Config& config) {
  return catchErrors([&] {
    std::string text;
    for (const Insn& insn : decodeStream(config.layout(), bytes))
      text += formatInsn(insn, config) + "\n";
    return text;
  });
}

}  // namespace kiln::accel
