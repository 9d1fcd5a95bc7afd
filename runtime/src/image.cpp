// PNG (libpng) and JPEG (libjpeg) decoding and classifier preprocessing.
#include "kiln/runtime/image.h"

#include <jpeglib.h>
#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace kiln {

namespace {

std::vector<uint8_t> readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open image");
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

Image decodePng(const std::vector<uint8_t>& bytes, const std::string& path) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&img, bytes.data(), bytes.size()))
    throw Error(path + ": invalid PNG: " + img.message);
  img.format = PNG_FORMAT_RGB;
  Image out;
  out.height = img.height;
  out.width = img.width;
  out.rgb.resize(PNG_IMAGE_SIZE(img));
  // Composite any alpha over white, like a browser showing the picture.
  png_color white{255, 255, 255};
  if (!png_image_finish_read(&img, &white, out.rgb.data(), 0, nullptr)) {
    std::string msg = img.message;
    png_image_free(&img);
    throw Error(path + ": invalid PNG: " + msg);
  }
  return out;
}

struct JpegErr {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

Image decodeJpeg(const std::vector<uint8_t>& bytes, const std::string& path) {
  jpeg_decompress_struct cinfo{};
  JpegErr err{};
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = [](j_common_ptr c) {
    auto* e = reinterpret_cast<JpegErr*>(c->err);
    (*c->err->format_message)(c, e->message);
    longjmp(e->jump, 1);
  };
  err.mgr.output_message = [](j_common_ptr) {};
  Image out;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    throw Error(path + ": invalid JPEG: " + err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), bytes.size());
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  out.height = cinfo.output_height;
  out.width = cinfo.output_width;
  out.rgb.resize(static_cast<size_t>(out.height * out.width * 3));
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.rgb.data() + static_cast<size_t>(cinfo.output_scanline) * out.width * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return out;
}

}  // namespace

Image loadImage(const std::string& path) {
  std::vector<uint8_t> bytes = readFile(path);
  if (bytes.size() >= 8 && png_sig_cmp(bytes.data(), 0, 8) == 0) return decodePng(bytes, path);
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
    return decodeJpeg(bytes, path);
  throw Error(path + ": not a PNG or JPEG image");
}

Image resizeBilinear(const Image& img, int64_t height, int64_t width, bool halfPixel) {
  if (img.height <= 0 || img.width <= 0 || height <= 0 || width <= 0)
    throw Error("resizeBilinear: empty image or target size");
  Image out;
  out.height = height;
  out.width = width;
  out.rgb.resize(static_cast<size_t>(height * width * 3));
  const double sy = static_cast<double>(img.height) / height;
  const double sx = static_cast<double>(img.width) / width;
  auto coord = [&](int64_t o, double s, int64_t n, int64_t& i0, int64_t& i1, double& f) {
    double c = halfPixel ? (o + 0.5) * s - 0.5 : o * s;
    c = std::clamp(c, 0.0, static_cast<double>(n - 1));
    i0 = static_cast<int64_t>(std::floor(c));
    i1 = std::min(i0 + 1, n - 1);
    f = c - i0;
  };
  for (int64_t y = 0; y < height; ++y) {
    int64_t y0, y1;
    double fy;
    coord(y, sy, img.height, y0, y1, fy);
    for (int64_t x = 0; x < width; ++x) {
      int64_t x0, x1;
      double fx;
      coord(x, sx, img.width, x0, x1, fx);
      for (int c = 0; c < 3; ++c) {
        auto px = [&](int64_t yy, int64_t xx) { return img.rgb[(yy * img.width + xx) * 3 + c]; };
        double top = px(y0, x0) * (1 - fx) + px(y0, x1) * fx;
        double bot = px(y1, x0) * (1 - fx) + px(y1, x1) * fx;
        double v = top * (1 - fy) + bot * fy;
        out.rgb[(y * width + x) * 3 + c] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
  return out;
}

Preprocess Preprocess::preset(const std::string& name) {
  Preprocess p;
  if (name == "imagenet") return p;
  if (name == "tf") {
    p.resizeShorter = 0;
    p.tfResize = true;
    p.mean = {0, 0, 0};
    p.stddev = {1, 1, 1};
    p.nhwc = true;
    return p;
  }
  throw Error("unknown preprocessing preset '" + name + "' (expected imagenet or tf)");
}

NDArray imageToTensor(const Image& img, int64_t height, int64_t width, const Preprocess& pp) {
  if (img.height <= 0 || img.width <= 0) throw Error("imageToTensor: empty image");
  std::vector<float> src;  // float RGB HxWx3 at the target size
  if (pp.resizeShorter > 0) {
    // Resize the shorter side, then take the centre crop.
    double s = static_cast<double>(pp.resizeShorter) / std::min(img.height, img.width);
    int64_t rh = std::max<int64_t>(height, std::lround(img.height * s));
    int64_t rw = std::max<int64_t>(width, std::lround(img.width * s));
    Image r = resizeBilinear(img, rh, rw, !pp.tfResize);
    int64_t oy = (rh - height) / 2, ox = (rw - width) / 2;
    src.resize(static_cast<size_t>(height * width * 3));
    for (int64_t y = 0; y < height; ++y)
      for (int64_t x = 0; x < width; ++x)
        for (int c = 0; c < 3; ++c)
          src[(y * width + x) * 3 + c] = r.rgb[((y + oy) * rw + x + ox) * 3 + c];
  } else if (pp.tfResize) {
    // TensorFlow resizes in float without rounding back to 8 bits.
    src.resize(static_cast<size_t>(height * width * 3));
    const double sy = static_cast<double>(img.height) / height;
    const double sx = static_cast<double>(img.width) / width;
    for (int64_t y = 0; y < height; ++y) {
      double cy = y * sy;
      int64_t y0 = static_cast<int64_t>(std::floor(cy)), y1 = std::min(y0 + 1, img.height - 1);
      float fy = static_cast<float>(cy - y0);
      for (int64_t x = 0; x < width; ++x) {
        double cx = x * sx;
        int64_t x0 = static_cast<int64_t>(std::floor(cx)), x1 = std::min(x0 + 1, img.width - 1);
        float fx = static_cast<float>(cx - x0);
        for (int c = 0; c < 3; ++c) {
          auto px = [&](int64_t yy, int64_t xx) {
            return static_cast<float>(img.rgb[(yy * img.width + xx) * 3 + c]);
          };
          float top = px(y0, x0) + (px(y0, x1) - px(y0, x0)) * fx;
          float bot = px(y1, x0) + (px(y1, x1) - px(y1, x0)) * fx;
          src[(y * width + x) * 3 + c] = top + (bot - top) * fy;
        }
      }
    }
  } else {
    Image r = resizeBilinear(img, height, width, true);
    src.assign(r.rgb.begin(), r.rgb.end());
  }

  NDArray t(DType::F32, pp.nhwc ? Shape{1, height, width, 3} : Shape{1, 3, height, width});
  float* out = t.data<float>();
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) {
        int sc = pp.bgr ? 2 - c : c;
        float v = (src[(y * width + x) * 3 + sc] * pp.scale - pp.mean[c]) / pp.stddev[c];
        if (pp.nhwc)
          out[(y * width + x) * 3 + c] = v;
        else
          out[(c * height + y) * width + x] = v;
      }
  return t;
}

}  // namespace kiln
