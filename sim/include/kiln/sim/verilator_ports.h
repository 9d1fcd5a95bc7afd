// Moving byte arrays (little-endian, element 0 in the low bits) in and out of the ports of a
// Verilated model, whatever their width. Shared by the sim-rtl back end and the RTL testbenches.
#pragma once

#include <verilated.h>

#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

namespace kiln::sim {

// A port narrower than 65 bits is an integer; a wider one a VlWide of 32-bit words.
template <typename Port>
void setBytes(Port& port, std::span<const uint8_t> bytes) {
  if constexpr (std::is_integral_v<Port>) {
    uint64_t v = 0;
    for (size_t i = 0; i < bytes.size() && i < sizeof(uint64_t); ++i)
      v |= uint64_t{bytes[i]} << (8 * i);
    port = static_cast<Port>(v);
  } else {
    for (size_t w = 0; w < std::size(port.m_storage); ++w) {
      uint32_t v = 0;
      for (size_t b = 0; b < 4 && w * 4 + b < bytes.size(); ++b)
        v |= uint32_t{bytes[w * 4 + b]} << (8 * b);
      port[w] = v;
    }
  }
}

template <typename Port>
std::vector<uint8_t> getBytes(const Port& port, size_t n) {
  std::vector<uint8_t> out(n);
  if constexpr (std::is_integral_v<Port>) {
    uint64_t v = static_cast<uint64_t>(port);
    for (size_t i = 0; i < n && i < sizeof(uint64_t); ++i)
      out[i] = static_cast<uint8_t>(v >> (8 * i));
  } else {
    for (size_t i = 0; i < n && i / 4 < std::size(port.m_storage); ++i)
      out[i] = static_cast<uint8_t>(port[i / 4] >> (8 * (i % 4)));
  }
  return out;
}

}  // namespace kiln::sim
