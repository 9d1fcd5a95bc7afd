// Drawing for Kiln's charts (`kiln bench`'s bars, `kiln profile`'s layers): a small painter
// interface and its two renderers, SVG text and a PNG raster with Kiln's own glyphs
// (chart_font.h), so no plotting or font library is needed. A chart lays itself out once
// against Painter; saveSvg and savePng run that layout on either renderer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace kiln::cli {

struct Rgb {
  uint8_t r, g, b;
};
inline constexpr Rgb kWhite{255, 255, 255}, kInk{34, 34, 34}, kGrey{110, 110, 110},
    kGrid{225, 225, 225};

enum class Align { Left, Right, Center };
enum class Face { Small, Bold };  // 13 and 17 px

// What a renderer must do; coordinates in pixels, y down, text at its baseline. Lines are
// horizontal or vertical (the raster draws only those).
class Painter {
 public:
  virtual ~Painter() = default;
  virtual void rect(double x, double y, double w, double h, Rgb c) = 0;
  virtual void line(double x0, double y0, double x1, double y1, Rgb c, bool dashed) = 0;
  virtual void text(double x, double y, const std::string& s, Face f, Rgb c, Align a) = 0;
};

// The width of a text in pixels, as both renderers set it.
int textWidth(const std::string& s, Face f);

// Both throw kiln::Error when the file cannot be written.
void saveSvg(int width, int height, const std::function<void(Painter&)>& draw,
             const std::string& path);
void savePng(int width, int height, const std::function<void(Painter&)>& draw,
             const std::string& path);

}  // namespace kiln::cli
