// The renderers of chart_canvas.h: SVG elements as text, and an RGB raster (anti-aliased
// glyphs from chart_font.h, axis-aligned lines) that libpng saves.
#include "chart_canvas.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "chart_font.h"
#include "kiln/runtime/error.h"

namespace kiln::cli {

namespace {

const font::Face& faceOf(Face f) {
  return f == Face::Bold ? font::kBold : font::kSmall;
}

}  // namespace

int textWidth(const std::string& s, Face f) {
  int w = 0;
  for (char ch : s) {
    const int i = static_cast<unsigned char>(ch) - 32;
    w += faceOf(f).glyphs[i >= 0 && i < 95 ? i : '?' - 32].advance;
  }
  return w;
}

namespace {

std::string hex(Rgb c) {
  char b[8];
  std::snprintf(b, sizeof b, "#%02x%02x%02x", c.r, c.g, c.b);
  return b;
}

std::string xmlEscape(const std::string& s) {
  std::string r;
  for (char ch : s) {
    if (ch == '&')
      r += "&amp;";
    else if (ch == '<')
      r += "&lt;";
    else if (ch == '>')
      r += "&gt;";
    else if (ch == '"')
      r += "&quot;";
    else
      r += ch;
  }
  return r;
}

class SvgPainter : public Painter {
 public:
  std::ostringstream out;
  void rect(double x, double y, double w, double h, Rgb c) override {
    out << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << w << "\" height=\"" << h
        << "\" fill=\"" << hex(c) << "\"/>\n";
  }
  void line(double x0, double y0, double x1, double y1, Rgb c, bool dashed) override {
    out << "<line x1=\"" << x0 << "\" y1=\"" << y0 << "\" x2=\"" << x1 << "\" y2=\"" << y1
        << "\" stroke=\"" << hex(c) << "\" stroke-width=\"" << (dashed ? 2 : 1) << "\""
        << (dashed ? " stroke-dasharray=\"6 4\"" : "") << "/>\n";
  }
  void text(double x, double y, const std::string& s, Face f, Rgb c, Align a) override {
    out << "<text x=\"" << x << "\" y=\"" << y << "\" fill=\"" << hex(c) << "\" font-size=\""
        << (f == Face::Bold ? 17 : 13) << "\"" << (f == Face::Bold ? " font-weight=\"bold\"" : "")
        << (a == Align::Right    ? " text-anchor=\"end\""
            : a == Align::Center ? " text-anchor=\"middle\""
                                 : "")
        << ">" << xmlEscape(s) << "</text>\n";
  }
};

class RasterPainter : public Painter {
 public:
  RasterPainter(int w, int h) : w_(w), h_(h), px_(static_cast<size_t>(w) * h * 3, 255) {}
  void rect(double x, double y, double w, double h, Rgb c) override {
    const int xa = std::max(0, static_cast<int>(std::lround(x))),
              xb = std::min(w_, static_cast<int>(std::lround(x + w)));
    const int ya = std::max(0, static_cast<int>(std::lround(y))),
              yb = std::min(h_, static_cast<int>(std::lround(y + h)));
    for (int j = ya; j < yb; ++j)
      for (int i = xa; i < xb; ++i) blend(i, j, c, 1.0);
  }
  void line(double x0, double y0, double x1, double y1, Rgb c, bool dashed) override {
    // Axis-aligned only (all the chart draws); a dashed line is 2 px wide, 6 on, 4 off.
    const int width = dashed ? 2 : 1;
    const int xa = static_cast<int>(std::lround(std::min(x0, x1))),
              xb = static_cast<int>(std::lround(std::max(x0, x1)));
    const int ya = static_cast<int>(std::lround(std::min(y0, y1))),
              yb = static_cast<int>(std::lround(std::max(y0, y1)));
    const bool vertical = xa == xb;
    for (int t = 0; t <= (vertical ? yb - ya : xb - xa); ++t) {
      if (dashed && t % 10 >= 6) continue;
      for (int k = 0; k < width; ++k)
        blend(vertical ? xa + k - width / 2 : xa + t, vertical ? ya + t : ya + k - width / 2, c,
              1.0);
    }
  }
  void text(double x, double y, const std::string& s, Face f, Rgb c, Align a) override {
    const font::Face& face = faceOf(f);
    int pen = static_cast<int>(std::lround(x));
    const int w = textWidth(s, f);
    if (a == Align::Right) pen -= w;
    if (a == Align::Center) pen -= w / 2;
    const int top = static_cast<int>(std::lround(y)) - face.ascent;
    for (char ch : s) {
      const int gi = static_cast<unsigned char>(ch) - 32;
      const font::Glyph& g = face.glyphs[gi >= 0 && gi < 95 ? gi : '?' - 32];
      for (int j = 0; j < face.height; ++j)
        for (int i = 0; i < g.width; ++i) {
          const char hx = g.pixels[j * g.width + i];
          const int v = hx >= 'a' ? hx - 'a' + 10 : hx - '0';
          if (v) blend(pen + i, top + j, c, v / 15.0);
        }
      pen += g.advance;
    }
  }
  void save(const std::string& path) const {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw Error("cannot write " + path);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
      png_destroy_write_struct(&png, &info);
      std::fclose(f);
      throw Error("cannot encode the PNG " + path);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, static_cast<png_uint_32>(w_), static_cast<png_uint_32>(h_), 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int j = 0; j < h_; ++j)
      png_write_row(png, const_cast<png_bytep>(&px_[static_cast<size_t>(j) * w_ * 3]));
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    if (std::fclose(f) != 0) throw Error("cannot write " + path);
  }

 private:
  void blend(int x, int y, Rgb c, double a) {
    if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
    uint8_t* p = &px_[(static_cast<size_t>(y) * w_ + x) * 3];
    const uint8_t src[3] = {c.r, c.g, c.b};
    for (int k = 0; k < 3; ++k)
      p[k] = static_cast<uint8_t>(std::lround(p[k] + (src[k] - p[k]) * a));
  }
  int w_, h_;
  std::vector<uint8_t> px_;
};

}  // namespace

void saveSvg(int width, int height, const std::function<void(Painter&)>& draw,
             const std::string& path) {
  SvgPainter p;
  draw(p);
  std::ofstream f(path);
  f << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << width << " " << height
    << "\" font-family=\"DejaVu Sans, Verdana, sans-serif\">\n"
    << p.out.str() << "</svg>\n";
  if (!f) throw Error("cannot write " + path);
}

void savePng(int width, int height, const std::function<void(Painter&)>& draw,
             const std::string& path) {
  RasterPainter p(width, height);
  draw(p);
  p.save(path);
}

}  // namespace kiln::cli
