// The spec names of the library's symbolic enums, in enumerator order, and the lookup from
// a name back to its enumerator. The spec parser uses these to bind the spec's entries to
// what the reference implements.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "kiln/accel/isa.h"

namespace kiln::accel::names {

inline constexpr std::array<std::string_view, kNumOpcodes> kOpcodes = {"LOAD", "STORE", "GEMM",
                                                                       "FINISH", "ALU"};
inline constexpr std::array<std::string_view, kNumMemTypes> kMemTypes = {"uop", "wgt", "inp",
                                                                         "acc", "out", "acc8"};
inline constexpr std::array<std::string_view, kNumAluOps> kAluOps = {"MIN", "MAX", "ADD",    "SHR",
                                                                     "MUL", "MAC", "REQUANT"};
inline constexpr std::array<std::string_view, kNumModules> kModules = {"fetch", "load", "compute",
                                                                       "store"};
inline constexpr std::array<std::string_view, kNumInsnFields> kInsnFields = {"opcode",
                                                                             "pop_prev",
                                                                             "pop_next",
                                                                             "push_prev",
                                                                             "push_next",
                                                                             "memory_type",
                                                                             "sram_base",
                                                                             "dram_base",
                                                                             "y_size",
                                                                             "x_size",
                                                                             "x_stride",
                                                                             "y_pad_0",
                                                                             "y_pad_1",
                                                                             "x_pad_0",
                                                                             "x_pad_1",
                                                                             "reset",
                                                                             "uop_begin",
                                                                             "uop_end",
                                                                             "iter_out",
                                                                             "iter_in",
                                                                             "acc_factor_out",
                                                                             "acc_factor_in",
                                                                             "inp_factor_out",
                                                                             "inp_factor_in",
                                                                             "wgt_factor_out",
                                                                             "wgt_factor_in",
                                                                             "alu_op",
                                                                             "use_imm",
                                                                             "imm"};
inline constexpr std::array<std::string_view, kNumUopFields> kUopFields = {"acc_idx", "inp_idx",
                                                                           "wgt_idx"};

template <typename E, size_t N>
std::optional<E> lookup(const std::array<std::string_view, N>& table, std::string_view name) {
  for (size_t i = 0; i < N; ++i)
    if (table[i] == name) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace kiln::accel::names
