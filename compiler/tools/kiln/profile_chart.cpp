// Draws `kiln profile`'s plot (profile_chart.h): a row per layer, its cycles as a bar split by
// what the compute module did, a dark mark at the ideal, the figures after the bar; a linear
// cycle axis shared by all rows, so the layers that dominate stand out.
#include "profile_chart.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "chart_canvas.h"

namespace kiln::cli {

namespace {

constexpr int kWidth = 1180, kLabelW = 330, kValueW = 200, kTop = 84, kRow = 22, kBottom = 96;
constexpr std::array<Rgb, kNumSegments> kSegColour = {{{47, 109, 181},
                                                       {46, 160, 140},
                                                       {150, 120, 200},
                                                       {224, 123, 26},
                                                       {192, 57, 43},
                                                       {214, 190, 60},
                                                       {205, 205, 205}}};
constexpr std::array<const char*, kNumSegments> kSegName = {"GEMM",
                                                            "ALU",
                                                            "loading micro-ops / acc tiles",
                                                            "waiting on loads",
                                                            "waiting on stores",
                                                            "waiting on instructions",
                                                            "idle (last stores)"};

int chartHeight(const ProfileChart& c) {
  return kTop + kRow * static_cast<int>(std::max<size_t>(c.rows.size(), 1)) + kBottom;
}

// Cycles with thousands separators.
std::string grouped(double v) {
  const std::string d = std::to_string(static_cast<uint64_t>(std::llround(std::max(v, 0.0))));
  std::string out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i > 0 && (d.size() - i) % 3 == 0) out += ',';
    out += d[i];
  }
  return out;
}

std::string tickLabel(double v) {
  std::ostringstream s;
  if (v >= 1e6)
    s << v / 1e6 << "M";
  else if (v >= 1e3)
    s << v / 1e3 << "k";
  else
    s << v;
  return s.str();
}

void layout(const ProfileChart& c, Painter& p) {
  const int h = chartHeight(c);
  p.rect(0, 0, kWidth, h, kWhite);
  p.text(16, 28, c.title, Face::Bold, kInk, Align::Left);
  p.text(16, 50, c.subtitle, Face::Small, kGrey, Align::Left);
  double maxV = 1;
  for (const ProfileRow& r : c.rows) maxV = std::max({maxV, r.cycles, r.ideal});
  // A linear axis in 1-2-2.5-5 steps.
  const double raw = maxV * 1.02 / 5, mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (mag * m >= raw) {
      step = mag * m;
      break;
    }
  const double hi = step * std::ceil(maxV * 1.02 / step);
  const double x0 = kLabelW, x1 = kWidth - kValueW;
  const double top = kTop, bottom = kTop + kRow * static_cast<double>(c.rows.size());
  auto X = [&](double v) { return x0 + (x1 - x0) * std::clamp(v / hi, 0.0, 1.0); };
  for (double t = 0; t <= hi * 1.0001; t += step) {
    p.line(X(t), top - 4, X(t), bottom, kGrid, false);
    p.text(X(t), top - 8, tickLabel(t), Face::Small, kGrey, Align::Center);
    p.text(X(t), bottom + 18, tickLabel(t), Face::Small, kGrey, Align::Center);
  }
  p.text((x0 + x1) / 2, bottom + 38, "cycles per layer (bar: what the compute module did)",
         Face::Small, kInk, Align::Center);
  for (size_t i = 0; i < c.rows.size(); ++i) {
    const ProfileRow& r = c.rows[i];
    const double y = top + kRow * static_cast<double>(i), mid = y + kRow / 2.0;
    if (i % 2) p.rect(16, y, x1 - 16, kRow, {246, 246, 246});
    std::string name = r.name;
    const int nameW = kLabelW - 16 - 8 - textWidth(r.op, Face::Small) - 12;
    while (name.size() > 4 && textWidth(name, Face::Small) > nameW)
      name = name.substr(0, name.size() - 4) + "...";
    p.text(16, mid + 4, name, Face::Small, kInk, Align::Left);
    p.text(x0 - 8, mid + 4, r.op, Face::Small, kGrey, Align::Right);
    // The segments, scaled to the layer's cycles if the counters overlap.
    double sum = 0;
    for (double s : r.segments) sum += s;
    const double scale = sum > r.cycles && sum > 0 ? r.cycles / sum : 1.0;
    double at = 0;
    for (int k = 0; k < kNumSegments; ++k) {
      const double v = r.segments[static_cast<size_t>(k)] * scale;
      if (v <= 0) continue;
      p.rect(X(at), y + 4, std::max(X(at + v) - X(at), 0.5), kRow - 8,
             kSegColour[static_cast<size_t>(k)]);
      at += v;
    }
    if (r.ideal > 0) p.rect(X(r.ideal) - 1, y + 1, 2.5, kRow - 2, kInk);
    std::ostringstream v;
    v << grouped(r.cycles);
    if (r.ideal > 0)
      v << "  " << std::fixed << std::setprecision(r.cycles / r.ideal >= 10 ? 0 : 2)
        << r.cycles / r.ideal << "x ideal";
    else
      v << "  ALU only";
    p.text(std::max(X(r.cycles), X(r.ideal)) + 6, mid + 4, v.str(), Face::Small, kInk, Align::Left);
  }
  p.line(x0, top, x0, bottom, kInk, false);
  p.line(x0, bottom, x1, bottom, kInk, false);
  // Legend: the segments, then the ideal's mark; wrapped to the width.
  double lx = 16, ly = h - 38;
  auto item = [&](Rgb col, const std::string& text, bool mark) {
    const double w = 18 + textWidth(text, Face::Small) + 24;
    if (lx + w > kWidth - 16) lx = 16, ly += 22;
    if (mark)
      p.rect(lx + 5, ly - 13, 2.5, 16, col);
    else
      p.rect(lx, ly - 11, 12, 12, col);
    p.text(lx + 18, ly, text, Face::Small, kInk, Align::Left);
    lx += w;
  };
  for (int k = 0; k < kNumSegments; ++k)
    item(kSegColour[static_cast<size_t>(k)], kSegName[static_cast<size_t>(k)], false);
  item(kInk, "ideal: the layer's MACs at the GEMM core's peak", true);
}

}  // namespace

void writeProfileSvg(const ProfileChart& chart, const std::string& path) {
  saveSvg(
      kWidth, chartHeight(chart), [&](Painter& p) { layout(chart, p); }, path);
}

void writeProfilePng(const ProfileChart& chart, const std::string& path) {
  savePng(
      kWidth, chartHeight(chart), [&](Painter& p) { layout(chart, p); }, path);
}

}  // namespace kiln::cli
