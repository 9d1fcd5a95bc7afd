// The bar chart `kiln bench` draws: one horizontal bar per target and anchor, latency on
// the x axis (logarithmic when the bars span more than a decade and a half), reference
// lines for published figures. One layout, two renderers: SVG text and a PNG raster with
// Kiln's own glyphs (chart_font.h), so neither needs a plotting or font library.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

struct ChartBar {
  std::string label;            // the row's name (e.g. "llvm", "onnxruntime (cpu)")
  std::string note;             // a second, smaller line under the name (the device)
  double ms = 0;                // the bar's length: median latency in milliseconds
  double minMs = 0, maxMs = 0;  // a whisker from min to max; both 0 for none
  enum Kind { Kiln, Anchor, Predicted } kind = Kiln;
  double idealMs = 0;  // a marker across the bar at the ideal latency (accelerator); 0: none
};

struct ChartLine {
  std::string label;  // e.g. "VTA on PYNQ-Z1 (published)"
  double ms = 0;
};

struct Chart {
  std::string title, subtitle;
  std::vector<ChartBar> bars;
  std::vector<ChartLine> lines;
};

// Both throw kiln::Error when the file cannot be written.
void writeChartSvg(const Chart& chart, const std::string& path);
void writeChartPng(const Chart& chart, const std::string& path);

}  // namespace kiln::cli
