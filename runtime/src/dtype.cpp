// Element types: names, sizes, half-precision conversion.
#include "kiln/runtime/dtype.h"

#include <bit>
#include <cmath>

#include "kiln/runtime/error.h"

namespace kiln {

size_t dtypeSize(DType t) {
  switch (t) {
    case DType::F32:
      return 4;
    case DType::F16:
      return 2;
    case DType::I8:
      return 1;
    case DType::U8:
      return 1;
    case DType::I32:
      return 4;
    case DType::I64:
      return 8;
    case DType::Bool:
      return 1;
  }
  return 0;
}

std::string_view dtypeName(DType t) {
  switch (t) {
    case DType::F32:
      return "f32";
    case DType::F16:
      return "f16";
    case DType::I8:
      return "i8";
    case DType::U8:
      return "u8";
    case DType::I32:
      return "i32";
    case DType::I64:
      return "i64";
    case DType::Bool:
      return "bool";
  }
  return "?";
}

DType parseDType(std::string_view name) {
  for (DType t :
       {DType::F32, DType::F16, DType::I8, DType::U8, DType::I32, DType::I64, DType::Bool})
    if (dtypeName(t) == name) return t;
  throw Error("unknown element type '" + std::string(name) +
              "' (expected one of f32, f16, i8, u8, i32, i64, bool)");
}

int64_t shapeNumel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shapeStr(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0)
    v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31)
    v = mant ? NAN : INFINITY;
  else
    v = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

uint16_t floatToHalf(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  uint32_t absx = x & 0x7fffffff;
  if (absx >= 0x7f800000) return sign | (absx > 0x7f800000 ? 0x7e00 : 0x7c00);  // NaN / Inf
  if (absx >= 0x477ff000) return sign | 0x7c00;                                 // overflow
  if (absx < 0x38800000) {                                                      // subnormal
    float a = std::bit_cast<float>(absx);
    return sign | static_cast<uint16_t>(std::nearbyint(a * 16777216.0f));  // 2^24
  }
  uint32_t mant = absx & 0x7fffff;
  int32_t exp = static_cast<int32_t>(absx >> 23) - 127 + 15;
  uint32_t half = (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;  // round to nearest even
  return sign | static_cast<uint16_t>(half);
}

}  // namespace kiln
