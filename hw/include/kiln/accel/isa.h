// The accelerator's instructions and micro-ops as C++ values, and their binary encoding.
//
// The enums here are symbolic: their numeric encodings, the field widths and the bit
// positions all come from the spec (hw/spec/accel.yaml) through a config's Layout, so a
// change to the spec changes every encoder, decoder and document at once.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::accel {

class Layout;

enum class Opcode : uint8_t { kLoad, kStore, kGemm, kFinish, kAlu };
enum class MemType : uint8_t { kUop, kWgt, kInp, kAcc, kOut, kAcc8 };
enum class AluOp : uint8_t { kMin, kMax, kAdd, kShr, kMul, kMac, kRequant };
enum class Module : uint8_t { kFetch, kLoad, kCompute, kStore };

inline constexpr int kNumOpcodes = 5;
inline constexpr int kNumMemTypes = 6;
inline constexpr int kNumAluOps = 7;
inline constexpr int kNumModules = 4;

// The spec's names of the enumerators ("LOAD", "inp", "MAX", "compute").
std::string_view name(Opcode op);
std::string_view name(MemType m);
std::string_view name(AluOp op);
std::string_view name(Module m);

// One instruction. Only the fields of its opcode's format may differ from their defaults;
// the encoder refuses any other.
struct Insn {
  Opcode opcode = Opcode::kLoad;
  bool pop_prev = false;
  bool pop_next = false;
  bool push_prev = false;
  bool push_next = false;
  // LOAD and STORE
  MemType memory_type = MemType::kUop;
  uint32_t sram_base = 0;
  uint32_t dram_base = 0;
  uint32_t y_size = 0;
  uint32_t x_size = 0;
  uint32_t x_stride = 0;
  uint32_t y_pad_0 = 0;
  uint32_t y_pad_1 = 0;
  uint32_t x_pad_0 = 0;
  uint32_t x_pad_1 = 0;
  // GEMM and ALU
  bool reset = false;
  uint32_t uop_begin = 0;
  uint32_t uop_end = 0;
  uint32_t iter_out = 0;
  uint32_t iter_in = 0;
  uint32_t acc_factor_out = 0;
  uint32_t acc_factor_in = 0;
  uint32_t inp_factor_out = 0;
  uint32_t inp_factor_in = 0;
  uint32_t wgt_factor_out = 0;
  uint32_t wgt_factor_in = 0;
  // ALU
  AluOp alu_op = AluOp::kMin;
  bool use_imm = false;
  int32_t imm = 0;

  bool operator==(const Insn&) const = default;
};

// The fields of Insn, named as in the spec.
enum class InsnField : uint8_t {
  kOpcode,
  kPopPrev,
  kPopNext,
  kPushPrev,
  kPushNext,
  kMemoryType,
  kSramBase,
  kDramBase,
  kYSize,
  kXSize,
  kXStride,
  kYPad0,
  kYPad1,
  kXPad0,
  kXPad1,
  kReset,
  kUopBegin,
  kUopEnd,
  kIterOut,
  kIterIn,
  kAccFactorOut,
  kAccFactorIn,
  kInpFactorOut,
  kInpFactorIn,
  kWgtFactorOut,
  kWgtFactorIn,
  kAluOp,
  kUseImm,
  kImm,
};
inline constexpr int kNumInsnFields = 29;
std::string_view name(InsnField f);

// A field's value as an integer: enums give their symbolic ordinal, flags 0 or 1.
int64_t getField(const Insn& insn, InsnField f);
void setField(Insn& insn, InsnField f, int64_t value);

// A micro-op: one tile in each operand buffer.
struct Uop {
  uint32_t acc_idx = 0;
  uint32_t inp_idx = 0;
  uint32_t wgt_idx = 0;

  bool operator==(const Uop&) const = default;
};

enum class UopField : uint8_t { kAccIdx, kInpIdx, kWgtIdx };
inline constexpr int kNumUopFields = 3;
std::string_view name(UopField f);
uint32_t getField(const Uop& uop, UopField f);
void setField(Uop& uop, UopField f, uint32_t value);

// Encoding. Each throws kiln::Error saying which field of which instruction is wrong: a
// value too wide for its field, a field that is not part of the opcode's format, an unknown
// opcode or enumerator, reserved bits that are set.
std::vector<uint8_t> encode(const Layout& layout, const Insn& insn);
// What keeps an instruction from being encoded (as encode() would say it), or "".
std::string encodingProblem(const Layout& layout, const Insn& insn);
Insn decode(const Layout& layout, std::span<const uint8_t> word);
std::vector<uint8_t> encodeStream(const Layout& layout, std::span<const Insn> insns);
std::vector<Insn> decodeStream(const Layout& layout, std::span<const uint8_t> bytes);

// A micro-op as the low uopBits() bits of a little-endian word.
uint64_t encodeUop(const Layout& layout, const Uop& uop);
Uop decodeUop(const Layout& layout, uint64_t word);

// "GEMM", "LOAD inp", "ALU MAX": how messages name an instruction.
std::string describe(const Insn& insn);

}  // namespace kiln::accel
