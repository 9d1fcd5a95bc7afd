// Instruction and micro-op encoding: randomized round trips on every config, each field at
// the bits its layout names, and clear refusals of what does not encode or decode.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "accel_test_util.h"
#include "kiln/accel/isa.h"
#include "kiln/accel/layout.h"

namespace kiln::accel {
namespace {

// A random instruction of the given opcode: every field of its format random within range.
Insn randomInsn(const Layout& layout, Opcode op, std::mt19937_64& rng) {
  Insn insn;
  insn.opcode = op;
  for (const Field& f : layout.format(op).fields) {
    auto id = static_cast<InsnField>(f.id);
    if (id == InsnField::kOpcode) continue;
    int64_t v;
    if (id == InsnField::kMemoryType) {
      v = static_cast<int64_t>(rng() % kNumMemTypes);
    } else if (id == InsnField::kAluOp) {
      v = static_cast<int64_t>(rng() % kNumAluOps);
    } else {
      std::uniform_int_distribution<int64_t> d(f.minValue(), f.maxValue());
      v = d(rng);
    }
    setField(insn, id, v);
  }
  return insn;
}

std::string errorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Encoding, RandomInstructionsRoundTripOnEveryConfig) {
  for (const std::string& name : test::allConfigs()) {
    Config c = test::builtinConfig(name);
    std::mt19937_64 rng(42);
    std::vector<Insn> stream;
    for (int i = 0; i < 2000; ++i) {
      Insn insn = randomInsn(c.layout(), static_cast<Opcode>(i % kNumOpcodes), rng);
      std::vector<uint8_t> word = encode(c.layout(), insn);
      ASSERT_EQ(word.size(), 16u);
      Insn back = decode(c.layout(), word);
      ASSERT_EQ(back, insn) << name << ": instruction " << i << " (" << describe(insn)
                            << ") decodes differently: " << formatInsn(back, c) << " vs "
                            << formatInsn(insn, c);
      stream.push_back(insn);
    }
    std::vector<uint8_t> bytes = encodeStream(c.layout(), stream);
    EXPECT_EQ(bytes.size(), stream.size() * 16);
    EXPECT_EQ(decodeStream(c.layout(), bytes), stream) << name;
  }
}

// Each field, set to all ones with every other field zero, sets exactly its own bits.
TEST(Encoding, EveryFieldLandsOnItsOwnBits) {
  for (const std::string& name : test::allConfigs()) {
    Config c = test::builtinConfig(name);
    for (int op = 0; op < kNumOpcodes; ++op) {
      const Format& format = c.layout().format(static_cast<Opcode>(op));
      const Field& opcode = c.layout().opcodeField();
      for (const Field& f : format.fields) {
        auto id = static_cast<InsnField>(f.id);
        if (id == InsnField::kOpcode || id == InsnField::kMemoryType || id == InsnField::kAluOp)
          continue;
        Insn insn;
        insn.opcode = static_cast<Opcode>(op);
        setField(insn, id, f.is_signed ? -1 : f.maxValue());
        std::vector<uint8_t> word = encode(c.layout(), insn);
        int64_t op_value = c.layout().encoding(insn.opcode);
        for (int bit = 0; bit < 128; ++bit) {
          bool set = (word[bit / 8] >> (bit % 8)) & 1;
          bool in_field = bit >= f.lsb && bit <= f.msb();
          bool in_opcode =
              bit >= opcode.lsb && bit <= opcode.msb() && ((op_value >> (bit - opcode.lsb)) & 1);
          ASSERT_EQ(set, in_field || in_opcode)
              << name << ": " << format.name << "." << f.name << " (bits " << f.lsb << ".."
              << f.msb() << ") leaves bit " << bit << (set ? " set" : " clear");
        }
      }
    }
  }
}

TEST(Encoding, WordsAreLittleEndian) {
  Config c = test::builtinConfig("pynq-z1");
  Insn insn{.opcode = Opcode::kLoad, .memory_type = MemType::kInp, .dram_base = 0x12345678};
  // memory_type (inp = 2) at bit 7, dram_base at bit 21, LOAD = 0.
  uint64_t low = (uint64_t{2} << 7) | (uint64_t{0x12345678} << 21);
  std::vector<uint8_t> expected(16, 0);
  for (int b = 0; b < 8; ++b) expected[b] = static_cast<uint8_t>(low >> (8 * b));
  EXPECT_EQ(encode(c.layout(), insn), expected);
}

TEST(Encoding, RefusesValuesThatDoNotFitOrDoNotBelong) {
  Config c = test::builtinConfig("pynq-z1");
  std::string e = errorOf([&] {
    encode(c.layout(),
           Insn{.opcode = Opcode::kLoad, .memory_type = MemType::kInp, .sram_base = 2048});
  });
  EXPECT_EQ(e, "LOAD inp: sram_base 2048 does not fit its 11-bit field (0..2047)");
  e = errorOf([&] {
    encode(c.layout(), Insn{.opcode = Opcode::kAlu, .alu_op = AluOp::kAdd, .imm = 40000});
  });
  EXPECT_EQ(e, "ALU ADD: imm 40000 does not fit its 16-bit field (-32768..32767)");
  e = errorOf([&] { encode(c.layout(), Insn{.opcode = Opcode::kGemm, .sram_base = 1}); });
  EXPECT_EQ(e, "GEMM: sram_base is not a field of GEMM (the gemm format)");
  std::vector<Insn> stream = {Insn{.opcode = Opcode::kFinish},
                              Insn{.opcode = Opcode::kFinish, .use_imm = true}};
  e = errorOf([&] { encodeStream(c.layout(), stream); });
  EXPECT_EQ(e, "instruction 1 (FINISH): use_imm is not a field of FINISH (the finish format)");
}

TEST(Decoding, RefusesUnknownEncodingsAndReservedBits) {
  Config c = test::builtinConfig("pynq-z1");
  std::vector<uint8_t> word(16, 0);
  word[0] = 7;  // opcode 7
  EXPECT_EQ(errorOf([&] { decode(c.layout(), word); }), "unknown opcode 7");
  word = encode(c.layout(), Insn{.opcode = Opcode::kFinish});
  word[12] |= 0x10;  // bit 100
  EXPECT_EQ(errorOf([&] { decode(c.layout(), word); }),
            "reserved bit 100 of a FINISH is set (the finish format uses bits 0..6)");
  word = encode(c.layout(), Insn{.opcode = Opcode::kStore, .memory_type = MemType::kOut});
  word[1] |= 0x03;  // memory_type bits 7..9 = 7
  word[0] |= 0x80;
  EXPECT_EQ(errorOf([&] { decode(c.layout(), word); }), "unknown memory_type 7 in a LOAD or STORE");
  std::vector<uint8_t> stream(40, 0);
  EXPECT_EQ(errorOf([&] { decodeStream(c.layout(), stream); }),
            "an instruction stream is a whole number of 16-byte instructions; 40 bytes leave "
            "8 over");
  stream.resize(32);
  stream[16] = 6;
  EXPECT_EQ(errorOf([&] { decodeStream(c.layout(), stream); }), "instruction 1: unknown opcode 6");
}

TEST(MicroOps, RoundTripAndRefuseOverflowOnEveryConfig) {
  for (const std::string& name : test::allConfigs()) {
    Config c = test::builtinConfig(name);
    const Format& f = c.layout().uop();
    std::mt19937_64 rng(7);
    for (int i = 0; i < 1000; ++i) {
      Uop u;
      for (const Field& field : f.fields)
        setField(u, static_cast<UopField>(field.id),
                 static_cast<uint32_t>(rng() % (field.maxValue() + 1)));
      uint64_t word = encodeUop(c.layout(), u);
      ASSERT_LT(word, uint64_t{1} << f.bits) << name;
      ASSERT_EQ(decodeUop(c.layout(), word), u) << name << ": micro-op " << i;
    }
    const Field& acc = *f.find(UopField::kAccIdx);
    EXPECT_EQ(acc.lsb, 0) << name;
    Uop too_big{.acc_idx = static_cast<uint32_t>(acc.maxValue() + 1)};
    EXPECT_NE(errorOf([&] { encodeUop(c.layout(), too_big); }).find("acc_idx"), std::string::npos)
        << name;
  }
  Config small = test::builtinConfig("small");  // 22 bits used of 32
  EXPECT_EQ(errorOf([&] { decodeUop(small.layout(), uint64_t{1} << 30); }),
            "micro-op 0x40000000 has reserved bits set (its fields use bits 0..21)");
}

}  // namespace
}  // namespace kiln::accel
