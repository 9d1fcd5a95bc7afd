// NDArray: a dense, row-major tensor value in host memory.
//
// The storage is shared between copies (like a reference-counted buffer); use clone()
// for a deep copy. Storage is 64-byte aligned so generated vector code may use it.
#pragma once

#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "kiln/runtime/dtype.h"
#include "kiln/runtime/error.h"

namespace kiln {

class NDArray {
 public:
  NDArray() = default;
  // Zero-filled array of the given type and shape.
  NDArray(DType dtype, Shape shape);

  template <typename T>
  static NDArray fromVector(Shape shape, const std::vector<T>& values) {
    NDArray a(dtypeOf<T>(), std::move(shape));
    if (static_cast<int64_t>(values.size()) != a.numel())
      throw Error("NDArray::fromVector: " + std::to_string(values.size()) + " values for shape " +
                  shapeStr(a.shape()));
    if constexpr (std::is_same_v<T, bool>) {
      for (size_t i = 0; i < values.size(); ++i) a.data<uint8_t>()[i] = values[i] ? 1 : 0;
    } else {
      std::memcpy(a.rawData(), values.data(), a.nbytes());
    }
    return a;
  }
  static NDArray scalar(float v) { return fromVector<float>({}, {v}); }

  bool defined() const { return buffer_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t numel() const { return shapeNumel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtypeSize(dtype_); }

  void* rawData() { return buffer_.get(); }
  const void* rawData() const { return buffer_.get(); }

  // Typed access; throws if T does not match the element type (bool is stored as uint8).
  template <typename T>
  T* data() {
    checkType<T>();
    return static_cast<T*>(rawData());
  }
  template <typename T>
  const T* data() const {
    checkType<T>();
    return static_cast<const T*>(rawData());
  }
  template <typename T>
  std::span<const T> values() const {
    return {data<T>(), static_cast<size_t>(numel())};
  }

  // Same storage, new shape with the same element count.
  NDArray reshaped(Shape shape) const;
  NDArray clone() const;
  // Converts element type (float <-> integer types truncate toward zero like a C cast).
  NDArray cast(DType to) const;
  // Elements as int64 (any integer type); used for shape tensors.
  std::vector<int64_t> toInt64Vector() const;
  // Elements as float (any numeric type).
  std::vector<float> toFloatVector() const;

 private:
  template <typename T>
  void checkType() const {
    constexpr bool isByte = std::is_same_v<T, uint8_t>;
    if (dtype_ == dtypeOf<T>() || (isByte && dtype_ == DType::Bool)) return;
    if (std::is_same_v<T, uint16_t> && dtype_ == DType::F16) return;
    throw Error("NDArray: element type is " + std::string(dtypeName(dtype_)) + ", accessed as " +
                std::string(dtypeName(dtypeOf<T>())));
  }

  DType dtype_ = DType::F32;
  Shape shape_;
  std::shared_ptr<uint8_t[]> buffer_;
};

}  // namespace kiln
