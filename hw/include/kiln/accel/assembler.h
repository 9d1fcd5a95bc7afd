// The text form of instruction streams: one instruction per line, the opcode followed by
// `field=value` pairs named as in the spec (see docs/accelerator-isa.md, "Assembly").
//
// assemble() and disassemble() convert between that text and the binary stream of
// little-endian instruction words; disassemble(assemble(t)) is canonical and assembling it
// again gives the same bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/accel/config.h"
#include "kiln/accel/isa.h"

namespace kiln::accel {

// Errors name the line and the field at fault.
Expected<std::vector<Insn>> parseAssembly(std::string_view text, const Config& config);
Expected<std::vector<uint8_t>> assemble(std::string_view text, const Config& config);

// One instruction as a line of assembly (without a newline).
std::string formatInsn(const Insn& insn, const Config& config);
// Errors name the instruction that does not decode.
Expected<std::string> disassemble(std::span<const uint8_t> bytes, const Config& config);

}  // namespace kiln::accel
