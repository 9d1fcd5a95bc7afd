// Configs: the built-in ones load with the documented values; one that cannot work is
// refused with the parameter and the reason; the config hash is stable and covers exactly
// what changes behaviour.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "accel_test_util.h"
#include "kiln/accel/config.h"

namespace kiln::accel {
namespace {

// A built-in config's text with lines replaced (each must exist).
std::string edited(const std::string& config,
                   const std::vector<std::pair<std::string, std::string>>& edits) {
  for (const auto& [name, text] : Spec::builtinConfigs()) {
    if (name != config) continue;
    std::string s(text);
    for (const auto& [from, to] : edits) {
      size_t at = s.find(from);
      EXPECT_NE(at, std::string::npos) << "the test's edit '" << from << "' does not apply";
      if (at != std::string::npos) s.replace(at, from.size(), to);
    }
    return s;
  }
  ADD_FAILURE() << "no built-in config " << config;
  return "";
}

std::string edited(const std::string& config, const std::string& from, const std::string& to) {
  return edited(config, {{from, to}});
}

std::string refusal(const std::string& yaml) {
  Expected<Config> c = Config::parse(yaml, "edited.yaml");
  return c ? "accepted" : c.message();
}

TEST(Config, BuiltinsLoadWithTheirValues) {
  EXPECT_EQ(Config::builtinNames(), test::allConfigs());
  Config pynq = test::builtinConfig("pynq-z1");
  EXPECT_EQ(pynq.params().block_in, 16);
  EXPECT_EQ(pynq.params().acc_depth, 2048);
  EXPECT_EQ(pynq.value("inp_buffer_bytes"), 32 * 1024);
  EXPECT_EQ(pynq.value("wgt_buffer_bytes"), 256 * 1024);
  EXPECT_EQ(pynq.value("acc_buffer_bytes"), 128 * 1024);
  EXPECT_EQ(pynq.value("uop_buffer_bytes"), 8 * 1024);
  EXPECT_EQ(pynq.value("bram36_needed"), 120);
  EXPECT_EQ(pynq.text("part"), "xc7z020clg400-1");
  EXPECT_EQ(pynq.elementBytes(MemType::kWgt), 256);
  EXPECT_EQ(pynq.elementBytes(MemType::kAcc), 64);
  EXPECT_EQ(pynq.elementBytes(MemType::kAcc8), 16);
  EXPECT_EQ(pynq.elementBytes(MemType::kUop), 4);
  EXPECT_EQ(test::builtinConfig("small").params().block_out, 4);
  EXPECT_EQ(test::builtinConfig("ultrascale").params().block_out, 32);
  EXPECT_LE(test::builtinConfig("ultrascale").value("bram36_needed"),
            test::builtinConfig("ultrascale").value("bram36"));
  EXPECT_EQ(test::builtinConfig("ultrascale").value("wgt_in_uram"), 0)
      << "its 8192-bit weight tiles need 114 UltraRAMs; the part has 96";
  Config kv260 = test::builtinConfig("kv260");
  EXPECT_EQ(kv260.value("wgt_in_uram"), 1);
  EXPECT_EQ(kv260.value("uram_needed"), 29);
  EXPECT_EQ(kv260.value("bram36_needed"), 62);
}

TEST(Config, FindTakesANameOrAPath) {
  EXPECT_TRUE(Config::find("small").ok());
  Expected<Config> c = Config::find(KILN_SOURCE_DIR "/hw/configs/ultrascale.yaml");
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_EQ(c->name(), "ultrascale");
  Expected<Config> missing = Config::find("pynq-z9");
  EXPECT_NE(missing.message().find("neither a built-in config (pynq-z1, small, ultrascale, kv260)"),
            std::string::npos)
      << missing.message();
}

TEST(Config, RefusesOutOfRangeAndMalformedParameters) {
  std::string e = refusal(edited("pynq-z1", "  block_in: 16", "  block_in: 12"));
  EXPECT_NE(e.find("config edited.yaml: core.block_in: 12 is not a power of two"),
            std::string::npos)
      << e;
  e = refusal(edited("pynq-z1", "  inp_width: 8", "  inp_width: 4"));
  EXPECT_NE(e.find("core.inp_width: 4 is not supported; it must be 8"), std::string::npos) << e;
  e = refusal(edited("pynq-z1", "  batch: 1", "  batch: 32"));
  EXPECT_NE(e.find("core.batch: 32 is above the maximum 16"), std::string::npos) << e;
  e = refusal(edited("pynq-z1", "  uop_width: 32", "  uop_width: 48"));
  EXPECT_NE(e.find("buffers.uop_width: 48 is not one of 32, 64"), std::string::npos) << e;
  e = refusal(edited("pynq-z1", "  acc_depth: 2048", "  acc_depth: lots"));
  EXPECT_NE(e.find("buffers.acc_depth: expected an integer, got 'lots'"), std::string::npos) << e;
  e = refusal(edited("pynq-z1", "  acc_depth: 2048\n", ""));
  EXPECT_NE(e.find("buffers.acc_depth: missing (Accumulator tiles"), std::string::npos) << e;
  e = refusal(edited("pynq-z1", "  acc_depth: 2048", "  acc_depth: 2048\n  out_depth: 2048"));
  EXPECT_NE(e.find("buffers.out_depth: unknown parameter; buffers has inp_depth"),
            std::string::npos)
      << e;
  e = refusal(edited("pynq-z1", "core:", "kore:"));
  EXPECT_NE(e.find("unknown section 'kore'"), std::string::npos) << e;
  e = refusal(edited("pynq-z1", "name: pynq-z1", "name: PYNQ Z1"));
  EXPECT_NE(e.find("name 'PYNQ Z1' must be lower-case letters, digits and '-'"), std::string::npos)
      << e;
  e = refusal("core: [1, 2");
  EXPECT_NE(e.find("config edited.yaml: not valid YAML"), std::string::npos) << e;
}

TEST(Config, RefusesTilesThatAreNotWholeAxiBeats) {
  // A 1x4x4 core has 32-bit input tiles: a 64-bit AXI port cannot move one alone.
  std::string e = refusal(edited("small", "  axi_width: 32", "  axi_width: 64"));
  EXPECT_NE(e.find("interface.axi_width: an input tile is 32 bits (batch x block_in x "
                   "inp_width) and must be a whole number of 64-bit AXI beats"),
            std::string::npos)
      << e;
  e = refusal(edited("pynq-z1", "  axi_width: 64", "  axi_width: 512"));
  EXPECT_NE(e.find("interface.axi_width: an input tile is 128 bits"), std::string::npos) << e;
}

TEST(Config, RefusesBuffersLargerThanThePartHolds) {
  // 1 MiB of weights: 256 BRAM36 for the wgt buffer alone, on a part with 140.
  std::string e = refusal(edited("pynq-z1", "  wgt_depth: 1024", "  wgt_depth: 4096"));
  EXPECT_NE(e.find("buffers.inp_depth, buffers.wgt_depth, buffers.acc_depth, "
                   "buffers.uop_depth: the buffers and command queues need 312 BRAM36 blocks "
                   "(and 0 UltraRAMs) but xc7z020clg400-1 has 140"),
            std::string::npos)
      << e;
  // 512 KiB of weights (with micro-ops wide enough to index them) need 186 blocks: too many
  // for the Zynq-7020; on a part with 96 UltraRAMs the weight buffer moves to 29 of them and
  // the rest needs 58 blocks.
  std::vector<std::pair<std::string, std::string>> bigger = {
      {"  wgt_depth: 1024", "  wgt_depth: 2048"}, {"  uop_width: 32", "  uop_width: 64"}};
  e = refusal(edited("pynq-z1", bigger));
  EXPECT_NE(e.find("need 186 BRAM36 blocks (and 0 UltraRAMs) but xc7z020clg400-1 has 140"),
            std::string::npos)
      << e;
  bigger.push_back({"  uram: 0", "  uram: 96"});
  EXPECT_EQ(refusal(edited("pynq-z1", bigger)), "accepted");
  Expected<Config> moved = Config::parse(edited("pynq-z1", bigger), "edited");
  ASSERT_TRUE(moved) << moved.message();
  EXPECT_EQ(moved->value("wgt_in_uram"), 1);
  EXPECT_EQ(moved->value("uram_needed"), 29) << "2048 x 72-bit columns of 2048 bits: 29 URAM288";
  EXPECT_EQ(moved->value("bram36_needed"), 58);
}

TEST(Config, RefusesFieldsThatOverflowTheInstruction) {
  // 32768 micro-ops need 15-bit uop_begin and 16-bit uop_end: GEMM no longer fits 128 bits.
  std::string e = refusal(edited("ultrascale", "  uop_depth: 8192", "  uop_depth: 32768"));
  EXPECT_NE(e.find("the gemm instruction format needs 129 bits but an instruction has 128 "
                   "(uop_begin 15 = clog2(uop_depth), uop_end 16 = clog2(uop_depth) + 1"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("; make buffers.uop_depth, buffers.acc_depth, buffers.inp_depth or "
                   "buffers.wgt_depth smaller"),
            std::string::npos)
      << e;
}

TEST(Config, RefusesMicroOpsThatOverflowTheirWidth) {
  // 4096 accumulator and input tiles and 1024 weight tiles need 12 + 12 + 10 index bits.
  std::vector<std::pair<std::string, std::string>> deeper = {
      {"  inp_depth: 256", "  inp_depth: 4096"},
      {"  wgt_depth: 64", "  wgt_depth: 1024"},
      {"  acc_depth: 256", "  acc_depth: 4096"}};
  std::string e = refusal(edited("small", deeper));
  EXPECT_NE(e.find("buffers.uop_width: a micro-op needs 34 bits (acc_idx 12 + inp_idx 12 + "
                   "wgt_idx 10) but is 32; make buffers.acc_depth, buffers.inp_depth or "
                   "buffers.wgt_depth smaller, or widen the micro-op"),
            std::string::npos)
      << e;
  deeper.push_back({"  uop_width: 32", "  uop_width: 64"});
  EXPECT_EQ(refusal(edited("small", deeper)), "accepted");
}

TEST(ConfigHash, IsFnv1aFoldedTo32Bits) {
  EXPECT_EQ(configHash(""), 0x4fd0bfc1u);
  EXPECT_EQ(configHash("a"), 0x296230c0u);
  EXPECT_EQ(configHash("foobar"), 0x72ad2699u);
}

TEST(ConfigHash, IsStableForTheBuiltinConfigs) {
  // These values are in docs/accelerator-configs.md and in every package built for them;
  // a change here means every deployed package is refused. Change them only on purpose.
  EXPECT_EQ(test::builtinConfig("pynq-z1").hash(), 0x4e4da3dcu);
  EXPECT_EQ(test::builtinConfig("small").hash(), 0xce7feff3u);
  EXPECT_EQ(test::builtinConfig("ultrascale").hash(), 0x70051783u);
  EXPECT_EQ(test::builtinConfig("small").canonicalEncoding(),
            "kiln-accel isa=1\nbatch=1\nblock_in=4\nblock_out=4\ninp_width=8\nwgt_width=8\n"
            "acc_width=32\ninp_depth=256\nwgt_depth=64\nacc_depth=256\nuop_depth=128\n"
            "uop_width=32\naxi_width=32\ninsn_queue_depth=8\ntoken_queue_depth=4");
}

TEST(ConfigHash, CoversBehaviourNotTheBoard) {
  uint32_t base = test::builtinConfig("pynq-z1").hash();
  auto hashOf = [](const std::string& yaml) {
    Expected<Config> c = Config::parse(yaml, "edited.yaml");
    EXPECT_TRUE(c.ok()) << c.message();
    return c ? c->hash() : 0u;
  };
  EXPECT_EQ(hashOf(edited("pynq-z1", "  clock_mhz: 100", "  clock_mhz: 125")), base);
  EXPECT_EQ(hashOf(edited("pynq-z1", "  board: PYNQ-Z1 (also PYNQ-Z2)", "  board: Ultra96")), base);
  EXPECT_NE(hashOf(edited("pynq-z1", "  acc_depth: 2048", "  acc_depth: 1024")), base);
  EXPECT_NE(hashOf(edited("pynq-z1", "  token_queue_depth: 512", "  token_queue_depth: 256")), base)
      << "queue depths decide whether a stream deadlocks, so they are hashed";
}

}  // namespace
}  // namespace kiln::accel
