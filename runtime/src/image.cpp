// PNG (libpng) and JPEG (libjpeg) decoding and classifier preprocessing.
#include "kiln/runtime/image.h"

#if KILN_HAVE_IMAGE_CODECS
#include <jpeglib.h>
#include <png.h>
#endif

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace kiln {

namespace {

[[maybe_unused]] std::vector<uint8_t> readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open image");
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

#if KILN_HAVE_IMAGE_CODECS
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
#endif  // KILN_HAVE_IMAGE_CODECS

}  // namespace

Image loadImage(const std::string& path) {
#if !KILN_HAVE_IMAGE_CODECS
  throw Error(path +
              ": this build of Kiln has no PNG/JPEG decoder (built without libpng/libjpeg); "
              "pass the input as a .npy tensor");
#else
  std::vector<uint8_t> bytes = readFile(path);
  if (bytes.size() >= 8 && png_sig_cmp(bytes.data(), 0, 8) == 0) return decodePng(bytes, path);
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
    return decodeJpeg(bytes, path);
  throw Error(path + ": not a PNG or JPEG image");
#endif
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
        out.rgb[(y * width + x) * 3 + c] =
            static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
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
    // TF.js: float32 pixels / divisor, then bilinear with aligned corners, interpolated in
    // double and stored as float32 (tfjs-backend-cpu's resizeBilinear).
    src.resize(static_cast<size_t>(height * width * 3));
    auto ratio = [](int64_t in, int64_t out) {
      return out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1)
                     : static_cast<double>(in) / out;
    };
    const double ry = ratio(img.height, height), rx = ratio(img.width, width);
    const bool same = img.height == height && img.width == width;
    auto px = [&](int64_t yy, int64_t xx, int c) {
      return static_cast<double>(static_cast<float>(img.rgb[(yy * img.width + xx) * 3 + c]) /
                                 pp.divisor);
    };
    for (int64_t y = 0; y < height; ++y) {
      const double fy = same ? y : ry * y;
      const int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(fy)));
      const int64_t y1 = std::min<int64_t>(img.height - 1, static_cast<int64_t>(std::ceil(fy)));
      const double dy = fy - y0;
      for (int64_t x = 0; x < width; ++x) {
        const double fx = same ? x : rx * x;
        const int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(fx)));
        const int64_t x1 = std::min<int64_t>(img.width - 1, static_cast<int64_t>(std::ceil(fx)));
        const double dx = fx - x0;
        for (int c = 0; c < 3; ++c) {
          const double top = px(y0, x0, c) + (px(y0, x1, c) - px(y0, x0, c)) * dx;
          const double bot = px(y1, x0, c) + (px(y1, x1, c) - px(y1, x0, c)) * dx;
          src[(y * width + x) * 3 + c] = static_cast<float>(top + (bot - top) * dy);
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
        // The TF.js path has already divided (in its own order of operations).
        float s = pp.tfResize ? src[(y * width + x) * 3 + sc]
                              : src[(y * width + x) * 3 + sc] / pp.divisor;
        float v = (s - pp.mean[c]) / pp.stddev[c];
        if (pp.nhwc)
          out[(y * width + x) * 3 + c] = v;
        else
          out[(c * height + y) * width + x] = v;
      }
  return t;
}

}  // namespace kiln
