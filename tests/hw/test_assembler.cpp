// The assembler and disassembler: text and binary round trips, the documented syntax, and
// errors that name the line and the field.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "accel_test_util.h"
#include "kiln/accel/assembler.h"

namespace kiln::accel {
namespace {

TEST(Assembler, ParsesNamedFieldsFlagsEnumsAndComments) {
  Config c = test::builtinConfig("pynq-z1");
  std::vector<Insn> insns = test::assembly(c, R"(
    # a comment line
    LOAD memory_type=acc8 sram_base=0x10 dram_base=300 y_size=2 x_size=3 x_stride=4 pop_next
    ALU alu_op=REQUANT use_imm imm=-7 uop_begin=1 uop_end=2 iter_out=1 iter_in=1  # trailing

    FINISH
  )");
  ASSERT_EQ(insns.size(), 3u);
  EXPECT_EQ(insns[0], (Insn{.opcode = Opcode::kLoad,
                            .pop_next = true,
                            .memory_type = MemType::kAcc8,
                            .sram_base = 16,
                            .dram_base = 300,
                            .y_size = 2,
                            .x_size = 3,
                            .x_stride = 4}));
  EXPECT_EQ(insns[1], (Insn{.opcode = Opcode::kAlu,
                            .uop_begin = 1,
                            .uop_end = 2,
                            .iter_out = 1,
                            .iter_in = 1,
                            .alu_op = AluOp::kRequant,
                            .use_imm = true,
                            .imm = -7}));
  EXPECT_EQ(insns[2], Insn{.opcode = Opcode::kFinish});
  EXPECT_EQ(formatInsn(insns[0], c),
            "LOAD pop_next memory_type=acc8 sram_base=16 dram_base=300 y_size=2 x_size=3 "
            "x_stride=4");
  EXPECT_EQ(formatInsn(insns[1], c),
            "ALU uop_begin=1 uop_end=2 iter_out=1 iter_in=1 alu_op=REQUANT use_imm imm=-7");
}

TEST(Assembler, TheDocumentedExampleAssemblesOnEveryConfig) {
  for (const std::string& name : test::allConfigs()) {
    Config c = test::builtinConfig(name);
    Expected<std::vector<uint8_t>> bytes = assemble(Spec::builtin()->assembly_example, c);
    ASSERT_TRUE(bytes.ok()) << name << ": " << bytes.message();
    EXPECT_EQ(bytes->size(), 8u * 16u) << name;
  }
}

// Binary -> text -> binary gives the same bytes, and text -> binary -> text is canonical.
TEST(Assembler, RandomStreamsRoundTripThroughText) {
  for (const std::string& name : test::allConfigs()) {
    Config c = test::builtinConfig(name);
    std::mt19937_64 rng(1234);
    std::vector<uint8_t> bytes;
    for (int i = 0; i < 500; ++i) {
      auto op = static_cast<Opcode>(rng() % kNumOpcodes);
      std::vector<uint8_t> word(16, 0);
      const Format& format = c.layout().format(op);
      for (const Field& f : format.fields) {
        int64_t v;
        auto id = static_cast<InsnField>(f.id);
        if (id == InsnField::kOpcode)
          v = c.layout().encoding(op);
        else if (id == InsnField::kMemoryType)
          v = c.layout().encoding(static_cast<MemType>(rng() % kNumMemTypes));
        else if (id == InsnField::kAluOp)
          v = c.layout().encoding(static_cast<AluOp>(rng() % kNumAluOps));
        else
          v = static_cast<int64_t>(rng() & ((uint64_t{1} << f.width) - 1));
        for (int b = 0; b < f.width; ++b)
          if ((v >> b) & 1) word[(f.lsb + b) / 8] |= static_cast<uint8_t>(1 << ((f.lsb + b) % 8));
      }
      bytes.insert(bytes.end(), word.begin(), word.end());
    }
    Expected<std::string> text = disassemble(bytes, c);
    ASSERT_TRUE(text.ok()) << name << ": " << text.message();
    Expected<std::vector<uint8_t>> again = assemble(*text, c);
    ASSERT_TRUE(again.ok()) << name << ": " << again.message();
    EXPECT_EQ(*again, bytes) << name << ": the disassembly does not assemble to the same bytes";
    Expected<std::string> text_again = disassemble(*again, c);
    EXPECT_EQ(*text_again, *text) << name;
  }
}

TEST(Assembler, ErrorsNameTheLineAndTheField) {
  Config c = test::builtinConfig("pynq-z1");
  auto error = [&](const std::string& text) { return parseAssembly(text, c).message(); };
  EXPECT_EQ(error("FINISH\nLAOD memory_type=inp"),
            "line 2: unknown opcode 'LAOD'; the opcodes are LOAD, STORE, GEMM, FINISH, ALU");
  EXPECT_EQ(error("GEMM reset sram_base=1"),
            "line 1: GEMM has no field 'sram_base'; its fields are pop_prev, pop_next, "
            "push_prev, push_next, reset, uop_begin, uop_end, iter_out, iter_in, "
            "acc_factor_out, acc_factor_in, inp_factor_out, inp_factor_in, wgt_factor_out, "
            "wgt_factor_in");
  EXPECT_EQ(error("LOAD memory_type=inp sram_base=4096"),
            "line 1: sram_base 4096 does not fit its 11-bit field (0..2047)");
  EXPECT_EQ(error("LOAD memory_type=input"),
            "line 1: unknown memory_type 'input'; the memory types are uop, wgt, inp, acc, "
            "out, acc8");
  EXPECT_EQ(error("ALU alu_op=DIV"),
            "line 1: unknown alu_op 'DIV'; the ALU operations are MIN, MAX, ADD, SHR, MUL, "
            "MAC, REQUANT");
  EXPECT_EQ(error("ALU imm"), "line 1: field 'imm' needs a value (imm=...)");
  EXPECT_EQ(error("ALU imm=12x"), "line 1: imm: '12x' is not a number");
  EXPECT_EQ(error("GEMM reset reset=1"), "line 1: field 'reset' is given twice");
  EXPECT_EQ(disassemble(std::vector<uint8_t>(20, 0), c).message(),
            "an instruction stream is a whole number of 16-byte instructions; 20 bytes leave "
            "4 over");
}

}  // namespace
}  // namespace kiln::accel
