// Helpers for the Verilator testbenches of the RTL: moving tiles (byte arrays, little-endian,
// element 0 in the low bits) in and out of ports of any width, and clocking a model.
#pragma once

#include <verilated.h>

#include "kiln/sim/verilator_ports.h"

#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

namespace kiln::rtl_test {

using kiln::sim::getBytes;
using kiln::sim::setBytes;

template <typename T>
std::span<const uint8_t> asBytes(std::span<T> s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size_bytes()};
}

}  // namespace kiln::rtl_test
