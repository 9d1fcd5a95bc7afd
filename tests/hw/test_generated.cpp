// What is generated from the spec: the committed reference pages are current, the library
// embeds the spec and configs as they are in hw/, and each SystemVerilog package carries its
// config's hash and layout as plain localparams.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "accel_test_util.h"
#include "generate.h"

namespace kiln::accel {
namespace {

std::string readSource(const std::string& path) {
  std::ifstream in(std::string(KILN_SOURCE_DIR) + "/" + path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<Config> builtinConfigs() {
  std::vector<Config> configs;
  for (const std::string& name : test::allConfigs()) configs.push_back(test::builtinConfig(name));
  return configs;
}

TEST(Generated, TheReferencePagesAreUpToDate) {
  const char* kHint = " is out of date: regenerate it with the hw-docs target";
  EXPECT_TRUE(readSource("docs/accelerator-isa.md") ==
              gen::isaPage(*Spec::builtin(), builtinConfigs()))
      << "docs/accelerator-isa.md" << kHint;
  EXPECT_TRUE(readSource("docs/accelerator-configs.md") ==
              gen::configsPage(*Spec::builtin(), builtinConfigs()))
      << "docs/accelerator-configs.md" << kHint;
}

TEST(Generated, TheLibraryEmbedsTheSpecAndConfigsAsTheyAre) {
  EXPECT_TRUE(readSource("hw/spec/accel.yaml") == Spec::builtinText())
      << "the embedded spec differs from hw/spec/accel.yaml: rebuild kiln_accel";
  for (const auto& [name, text] : Spec::builtinConfigs())
    EXPECT_TRUE(readSource("hw/configs/" + name + ".yaml") == text)
        << "the embedded config " << name << " differs from its file: rebuild kiln_accel";
}

TEST(Generated, PackagesHoldPlainLocalparamsWithTheConfigHash) {
  for (const Config& c : builtinConfigs()) {
    std::string sv = gen::svPackage(c);
    char hash[16];
    snprintf(hash, sizeof hash, "32'h%08x;", c.hash());
    EXPECT_NE(sv.find(std::string("localparam logic [31:0] CONFIG_HASH = ") + hash),
              std::string::npos)
        << c.name();
    EXPECT_NE(sv.find("package kiln_accel_pkg;"), std::string::npos) << c.name();
    const Field& sram = *c.layout().format(Opcode::kLoad).find(InsnField::kSramBase);
    EXPECT_NE(
        sv.find("localparam int unsigned MEMORY_SRAM_BASE_LSB = " + std::to_string(sram.lsb) + ";"),
        std::string::npos)
        << c.name();
    EXPECT_NE(
        sv.find("localparam int unsigned MEMORY_SRAM_BASE_W = " + std::to_string(sram.width) + ";"),
        std::string::npos)
        << c.name();
    // What Yosys 0.23 rejects, and what would force consumers to import the package.
    for (const char* banned : {"import ", "typedef ", "struct ", "enum ", "parameter type"})
      EXPECT_EQ(sv.find(banned), std::string::npos) << c.name() << " uses " << banned;
    std::istringstream lines(sv);
    std::string line;
    while (std::getline(lines, line)) EXPECT_LE(line.size(), 100u) << c.name() << ": " << line;
  }
}

}  // namespace
}  // namespace kiln::accel
