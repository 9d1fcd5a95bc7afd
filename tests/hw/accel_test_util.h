// Helpers shared by the accelerator tests: built-in configs, streams written as assembly,
// and DRAM images written element by element.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/accel/assembler.h"
#include "kiln/accel/config.h"
#include "kiln/accel/reference.h"

namespace kiln::accel::test {

inline const std::vector<std::string>& allConfigs() {
  static const std::vector<std::string> kNames = {"pynq-z1", "small", "ultrascale", "kv260"};
  return kNames;
}

inline Config builtinConfig(std::string_view name) {
  Expected<Config> c = Config::builtin(name);
  if (!c) ADD_FAILURE() << "built-in config " << name << ": " << c.message();
  return std::move(c.value());
}

// A stream written in assembly; a parse error fails the test.
inline std::vector<Insn> assembly(const Config& config, std::string_view text) {
  Expected<std::vector<Insn>> insns = parseAssembly(text, config);
  if (!insns) ADD_FAILURE() << "assembly does not parse: " << insns.message();
  return insns ? *insns : std::vector<Insn>{};
}

inline void putBytes(Machine& m, size_t offset, const std::vector<int8_t>& bytes) {
  for (size_t i = 0; i < bytes.size(); ++i) m.dram()[offset + i] = static_cast<uint8_t>(bytes[i]);
}

inline void putInt32s(Machine& m, size_t offset, const std::vector<int32_t>& values) {
  for (size_t i = 0; i < values.size(); ++i)
    for (int b = 0; b < 4; ++b)
      m.dram()[offset + 4 * i + b] =
          static_cast<uint8_t>(static_cast<uint32_t>(values[i]) >> (8 * b));
}

// Micro-ops as DRAM elements starting at element `first`.
inline void putUops(Machine& m, size_t first, const std::vector<Uop>& uops) {
  const Config& c = m.config();
  size_t bytes = static_cast<size_t>(c.elementBytes(MemType::kUop));
  for (size_t i = 0; i < uops.size(); ++i) {
    uint64_t word = encodeUop(c.layout(), uops[i]);
    for (size_t b = 0; b < bytes; ++b)
      m.dram()[(first + i) * bytes + b] = static_cast<uint8_t>(word >> (8 * b));
  }
}

// Runs a stream that must succeed.
inline RunStats runOk(Machine& m, const std::vector<Insn>& stream) {
  Expected<RunStats> r = m.run(stream);
  if (!r) ADD_FAILURE() << "the stream faulted: " << r.message();
  return r ? *r : RunStats{};
}

}  // namespace kiln::accel::test
