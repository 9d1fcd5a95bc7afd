// Element types of tensors, shared by the compiler and the runtime.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

enum class DType : uint8_t { F32, F16, I8, U8, I32, I64, Bool };

size_t dtypeSize(DType t);
std::string_view dtypeName(DType t);
// Parses "f32", "i64", ...; throws kiln::Error naming the accepted spellings.
DType parseDType(std::string_view name);

using Shape = std::vector<int64_t>;

// Number of elements; 1 for a scalar (empty shape).
int64_t shapeNumel(const Shape& shape);
// "[1,3,224,224]"
std::string shapeStr(const Shape& shape);

template <typename T>
constexpr DType dtypeOf();
template <>
constexpr DType dtypeOf<float>() {
  return DType::F32;
}
template <>
constexpr DType dtypeOf<int8_t>() {
  return DType::I8;
}
template <>
constexpr DType dtypeOf<uint8_t>() {
  return DType::U8;
}
template <>
constexpr DType dtypeOf<int32_t>() {
  return DType::I32;
}
template <>
constexpr DType dtypeOf<int64_t>() {
  return DType::I64;
}
template <>
constexpr DType dtypeOf<bool>() {
  return DType::Bool;
}
// F16 elements are accessed as their raw 16-bit patterns.
template <>
constexpr DType dtypeOf<uint16_t>() {
  return DType::F16;
}

// IEEE half <-> float conversion (round to nearest even).
float halfToFloat(uint16_t h);
uint16_t floatToHalf(float f);

}  // namespace kiln
