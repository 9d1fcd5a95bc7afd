// The spec's expression language, the BRAM estimate, the built-in spec, the layouts it gives
// every config, and the spec checks that keep it in step with the reference.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "accel_test_util.h"
#include "kiln/accel/expr.h"
#include "kiln/accel/spec.h"

namespace kiln::accel {
namespace {

int64_t eval(const std::string& text, const std::map<std::string, int64_t>& env = {}) {
  return Expr::parse(text).eval([&](std::string_view n) -> std::optional<int64_t> {
    auto it = env.find(std::string(n));
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

TEST(Expr, FollowsCPrecedenceAndFunctions) {
  EXPECT_EQ(eval("1 + 2 * 3"), 7);
  EXPECT_EQ(eval("(1 + 2) * 3"), 9);
  EXPECT_EQ(eval("10 - 4 - 3"), 3) << "subtraction must associate to the left";
  EXPECT_EQ(eval("17 % 5 + 0x10 / 4"), 6);
  EXPECT_EQ(eval("-3 + !0"), -2);
  EXPECT_EQ(eval("1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 4 || 5 == 5"), 1);
  EXPECT_EQ(eval("4 != 4"), 0);
  EXPECT_EQ(eval("clog2(1) + clog2(2) + clog2(1000)"), 0 + 1 + 10);
  EXPECT_EQ(eval("max(3, depth, 2) + min(depth, 9)", {{"depth", 7}}), 14);
  EXPECT_EQ(eval("is_pow2(64) + is_pow2(48) + is_pow2(0)"), 1);
  EXPECT_EQ(eval("bram36(128, 2048)"), 8);
  EXPECT_EQ(eval("uram288(2048, 1024)"), 29) << "29 columns of 72 bits, one 4096-deep row";
}

TEST(Expr, ListsTheNamesItUses) {
  Expr e = Expr::parse("clog2(max(a, b)) + a * c");
  EXPECT_EQ(e.names(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Expr, ErrorsSayWhatAndWhere) {
  auto message = [](const std::string& text) {
    try {
      eval(text);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("1 +").find("expression ends early"), std::string::npos) << message("1 +");
  EXPECT_NE(message("2 $ 3").find("column 3"), std::string::npos) << message("2 $ 3");
  EXPECT_NE(message("frob(1)").find("unknown function 'frob'"), std::string::npos);
  EXPECT_NE(message("bram36(1)").find("two arguments"), std::string::npos);
  EXPECT_NE(message("uram288(1, 2, 3)").find("uram288() takes two arguments"), std::string::npos);
  EXPECT_NE(message("depth + 1").find("unknown name 'depth'"), std::string::npos);
  EXPECT_NE(message("1 / 0").find("division by zero"), std::string::npos);
  EXPECT_NE(message("clog2(0)").find("clog2 of 0"), std::string::npos);
}

TEST(Bram36, PicksTheBestAspectRatio) {
  EXPECT_EQ(bram36Blocks(128, 2048), 8);    // 2048 x 16 blocks, 8 side by side
  EXPECT_EQ(bram36Blocks(2048, 1024), 64);  // 1024 x 32 blocks
  EXPECT_EQ(bram36Blocks(32, 2048), 2);
  EXPECT_EQ(bram36Blocks(1, 100), 1);
  EXPECT_EQ(bram36Blocks(72, 512), 2) << "512 x 64 twice beats 1024 x 32 three times";
  EXPECT_EQ(bram36Blocks(8192, 256), 128) << "a shallow, wide memory wastes depth";
  EXPECT_EQ(bram36Blocks(8, 65536), 16);
  EXPECT_EQ(bram36Blocks(0, 64), 0);
}

TEST(Uram288, CountsColumnsOf72BitsAndRowsOf4096) {
  EXPECT_EQ(uram288Blocks(72, 4096), 1);
  EXPECT_EQ(uram288Blocks(73, 4096), 2);
  EXPECT_EQ(uram288Blocks(32, 8192), 2) << "the estimate does not pack two words per row";
  EXPECT_EQ(uram288Blocks(8192, 512), 114);
  EXPECT_EQ(uram288Blocks(0, 4096), 0);
}

TEST(Spec, BuiltinParsesAndNamesEverythingTheReferenceImplements) {
  std::shared_ptr<const Spec> spec = Spec::builtin();
  EXPECT_EQ(spec->instruction_width, 128);
  EXPECT_EQ(spec->opcodes.size(), static_cast<size_t>(kNumOpcodes));
  EXPECT_EQ(spec->memory_types.size(), static_cast<size_t>(kNumMemTypes));
  EXPECT_EQ(spec->alu_ops.size(), static_cast<size_t>(kNumAluOps));
  EXPECT_EQ(spec->token_queues.size(), 4u);
  EXPECT_EQ(spec->aluOp(AluOp::kRequant).name, "REQUANT");
  EXPECT_EQ(spec->memType(MemType::kAcc8).load_module, Module::kCompute);
  EXPECT_EQ(spec->memType(MemType::kInp).load_module, Module::kLoad);
  EXPECT_EQ(spec->memType(MemType::kOut).store_module, Module::kStore);
}

// Every format of every config: fields packed from bit 0 without gaps or overlaps, the
// header at the same place everywhere, everything inside the instruction word.
TEST(Layout, FieldsArePackedConsistentlyInEveryConfig) {
  for (const std::string& name : test::allConfigs()) {
    Config c = test::builtinConfig(name);
    const Layout& l = c.layout();
    const Format& first = l.formats().front();
    for (const Format& f : l.formats()) {
      int next = 0;
      for (const Field& field : f.fields) {
        EXPECT_EQ(field.lsb, next) << name << " " << f.name << "." << field.name;
        next = field.lsb + field.width;
      }
      EXPECT_EQ(f.bits, next) << name << " " << f.name;
      EXPECT_LE(f.bits, l.insnBits()) << name << " " << f.name;
      for (size_t i = 0; i < Spec::builtin()->header.size(); ++i) {
        EXPECT_EQ(f.fields[i].name, first.fields[i].name) << name << " " << f.name;
        EXPECT_EQ(f.fields[i].lsb, first.fields[i].lsb) << name << " " << f.name;
      }
    }
    EXPECT_LE(l.uop().bits, l.uopBits()) << name;
    // Index fields are as wide as their buffers need.
    EXPECT_EQ(l.format(Opcode::kGemm).find(InsnField::kUopBegin)->width,
              clog2(c.params().uop_depth))
        << name;
    EXPECT_EQ(l.uop().find(UopField::kAccIdx)->width, clog2(c.params().acc_depth)) << name;
  }
}

TEST(Layout, DefaultConfigHasTheDocumentedPositions) {
  Config c = test::builtinConfig("pynq-z1");
  const Format& mem = c.layout().format(Opcode::kLoad);
  EXPECT_EQ(mem.find(InsnField::kSramBase)->lsb, 10);
  EXPECT_EQ(mem.find(InsnField::kSramBase)->width, 11);
  EXPECT_EQ(mem.find(InsnField::kDramBase)->lsb, 21);
  EXPECT_EQ(mem.bits, 117);
  const Format& alu = c.layout().format(Opcode::kAlu);
  EXPECT_EQ(alu.find(InsnField::kImm)->lsb, 107);
  EXPECT_TRUE(alu.find(InsnField::kImm)->is_signed);
  EXPECT_EQ(alu.bits, 123);
  EXPECT_EQ(c.layout().uop().bits, 32);
}

// A spec that names something the reference does not implement, or leaves out something
// it needs, is refused with the entry at fault.
std::string specError(const std::string& from, const std::string& to) {
  std::string text(Spec::builtinText());
  size_t at = text.find(from);
  if (at == std::string::npos) return "the test's edit '" + from + "' does not apply";
  text.replace(at, from.size(), to);
  try {
    Spec::parse(text, "edited.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  return "accepted";
}

TEST(Spec, RefusesWhatTheReferenceDoesNotImplement) {
  std::string e = specError("  - name: ALU\n", "  - name: ALX\n");
  EXPECT_NE(e.find("opcodes[4]: 'ALX' names no opcode that the reference implements"),
            std::string::npos)
      << e;
  e = specError("  - name: REQUANT\n    value: 6", "  - name: REQUANT\n    value: 5");
  EXPECT_NE(e.find("'REQUANT' reuses the value 5"), std::string::npos) << e;
  e = specError(
      "      - name: iter_in\n        width: 14\n        doc: Extent of the inner "
      "loop.\n      - name: acc_factor_out\n        width: clog2(acc_depth)\n"
      "        doc: Destination",
      "      - name: acc_factor_out\n        width: clog2(acc_depth)\n"
      "        doc: Destination");
  EXPECT_NE(e.find("format 'alu' lacks 'iter_in', which ALU uses"), std::string::npos) << e;
  e = specError("width: clog2(uop_depth) + 1", "width: clog2(uop_depth) +");
  EXPECT_NE(e.find("expression ends early"), std::string::npos) << e;
  e = specError("value: batch * block_in * inp_width", "value: batch * block_in * inp_bits");
  EXPECT_NE(e.find("'inp_bits' is not defined before it"), std::string::npos) << e;
}

// The timing the RTL and the cycle model share: every value is present and readable.
TEST(Spec, TimingNamesEveryValueTheCycleModelUses) {
  auto spec = Spec::builtin();
  EXPECT_EQ(spec->timingValue("gemm_ii"), 1) << "the GEMM core takes one micro-op per cycle";
  EXPECT_EQ(spec->timingValue("watchdog_cycles"), int64_t{1} << 24);
  EXPECT_THROW(spec->timingValue("no_such_value"), Error);
  std::string e =
      specError("    - {name: gemm_depth, value: 5,", "    - {name: gemm_stages, value: 5,");
  EXPECT_NE(e.find("timing.values: 'gemm_depth' is missing"), std::string::npos) << e;
  e = specError("{name: fetch_burst, value: 16,", "{name: fetch_burst, value: -16,");
  EXPECT_NE(e.find("must not be negative"), std::string::npos) << e;
}

}  // namespace
}  // namespace kiln::accel
