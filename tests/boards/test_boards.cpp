// Board descriptions: every board in boards/ loads and fits its accelerator config; broken
// descriptions are refused naming the file, the field and what to change.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

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
  for (const char* p : parts) EXPECT_NE(b.message().find(p), std::string::npos) << "message lacks '" << p << "': " << b.message();
}

TEST(Boards, EveryBoardLoadsAndFitsItsConfig) {
  std::vector<std::string> names = boardNames();
  EXPECT_EQ(names, (std::vector<std::string>{"kv260", "pynq-z1", "pynq-z2", "ultra96-v2", "zcu104"}));
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
  expectError(y, {"test.yaml", "accelerator.config", "BRAM36", "xc7z020clg400-1", "smaller config"});
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
  expectError(replaced(readBoardFile("kv260"), "mhz: 200}", "mhz: 250}"), {"clocks.fabric.mhz", "250", "200"});
  expectError(replaced(readBoardFile("kv260"), "data_width: 128", "data_width: 64"),
              {"axi.memory.data_width", "128-bit AXI master"});
}

TEST(Boards, MissingAndMalformedFields) {
  expectError(replaced(readBoardFile("pynq-z2"), "part: xc7z020clg400-1\n", ""), {"part is missing"});
  expectError(replaced(readBoardFile("pynq-z2"), "cores: 2", "cores: two"), {"cpu.cores must be an integer"});
  expectError("name: [unclosed", {"not valid YAML"});
  expectError(replaced(readBoardFile("pynq-z2"), "port: S_AXI_HP0", "port: S_AXI_HP9"), {"S_AXI_HP9", "not a PS slave port"});
}

}  // namespace
}  // namespace kiln::boards
