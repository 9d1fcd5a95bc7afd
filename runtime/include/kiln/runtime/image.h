// Image decoding (PNG, JPEG) and classifier-style preprocessing into an input tensor.
#pragma once

#include <array>
#include <string>

#include "kiln/runtime/ndarray.h"

namespace kiln {

// An 8-bit RGB image, row-major, HxWx3.
struct Image {
  int64_t height = 0, width = 0;
  std::vector<uint8_t> rgb;
};

// Decodes a PNG or JPEG (by content, not extension); grey and alpha are converted to RGB.
// Throws kiln::Error naming the file and what is wrong with it.
Image loadImage(const std::string& path);

// Bilinear resize. halfPixel=true samples at pixel centres (OpenCV/PyTorch convention);
// false is TensorFlow's resize_bilinear(align_corners=false, half_pixel_centers=false).
Image resizeBilinear(const Image& img, int64_t height, int64_t width, bool halfPixel);

// How an image becomes a model input. Two presets cover the usual classifiers:
//   "imagenet": shorter side to 256, centre crop to the model's size, (x/255 - mean)/std, NCHW
//   "tf":       x/255, then TF.js resizeBilinear(alignCorners=true) straight to the model's
//               size (skipped when the image already has it), NHWC — as TF.js image
//               classifiers (e.g. nsfwjs) prepare their input
struct Preprocess {
  int64_t resizeShorter = 256;  // 0: resize straight to the target size
  bool tfResize = false;        // TF.js float resize with aligned corners (see above)
  float divisor = 255.0f;       // pixel values are divided by this first
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> stddev{0.229f, 0.224f, 0.225f};
  bool nhwc = false;
  bool bgr = false;

  // Throws kiln::Error for an unknown preset name.
  static Preprocess preset(const std::string& name);
};

// Produces a 1xCxHxW (or 1xHxWxC) float tensor of the given spatial size.
NDArray imageToTensor(const Image& img, int64_t height, int64_t width, const Preprocess& pp);

}  // namespace kiln
