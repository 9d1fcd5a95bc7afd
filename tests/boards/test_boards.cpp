// Board descriptions: every board in boards/ loads and fits its accelerator config; broken
// descriptions are refused naming the file, the field and what to change.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "kiln/accel/config.h"
#include "kiln/boards/board.h"

namespace kiln::boards {
namespace {

std::string readBoardFile(const std::string& name) {
  Expected<Board> b = findBoard(name);
  EXPECT_TRUE(b) << b.message();
  std::ifstream f(b->origin);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << "test setup: '" << from << "' not in the board file";
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

void expectError(const std::string& yaml, std::initializer_list<const char*> parts) {
  Expected<Board> b = parseBoard(yaml, "test.yaml");
  ASSERT_FALSE(b) << "accepted a broken board";
  for (const char* p : parts)
    EXPECT_NE(b.message().find(p), std::string::npos)
        << "message lacks '" << p << "': " << b.message();
}

TEST(Boards, EveryBoardLoadsAndFitsItsConfig) {
  std::vector<std::string> names = boardNames();
  EXPECT_EQ(names,
            (std::vector<std::string>{"kv260", "pynq-z1", "pynq-z2", "ultra96-v2", "zcu104"}));
  for (const std::string& n : names) {
    Expected<Board> b = findBoard(n);
    ASSERT_TRUE(b) << b.message();
    EXPECT_EQ(b->name, n);
  }
  Expected<Board> z1 = findBoard("pynq-z1");
  EXPECT_EQ(z1->part, "xc7z020clg400-1");
  EXPECT_EQ(z1->cpu.arch, "armhf");
  EXPECT_EQ(z1->control.base, 0x43C00000u);
  EXPECT_EQ(z1->resources.bram36, 140);
}

TEST(Boards, UnknownBoardListsTheKnownOnes) {
  Expected<Board> b = findBoard("de10-nano");
  ASSERT_FALSE(b);
  EXPECT_NE(b.message().find("pynq-z1"), std::string::npos) << b.message();
}

TEST(Boards, ConfigTooLargeForThePart) {
  std::string y = replaced(readBoardFile("pynq-z1"), "config: pynq-z1", "config: ultrascale");
  expectError(y,
              {"test.yaml", "accelerator.config", "BRAM36", "xc7z020clg400-1", "smaller config"});
}

TEST(Boards, KV260CarriesAConfigThatFitsItsPart) {
  Expected<Board> kv = findBoard("kv260");
  ASSERT_TRUE(kv) << kv.message();
  EXPECT_EQ(kv->acceleratorConfig, "kv260");
  Expected<accel::Config> cfg = accel::Config::find("kv260");
  ASSERT_TRUE(cfg) << cfg.message();
  EXPECT_EQ(cfg->value("wgt_in_uram"), 1) << "the K26's weight buffer lives in UltraRAM";
  EXPECT_LE(cfg->value("uram_needed"), kv->resources.uram);
  EXPECT_LE(cfg->value("bram36_needed"), kv->resources.bram36);
  // What Yosys measured fits the part (loading checks it; these are the recorded figures).
  EXPECT_GT(kv->synthesis.lut, 0);
  EXPECT_LE(kv->synthesis.lut, kv->resources.lut);
  EXPECT_GE(kv->synthesis.uram, cfg->value("uram_needed"))
      << "Yosys put the weight buffer in UltraRAM (and, unasked, the 8192-deep micro-ops)";
  // The 1x32x32 design does not: its buffers alone need more block RAM than the K26 has.
  std::string y = replaced(readBoardFile("kv260"), "config: kv260", "config: ultrascale");
  expectError(y, {"accelerator.config", "'ultrascale' needs", "BRAM36", "xck26", "smaller config"});
}

TEST(Boards, MeasuredResourcesBeyondThePartAreRefused) {
  Expected<Board> z1 = findBoard("pynq-z1");
  ASSERT_TRUE(z1) << z1.message();
  std::string lut = "lut: " + std::to_string(z1->synthesis.lut);
  expectError(replaced(readBoardFile("pynq-z1"), lut, "lut: 60000"),
              {"accelerator.yosys.lut", "60000 LUTs", "53200", "smaller config"});
  expectError(replaced(readBoardFile("pynq-z1"), "yosys: {", "yosis: {"),
              {"accelerator.yosys.lut is missing"});
}

TEST(Boards, ControlWindowOutsideThePort) {
  std::string y = replaced(readBoardFile("pynq-z1"), "base: 0x43C00000", "base: 0x83C00000");
  expectError(y, {"axi.control.base", "outside M_AXI_GP0"});
}

TEST(Boards, WrongArchitectureForTheFamily) {
  std::string y = replaced(readBoardFile("zcu104"), "arch: aarch64", "arch: armhf");
  expectError(y, {"cpu.arch", "aarch64"});
}

TEST(Boards, ClockAndAxiWidthMustMatchTheConfig) {
  expectError(replaced(readBoardFile("kv260"), "mhz: 200}", "mhz: 250}"),
              {"clocks.fabric.mhz", "250", "200"});
  expectError(replaced(readBoardFile("kv260"), "data_width: 128", "data_width: 64"),
              {"axi.memory.data_width", "128-bit AXI master"});
}

TEST(Boards, MissingAndMalformedFields) {
  expectError(replaced(readBoardFile("pynq-z2"), "part: xc7z020clg400-1\n", ""),
              {"part is missing"});
  expectError(replaced(readBoardFile("pynq-z2"), "cores: 2", "cores: two"),
              {"cpu.cores must be an integer"});
  expectError("name: [unclosed", {"not valid YAML"});
  expectError(replaced(readBoardFile("pynq-z2"), "port: S_AXI_HP0", "port: S_AXI_HP9"),
              {"S_AXI_HP9", "not a PS slave port"});
}

}  // namespace
}  // namespace kiln::boards

namespace kiln::boards {
namespace {

// The Vivado flow run under plain tclsh (boards/vivado/dryrun.tcl) for every board: its Tcl
// executes for real, with each Vivado command recorded, and the flow must reach the bitstream
// with the PS ports the board names turned on.
TEST(VivadoFlow, DryRunsForEveryBoard) {
  if (std::system("tclsh < /dev/null > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "tclsh is not installed";
  const std::string src = KILN_SOURCE_DIR;
  for (const std::string& name : boardNames()) {
    Expected<Board> b = findBoard(name);
    ASSERT_TRUE(b) << b.message();
    VivadoInputs in{{src + "/hw/rtl/kiln_top.sv"},
                    "kiln_top",
                    "s_axi_ctrl",
                    "m_axi_mem",
                    (std::filesystem::temp_directory_path() / ("kiln-vivado-" + name)).string(),
                    2};
    std::filesystem::create_directories(in.outDir);
    std::string params = in.outDir + "/params.tcl";
    std::ofstream(params) << vivadoParams(*b, in);
    std::string cmd = "tclsh " + src + "/boards/vivado/dryrun.tcl " + src +
                      "/boards/vivado/build.tcl " + params + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int status = pclose(p);
    EXPECT_EQ(WEXITSTATUS(status), 0) << name << ":\n" << out;
    EXPECT_NE(out.find("flow complete"), std::string::npos) << name << ":\n" << out;
    const bool zynq7 = b->family == "zynq-7000";
    const std::string hp = zynq7 ? "CONFIG.PCW_USE_S_AXI_HP0 1" : "CONFIG.PSU__USE__S_AXI_GP2 1";
    EXPECT_NE(out.find(hp), std::string::npos) << name << " does not enable its memory port:\n"
                                               << out;
    const std::string width = zynq7 ? "PCW_S_AXI_HP0_DATA_WIDTH " : "PSU__SAXIGP2__DATA_WIDTH ";
    EXPECT_NE(out.find(width + std::to_string(b->memoryDataWidth)), std::string::npos) << out;
  }
}

TEST(VivadoFlow, ParamsQuoteTclSpecialCharacters) {
  Expected<Board> b = findBoard("pynq-z1");
  ASSERT_TRUE(b);
  VivadoInputs in{{"/tmp/odd [dir]/$x.sv"}, "kiln_top", "s", "m", "/tmp/out dir", 1};
  std::string p = vivadoParams(*b, in);
  EXPECT_NE(p.find("\"/tmp/odd \\[dir\\]/\\$x.sv\""), std::string::npos) << p;
  EXPECT_NE(p.find("set kiln(control_base) \"0x43C00000\""), std::string::npos) << p;
}

}  // namespace
}  // namespace kiln::boards
