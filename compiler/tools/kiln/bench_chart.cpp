// Draws `kiln bench`'s bar chart (bench_chart.h): its layout, computed once against the
// painter interface of chart_canvas.h, which renders it as SVG or PNG.
#include "bench_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <memory>
#include <sstream>
#include <tuple>

#include "chart_canvas.h"
#include "kiln/runtime/error.h"

namespace kiln::cli {

namespace {

constexpr Rgb kKiln{47, 109, 181}, kPredicted{224, 123, 26}, kAnchor{150, 150, 150},
    kLine{192, 57, 43};

std::string fmtTick(double ms) {
  std::ostringstream s;
  if (ms >= 1)
    s << std::fixed << std::setprecision(ms == std::floor(ms) ? 0 : 1) << ms;
  else
    s << std::setprecision(3) << ms;
  return s.str();
}

std::string fmtMs(double ms) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(ms >= 100 ? 0 : ms >= 10 ? 1 : ms >= 1 ? 2 : 3) << ms;
  return s.str();
}

// The x axis: linear from 0, or logarithmic over whole decades when the values span more
// than ~1.5 decades (a 2 ms CPU bar and a 900 ms browser bar both stay readable).
struct Axis {
  bool log = false;
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  double frac(double v) const {
    if (log)
      return (std::log10(std::max(v, lo)) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    return (v - lo) / (hi - lo);
  }
};

Axis makeAxis(double minV, double maxV) {
  Axis a;
  if (maxV <= 0) maxV = 1;
  if (minV <= 0) minV = maxV;
  a.log = maxV / minV > 30;
  if (a.log) {
    // The axis starts a 1-2-5 step below the shortest bar, so that bar keeps a visible length.
    const double floorLo = std::pow(10, std::floor(std::log10(minV / 1.6)));
    a.lo = floorLo;
    for (double m : {2.0, 5.0})
      if (floorLo * m <= minV / 1.6) a.lo = floorLo * m;
    a.hi = std::pow(10, std::ceil(std::log10(maxV * 1.05)));
    // 1-2-5 ticks over up to three decades; over more, decades only (labels stay apart).
    const bool dense = a.hi / a.lo <= 1000.5;
    for (double d = floorLo; d < a.hi * 1.001; d *= 10)
      for (double m : {1.0, 2.0, 5.0})
        if (d * m >= a.lo * 0.999 && d * m <= a.hi * 1.001 && (dense || m == 1.0 || d * m == a.lo))
          a.ticks.push_back(d * m);
    return a;
  }
  const double raw = maxV * 1.08 / 5, mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (mag * m >= raw) {
      step = mag * m;
      break;
    }
  a.hi = step * std::ceil(maxV * 1.08 / step);
  for (double t = 0; t <= a.hi * 1.0001; t += step) a.ticks.push_back(t);
  return a;
}

constexpr int kWidth = 980, kLabelW = 270, kValueW = 160, kTop = 74, kRow = 46, kBottom = 86,
              kLegendRow = 22;

// One entry of the legend: a swatch (a box of the bar's colour, the ideal's mark, or none)
// and its text; only the kinds of mark the chart shows are listed.
struct LegendItem {
  enum Swatch { Box, Mark, None } swatch;
  Rgb colour;
  std::string text;
  int width;  // swatch and text, in pixels
};

std::vector<LegendItem> legendItems(const Chart& c) {
  std::vector<LegendItem> items;
  auto add = [&](LegendItem::Swatch s, Rgb col, const std::string& text) {
    items.push_back(
        {s, col, text, (s == LegendItem::None ? 0 : 18) + textWidth(text, Face::Small)});
  };
  auto shows = [&](ChartBar::Kind k) {
    return std::any_of(c.bars.begin(), c.bars.end(),
                       [k](const ChartBar& b) { return b.kind == k; });
  };
  if (shows(ChartBar::Kiln)) add(LegendItem::Box, kKiln, "Kiln, measured here");
  if (shows(ChartBar::Predicted))
    add(LegendItem::Box, kPredicted, "Kiln accelerator, cycle model at its clock");
  if (shows(ChartBar::Anchor)) add(LegendItem::Box, kAnchor, "anchor, measured in the same run");
  if (std::any_of(c.bars.begin(), c.bars.end(), [](const ChartBar& b) { return b.idealMs > 0; }))
    add(LegendItem::Mark, kInk, "ideal: every MAC at the array's peak");
  if (!c.lines.empty()) add(LegendItem::Mark, kLine, "published figure, cited");
  add(LegendItem::None, kGrey, "whiskers: min to max");
  return items;
}

int legendRows(const Chart& c) {
  int rows = 1;
  double lx = 16;
  for (const LegendItem& it : legendItems(c)) {
    if (lx + it.width > kWidth - 16 && lx > 16) lx = 16, ++rows;
    lx += it.width + 26;
  }
  return rows;
}

int chartHeight(const Chart& c) {
  return kTop + kRow * static_cast<int>(std::max<size_t>(c.bars.size(), 1)) + kBottom +
         kLegendRow * (legendRows(c) - 1);
}

void layout(const Chart& c, Painter& p) {
  const int h = chartHeight(c);
  p.rect(0, 0, kWidth, h, kWhite);
  p.text(16, 28, c.title, Face::Bold, kInk, Align::Left);
  p.text(16, 50, c.subtitle, Face::Small, kGrey, Align::Left);
  double minV = 0, maxV = 0;
  auto see = [&](double v) {
    if (v <= 0) return;
    minV = minV == 0 ? v : std::min(minV, v);
    maxV = std::max(maxV, v);
  };
  for (const ChartBar& b : c.bars) see(b.ms), see(b.maxMs), see(b.minMs);
  for (const ChartLine& l : c.lines) see(l.ms);
  const Axis axis = makeAxis(minV, maxV);
  const double x0 = kLabelW, x1 = kWidth - kValueW;
  const double plotTop = kTop, plotBottom = kTop + kRow * static_cast<double>(c.bars.size());
  auto X = [&](double v) { return x0 + (x1 - x0) * std::clamp(axis.frac(v), 0.0, 1.0); };
  for (double t : axis.ticks) {
    p.line(X(t), plotTop, X(t), plotBottom, kGrid, false);
    p.text(X(t), plotBottom + 18, fmtTick(t), Face::Small, kGrey, Align::Center);
  }
  p.text((x0 + x1) / 2, plotBottom + 38,
         std::string("latency per inference, ms (batch 1") + (axis.log ? ", log scale)" : ")"),
         Face::Small, kInk, Align::Center);
  // Published figures first, so that the bars and their values are drawn over them.
  for (const ChartLine& l : c.lines) {
    p.line(X(l.ms), plotTop - 6, X(l.ms), plotBottom, kLine, true);
    p.text(X(l.ms), plotTop - 10, l.label + ": " + fmtMs(l.ms) + " ms", Face::Small, kLine,
           X(l.ms) > (x0 + x1) / 2 ? Align::Right : Align::Left);
  }
  for (size_t i = 0; i < c.bars.size(); ++i) {
    const ChartBar& b = c.bars[i];
    const double top = plotTop + kRow * static_cast<double>(i), mid = top + kRow / 2.0;
    p.text(x0 - 10, mid - (b.note.empty() ? -4 : 2), b.label, Face::Small, kInk, Align::Right);
    if (!b.note.empty()) {
      std::string note = b.note;
      while (note.size() > 4 && textWidth(note, Face::Small) > kLabelW - 20)
        note = note.substr(0, note.size() - 4) + "...";
      p.text(x0 - 10, mid + 14, note, Face::Small, kGrey, Align::Right);
    }
    const Rgb col = b.kind == ChartBar::Kiln        ? kKiln
                    : b.kind == ChartBar::Predicted ? kPredicted
                                                    : kAnchor;
    const double end = X(b.ms);
    p.rect(x0, top + 9, std::max(end - x0, 1.0), kRow - 18, col);
    double labelX = end;
    if (b.maxMs > b.minMs && b.minMs > 0) {
      p.line(X(b.minMs), mid, X(b.maxMs), mid, kInk, false);
      p.line(X(b.minMs), mid - 5, X(b.minMs), mid + 5, kInk, false);
      p.line(X(b.maxMs), mid - 5, X(b.maxMs), mid + 5, kInk, false);
      labelX = std::max(labelX, X(b.maxMs));
    }
    // The ideal (accelerator): a dark mark across the bar, its value after the bar's.
    if (b.idealMs > 0) p.rect(X(b.idealMs) - 1.5, top + 5, 3, kRow - 10, kInk);
    // The value on a white ground, legible where a reference line crosses it.
    const std::string value =
        fmtMs(b.ms) + " ms" + (b.idealMs > 0 ? " (ideal " + fmtMs(b.idealMs) + " ms)" : "");
    p.rect(labelX + 3, mid - 10, textWidth(value, Face::Small) + 6, 19, kWhite);
    p.text(labelX + 6, mid + 4, value, Face::Small, kInk, Align::Left);
  }
  p.line(x0, plotTop, x0, plotBottom, kInk, false);
  p.line(x0, plotBottom, x1, plotBottom, kInk, false);
  // Legend, wrapped onto a second line when it does not fit.
  const std::vector<LegendItem> items = legendItems(c);
  double lx = 16, ly = plotBottom + 66;
  for (const LegendItem& it : items) {
    if (lx + it.width > kWidth - 16 && lx > 16) lx = 16, ly += kLegendRow;
    if (it.swatch == LegendItem::Box) p.rect(lx, ly - 11, 12, 12, it.colour);
    if (it.swatch == LegendItem::Mark) p.rect(lx + 4, ly - 13, 3, 16, it.colour);
    const double tx = it.swatch == LegendItem::None ? lx : lx + 18;
    p.text(tx, ly, it.text, Face::Small, it.swatch == LegendItem::None ? kGrey : kInk, Align::Left);
    lx += it.width + 26;
  }
}

}  // namespace

void writeChartSvg(const Chart& chart, const std::string& path) {
  saveSvg(
      kWidth, chartHeight(chart), [&](Painter& p) { layout(chart, p); }, path);
}

void writeChartPng(const Chart& chart, const std::string& path) {
  savePng(
      kWidth, chartHeight(chart), [&](Painter& p) { layout(chart, p); }, path);
}

}  // namespace kiln::cli
