// Instruction and micro-op encoding: fields are placed at the bit positions the config's
// Layout computed from the spec, enums are translated through the spec's encodings, and
// anything that does not fit is refused with the field's name.
#include "kiln/accel/isa.h"

#include <string>
#include <type_traits>

#include "kiln/accel/layout.h"
#include "kiln/runtime/error.h"
#include "names.h"
#include "util.h"

namespace kiln::accel {

std::string_view name(Opcode op) {
  return names::kOpcodes[static_cast<int>(op)];
}
std::string_view name(MemType m) {
  return names::kMemTypes[static_cast<int>(m)];
}
std::string_view name(AluOp op) {
  return names::kAluOps[static_cast<int>(op)];
}
std::string_view name(Module m) {
  return names::kModules[static_cast<int>(m)];
}
std::string_view name(InsnField f) {
  return names::kInsnFields[static_cast<int>(f)];
}
std::string_view name(UopField f) {
  return names::kUopFields[static_cast<int>(f)];
}

namespace {

// Calls fn with a reference to the member that holds field f: the one map from field names
// to members.
// clang-format off
template <typename InsnRef, typename Fn>
decltype(auto) withField(InsnRef& i, InsnField f, Fn&& fn) {
  using F = InsnField;
  switch (f) {
    case F::kOpcode: return fn(i.opcode);
    case F::kPopPrev: return fn(i.pop_prev);
    case F::kPopNext: return fn(i.pop_next);
    case F::kPushPrev: return fn(i.push_prev);
    case F::kPushNext: return fn(i.push_next);
    case F::kMemoryType: return fn(i.memory_type);
    case F::kSramBase: return fn(i.sram_base);
    case F::kDramBase: return fn(i.dram_base);
    case F::kYSize: return fn(i.y_size);
    case F::kXSize: return fn(i.x_size);
    case F::kXStride: return fn(i.x_stride);
    case F::kYPad0: return fn(i.y_pad_0);
    case F::kYPad1: return fn(i.y_pad_1);
    case F::kXPad0: return fn(i.x_pad_0);
    case F::kXPad1: return fn(i.x_pad_1);
    case F::kReset: return fn(i.reset);
    case F::kUopBegin: return fn(i.uop_begin);
    case F::kUopEnd: return fn(i.uop_end);
    case F::kIterOut: return fn(i.iter_out);
    case F::kIterIn: return fn(i.iter_in);
    case F::kAccFactorOut: return fn(i.acc_factor_out);
    case F::kAccFactorIn: return fn(i.acc_factor_in);
    case F::kInpFactorOut: return fn(i.inp_factor_out);
    case F::kInpFactorIn: return fn(i.inp_factor_in);
    case F::kWgtFactorOut: return fn(i.wgt_factor_out);
    case F::kWgtFactorIn: return fn(i.wgt_factor_in);
    case F::kAluOp: return fn(i.alu_op);
    case F::kUseImm: return fn(i.use_imm);
    case F::kImm: return fn(i.imm);
  }
  throw Error("unknown instruction field " + std::to_string(static_cast<int>(f)));
}
// clang-format on

}  // namespace

int64_t getField(const Insn& insn, InsnField f) {
  return withField(insn, f, [](const auto& member) { return static_cast<int64_t>(member); });
}

void setField(Insn& insn, InsnField f, int64_t value) {
  withField(insn, f, [value](auto& member) {
    member = static_cast<std::remove_reference_t<decltype(member)>>(value);
  });
}

uint32_t getField(const Uop& u, UopField f) {
  switch (f) {
    case UopField::kAccIdx:
      return u.acc_idx;
    case UopField::kInpIdx:
      return u.inp_idx;
    case UopField::kWgtIdx:
      return u.wgt_idx;
  }
  return 0;
}

void setField(Uop& u, UopField f, uint32_t v) {
  switch (f) {
    case UopField::kAccIdx:
      u.acc_idx = v;
      break;
    case UopField::kInpIdx:
      u.inp_idx = v;
      break;
    case UopField::kWgtIdx:
      u.wgt_idx = v;
      break;
  }
}

std::string describe(const Insn& insn) {
  std::string s(name(insn.opcode));
  if (insn.opcode == Opcode::kLoad || insn.opcode == Opcode::kStore)
    s += " " + std::string(name(insn.memory_type));
  if (insn.opcode == Opcode::kAlu) s += " " + std::string(name(insn.alu_op));
  return s;
}

namespace {

void setBits(std::span<uint8_t> bytes, int lsb, int width, uint64_t v) {
  for (int b = 0; b < width; ++b) {
    int bit = lsb + b;
    uint8_t mask = static_cast<uint8_t>(1u << (bit % 8));
    if ((v >> b) & 1)
      bytes[bit / 8] |= mask;
    else
      bytes[bit / 8] &= static_cast<uint8_t>(~mask);
  }
}

uint64_t getBits(std::span<const uint8_t> bytes, int lsb, int width) {
  uint64_t v = 0;
  for (int b = 0; b < width; ++b) {
    int bit = lsb + b;
    v |= static_cast<uint64_t>((bytes[bit / 8] >> (bit % 8)) & 1) << b;
  }
  return v;
}

// The value a field holds in the word: enums become the spec's encodings.
int64_t encodedValue(const Layout& layout, const Insn& insn, InsnField f) {
  switch (f) {
    case InsnField::kOpcode:
      return layout.encoding(insn.opcode);
    case InsnField::kMemoryType:
      return layout.encoding(insn.memory_type);
    case InsnField::kAluOp:
      return layout.encoding(insn.alu_op);
    default:
      return getField(insn, f);
  }
}

std::string fieldRange(const Field& f) {
  return std::to_string(f.minValue()) + ".." + std::to_string(f.maxValue());
}

}  // namespace

std::string encodingProblem(const Layout& layout, const Insn& insn) {
  const Format& format = layout.format(insn.opcode);
  bool in_format[kNumInsnFields] = {};
  for (const Field& f : format.fields) {
    in_format[f.id] = true;
    int64_t v = encodedValue(layout, insn, static_cast<InsnField>(f.id));
    if (v < f.minValue() || v > f.maxValue())
      return f.name + " " + std::to_string(v) + " does not fit its " + std::to_string(f.width) +
             "-bit field (" + fieldRange(f) + ")";
  }
  const Insn defaults;
  for (int id = 0; id < kNumInsnFields; ++id) {
    auto f = static_cast<InsnField>(id);
    if (!in_format[id] && getField(insn, f) != getField(defaults, f))
      return std::string(name(f)) + " is not a field of " + std::string(name(insn.opcode)) +
             " (the " + format.name + " format)";
  }
  return "";
}

std::vector<uint8_t> encode(const Layout& layout, const Insn& insn) {
  std::string problem = encodingProblem(layout, insn);
  if (!problem.empty()) throw Error(describe(insn) + ": " + problem);
  std::vector<uint8_t> word(layout.insnBytes(), 0);
  for (const Field& f : layout.format(insn.opcode).fields)
    setBits(word, f.lsb, f.width,
            static_cast<uint64_t>(encodedValue(layout, insn, static_cast<InsnField>(f.id))));
  return word;
}

Insn decode(const Layout& layout, std::span<const uint8_t> word) {
  if (static_cast<int>(word.size()) != layout.insnBytes())
    throw Error("an instruction is " + std::to_string(layout.insnBytes()) + " bytes, not " +
                std::to_string(word.size()));
  const Field& op_field = layout.opcodeField();
  int64_t op_value = static_cast<int64_t>(getBits(word, op_field.lsb, op_field.width));
  std::optional<Opcode> op = layout.opcodeOf(op_value);
  if (!op) throw Error("unknown opcode " + std::to_string(op_value));
  Insn insn;
  insn.opcode = *op;
  const Format& format = layout.format(*op);
  for (const Field& f : format.fields) {
    auto id = static_cast<InsnField>(f.id);
    if (id == InsnField::kOpcode) continue;
    uint64_t raw = getBits(word, f.lsb, f.width);
    int64_t v = static_cast<int64_t>(raw);
    if (f.is_signed && f.width < 64 && (raw >> (f.width - 1)) & 1) v -= int64_t{1} << f.width;
    if (id == InsnField::kMemoryType) {
      std::optional<MemType> m = layout.memTypeOf(v);
      if (!m) throw Error("unknown memory_type " + std::to_string(v) + " in a LOAD or STORE");
      v = static_cast<int64_t>(*m);
    } else if (id == InsnField::kAluOp) {
      std::optional<AluOp> a = layout.aluOpOf(v);
      if (!a) throw Error("unknown alu_op " + std::to_string(v) + " in an ALU");
      v = static_cast<int64_t>(*a);
    }
    setField(insn, id, v);
  }
  for (int bit = format.bits; bit < layout.insnBits(); ++bit)
    if (getBits(word, bit, 1))
      throw Error("reserved bit " + std::to_string(bit) + " of a " + std::string(name(*op)) +
                  " is set (the " + format.name + " format uses bits 0.." +
                  std::to_string(format.bits - 1) + ")");
  return insn;
}

std::vector<uint8_t> encodeStream(const Layout& layout, std::span<const Insn> insns) {
  std::vector<uint8_t> bytes;
  bytes.reserve(insns.size() * layout.insnBytes());
  for (size_t i = 0; i < insns.size(); ++i) {
    std::string problem = encodingProblem(layout, insns[i]);
    if (!problem.empty())
      throw Error("instruction " + std::to_string(i) + " (" + describe(insns[i]) + "): " + problem);
    std::vector<uint8_t> w = encode(layout, insns[i]);
    bytes.insert(bytes.end(), w.begin(), w.end());
  }
  return bytes;
}

std::vector<Insn> decodeStream(const Layout& layout, std::span<const uint8_t> bytes) {
  size_t n = static_cast<size_t>(layout.insnBytes());
  if (bytes.size() % n != 0)
    throw Error("an instruction stream is a whole number of " + std::to_string(n) +
                "-byte instructions; " + std::to_string(bytes.size()) + " bytes leave " +
                std::to_string(bytes.size() % n) + " over");
  std::vector<Insn> insns;
  insns.reserve(bytes.size() / n);
  for (size_t i = 0; i < bytes.size() / n; ++i) {
    try {
      insns.push_back(decode(layout, bytes.subspan(i * n, n)));
    } catch (const Error& e) {
      throw Error("instruction " + std::to_string(i) + ": " + e.what());
    }
  }
  return insns;
}

uint64_t encodeUop(const Layout& layout, const Uop& uop) {
  uint64_t word = 0;
  for (const Field& f : layout.uop().fields) {
    uint32_t v = getField(uop, static_cast<UopField>(f.id));
    if (v > f.maxValue())
      throw Error("micro-op: " + f.name + " " + std::to_string(v) + " does not fit its " +
                  std::to_string(f.width) + "-bit field (" + fieldRange(f) + ")");
    word |= static_cast<uint64_t>(v) << f.lsb;
  }
  return word;
}

Uop decodeUop(const Layout& layout, uint64_t word) {
  Uop uop;
  const Format& format = layout.uop();
  for (const Field& f : format.fields)
    setField(uop, static_cast<UopField>(f.id),
             static_cast<uint32_t>((word >> f.lsb) & ((uint64_t{1} << f.width) - 1)));
  uint64_t used = format.bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << format.bits) - 1;
  if (word & ~used)
    throw Error("micro-op " + hex(word) + " has reserved bits set (its fields use bits 0.." +
                std::to_string(format.bits - 1) + ")");
  return uop;
}

}  // namespace kiln::accel
