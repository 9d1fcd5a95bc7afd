// NDArray, dtypes and the .npy reader/writer.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "kiln/runtime/npy.h"

namespace kiln {
namespace {

TEST(NDArray, ReshapeSharesStorageAndChecksCount) {
  NDArray a = NDArray::fromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  NDArray b = a.reshaped({3, 2});
  b.data<float>()[0] = 42;
  EXPECT_EQ(a.data<float>()[0], 42);
  EXPECT_THROW(a.reshaped({4, 2}), Error);
}

TEST(NDArray, TypedAccessChecksType) {
  NDArray a(DType::I64, {2});
  EXPECT_THROW(a.data<float>(), Error);
  EXPECT_NO_THROW(a.data<int64_t>());
}

TEST(NDArray, CastFollowsCSemantics) {
  NDArray a = NDArray::fromVector<float>({4}, {1.9f, -1.9f, 0.0f, 300.0f});
  auto i = a.cast(DType::I64).toInt64Vector();
  EXPECT_EQ(i, (std::vector<int64_t>{1, -1, 0, 300}));
  NDArray b = a.cast(DType::Bool);
  EXPECT_EQ(b.data<uint8_t>()[2], 0);
  EXPECT_EQ(b.data<uint8_t>()[0], 1);
}

TEST(DType, HalfRoundTrip) {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f})
    EXPECT_EQ(halfToFloat(floatToHalf(f)), f) << f;
  EXPECT_EQ(floatToHalf(1.0f + 1.0f / 4096), floatToHalf(1.0f));  // rounds to nearest even
  EXPECT_TRUE(std::isinf(halfToFloat(floatToHalf(1e6f))));
}

TEST(Npy, RoundTripsEveryDType) {
  auto dir = std::filesystem::temp_directory_path();
  for (DType t :
       {DType::F32, DType::F16, DType::I8, DType::U8, DType::I32, DType::I64, DType::Bool}) {
    NDArray a = NDArray::fromVector<float>({2, 1, 3}, {1, 0, 3, 4, 5, 6}).cast(t);
    std::string path = (dir / ("kiln_npy_" + std::string(dtypeName(t)) + ".npy")).string();
    writeNpy(path, a);
    NDArray b = readNpy(path);
    EXPECT_EQ(b.dtype(), t);
    EXPECT_EQ(b.shape(), a.shape());
    EXPECT_EQ(std::memcmp(a.rawData(), b.rawData(), a.nbytes()), 0) << dtypeName(t);
  }
  NDArray s = NDArray::scalar(3.5f);
  std::string path = (dir / "kiln_npy_scalar.npy").string();
  writeNpy(path, s);
  EXPECT_EQ(readNpy(path).shape(), Shape{});
}

TEST(Npy, RejectsTruncatedAndForeignFiles) {
  auto dir = std::filesystem::temp_directory_path();
  std::string path = (dir / "kiln_npy_trunc.npy").string();
  writeNpy(path, NDArray(DType::F32, {100}));
  std::filesystem::resize_file(path, 200);
  try {
    readNpy(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  std::string other = (dir / "kiln_npy_other.npy").string();
  std::ofstream(other) << "hello";
  EXPECT_THROW(readNpy(other), Error);
}

}  // namespace
}  // namespace kiln
