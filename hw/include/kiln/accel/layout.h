// Where every field of every instruction format and of the micro-op lies for one config.
//
// The spec gives each field's width as an expression of the config's parameters (an SRAM
// index has clog2(depth) bits); Layout evaluates them and packs the fields from bit 0
// upwards in spec order, so every config gets a consistent layout. A format that no longer
// fits the instruction word, or micro-op fields that no longer fit uop_width, are refused
// with the parameters that size them.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kiln/accel/expr.h"
#include "kiln/accel/isa.h"

namespace kiln::accel {

struct Spec;

struct Field {
  std::string name;
  int id = 0;  // an InsnField or UopField
  int lsb = 0;
  int width = 0;
  bool is_signed = false;
  std::string width_expr;  // as the spec writes it
  std::string doc;

  int msb() const { return lsb + width - 1; }
  int64_t minValue() const { return is_signed ? -(int64_t{1} << (width - 1)) : 0; }
  int64_t maxValue() const {
    return is_signed ? (int64_t{1} << (width - 1)) - 1 : (int64_t{1} << width) - 1;
  }
};

struct Format {
  std::string name;
  std::vector<Field> fields;  // the header first, then the format's own fields
  int bits = 0;               // bits used; those above, up to the word, are reserved

  const Field* find(InsnField f) const;
  const Field* find(UopField f) const;
};

class Layout {
 public:
  Layout() = default;
  // Throws kiln::Error when a format does not fit; `qualify` turns a parameter name into
  // the name a message should use for it (such as "buffers.uop_depth").
  static Layout compute(const Spec& spec, const Expr::Lookup& values,
                        const std::function<std::string(const std::string&)>& qualify);

  int insnBits() const { return insn_bits_; }
  int insnBytes() const { return insn_bits_ / 8; }
  int uopBits() const { return uop_bits_; }
  int uopBytes() const { return uop_bits_ / 8; }

  const std::vector<Format>& formats() const { return formats_; }
  const Format& format(Opcode op) const { return formats_[format_of_[static_cast<int>(op)]]; }
  const Format& uop() const { return uop_; }
  const Field& opcodeField() const { return formats_.front().fields.front(); }

  // Encodings of the symbolic enums, and back (nullopt for an unknown value).
  int64_t encoding(Opcode op) const { return opcode_values_[static_cast<int>(op)]; }
  int64_t encoding(MemType m) const { return mem_values_[static_cast<int>(m)]; }
  int64_t encoding(AluOp op) const { return alu_values_[static_cast<int>(op)]; }
  std::optional<Opcode> opcodeOf(int64_t value) const;
  std::optional<MemType> memTypeOf(int64_t value) const;
  std::optional<AluOp> aluOpOf(int64_t value) const;

 private:
  int insn_bits_ = 0;
  int uop_bits_ = 0;
  std::vector<Format> formats_;
  std::array<int, kNumOpcodes> format_of_{};
  Format uop_;
  std::array<int64_t, kNumOpcodes> opcode_values_{};
  std::array<int64_t, kNumMemTypes> mem_values_{};
  std::array<int64_t, kNumAluOps> alu_values_{};
};

}  // namespace kiln::accel
