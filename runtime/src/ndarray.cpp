// NDArray storage, reshaping and element-type conversion.
#include "kiln/runtime/ndarray.h"

#include <cmath>
#include <new>

namespace kiln {

namespace {
std::shared_ptr<uint8_t[]> allocate(size_t bytes) {
  size_t padded = (bytes + 63) / 64 * 64;
  if (padded == 0) padded = 64;
  auto* p = static_cast<uint8_t*>(::operator new[](padded, std::align_val_t(64)));
  std::memset(p, 0, padded);
  return std::shared_ptr<uint8_t[]>(
      p, [](uint8_t* q) { ::operator delete[](q, std::align_val_t(64)); });
}

double loadAsDouble(const NDArray& a, int64_t i) {
  const void* p = a.rawData();
  switch (a.dtype()) {
    case DType::F32:
      return static_cast<const float*>(p)[i];
    case DType::F16:
      return halfToFloat(static_cast<const uint16_t*>(p)[i]);
    case DType::I8:
      return static_cast<const int8_t*>(p)[i];
    case DType::U8:
      return static_cast<const uint8_t*>(p)[i];
    case DType::Bool:
      return static_cast<const uint8_t*>(p)[i] ? 1 : 0;
    case DType::I32:
      return static_cast<const int32_t*>(p)[i];
    case DType::I64:
      return static_cast<double>(static_cast<const int64_t*>(p)[i]);
  }
  return 0;
}
}  // namespace

NDArray::NDArray(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  for (int64_t d : shape_)
    if (d < 0) throw Error("NDArray: negative dimension in shape " + shapeStr(shape_));
  buffer_ = allocate(nbytes());
}

NDArray NDArray::reshaped(Shape shape) const {
  if (shapeNumel(shape) != numel())
    throw Error("cannot reshape " + shapeStr(shape_) + " to " + shapeStr(shape));
  NDArray r = *this;
  r.shape_ = std::move(shape);
  return r;
}

NDArray NDArray::clone() const {
  NDArray r(dtype_, shape_);
  if (nbytes()) std::memcpy(r.rawData(), rawData(), nbytes());
  return r;
}

NDArray NDArray::cast(DType to) const {
  if (to == dtype_) return clone();
  NDArray r(to, shape_);
  const int64_t n = numel();
  // Integer sources go through int64 so large i64 values are exact.
  bool intSrc = dtype_ == DType::I64 || dtype_ == DType::I32 || dtype_ == DType::I8 ||
                dtype_ == DType::U8 || dtype_ == DType::Bool;
  for (int64_t i = 0; i < n; ++i) {
    double v = loadAsDouble(*this, i);
    int64_t iv = intSrc && dtype_ == DType::I64 ? data<int64_t>()[i] : 0;
    void* q = r.rawData();
    switch (to) {
      case DType::F32:
        static_cast<float*>(q)[i] = static_cast<float>(v);
        break;
      case DType::F16:
        static_cast<uint16_t*>(q)[i] = floatToHalf(static_cast<float>(v));
        break;
      case DType::Bool:
        static_cast<uint8_t*>(q)[i] = v != 0;
        break;
      case DType::I64:
        static_cast<int64_t*>(q)[i] = dtype_ == DType::I64 ? iv
                                      : std::isfinite(v)   ? static_cast<int64_t>(v)
                                                           : 0;
        break;
      default: {
        // Narrow integer targets wrap like a C cast from int64 (ONNX Cast semantics).
        int64_t w = dtype_ == DType::I64 ? iv : std::isfinite(v) ? static_cast<int64_t>(v) : 0;
        if (to == DType::I32) static_cast<int32_t*>(q)[i] = static_cast<int32_t>(w);
        if (to == DType::I8) static_cast<int8_t*>(q)[i] = static_cast<int8_t>(w);
        if (to == DType::U8) static_cast<uint8_t*>(q)[i] = static_cast<uint8_t>(w);
      }
    }
  }
  return r;
}

std::vector<int64_t> NDArray::toInt64Vector() const {
  if (dtype_ == DType::F32 || dtype_ == DType::F16)
    throw Error("expected an integer tensor, got " + std::string(dtypeName(dtype_)));
  NDArray c = dtype_ == DType::I64 ? *this : cast(DType::I64);
  auto v = c.values<int64_t>();
  return {v.begin(), v.end()};
}

std::vector<float> NDArray::toFloatVector() const {
  NDArray c = dtype_ == DType::F32 ? *this : cast(DType::F32);
  auto v = c.values<float>();
  return {v.begin(), v.end()};
}

}  // namespace kiln
