// Image preprocessing on synthetic pictures (no decoder needed, so it runs on every build).
#include <gtest/gtest.h>

#include "kiln/runtime/image.h"

namespace kiln {
namespace {

Image gradient(int64_t h, int64_t w) {
  Image img;
  img.height = h;
  img.width = w;
  img.rgb.resize(static_cast<size_t>(h * w * 3));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        img.rgb[(y * w + x) * 3 + c] = static_cast<uint8_t>(10 * x + 20 * y + c);
  return img;
}

TEST(Image, TfPresetWithAlignedCornersKeepsTheCorners) {
  Image img = gradient(3, 5);
  NDArray t = imageToTensor(img, 5, 9, Preprocess::preset("tf"));
  ASSERT_EQ(t.shape(), (Shape{1, 5, 9, 3}));
  const float* p = t.data<float>();
  // Aligned corners: output corners sample input corners exactly.
  EXPECT_FLOAT_EQ(p[0], 0.0f / 255.0f);
  EXPECT_FLOAT_EQ(p[(4 * 9 + 8) * 3 + 2], static_cast<float>(10 * 4 + 20 * 2 + 2) / 255.0f);
  // Halfway between two input columns: the mean of their values.
  EXPECT_NEAR(p[(0 * 9 + 1) * 3], (0.0f + 10.0f) / 2 / 255.0f, 1e-7);
}

TEST(Image, ImagenetPresetNormalisesAndLaysOutNchw) {
  Image img = gradient(8, 8);
  Preprocess pp = Preprocess::preset("imagenet");
  pp.resizeShorter = 8;
  NDArray t = imageToTensor(img, 8, 8, pp);
  ASSERT_EQ(t.shape(), (Shape{1, 3, 8, 8}));
  // Pixel (0,0) of channel 1 is 1/255, normalised with ImageNet's mean and std.
  EXPECT_NEAR(t.data<float>()[64], (1.0f / 255.0f - 0.456f) / 0.224f, 1e-6);
}

TEST(Image, UnknownPresetIsAnError) {
  EXPECT_THROW(Preprocess::preset("caffe"), Error);
}

}  // namespace
}  // namespace kiln
