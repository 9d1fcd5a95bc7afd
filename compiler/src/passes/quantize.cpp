// Post-training int8 quantization: calibration and the rewrite (see kiln/passes/quantize.h).
#include "kiln/passes/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "graph_edit.h"
#include "kiln/ops/op_registry.h"
#include "kiln/ref/executor.h"

namespace kiln {

CalibrationMethod parseCalibrationMethod(const std::string& name) {
  if (name == "max") return CalibrationMethod::Max;
  if (name == "percentile") return CalibrationMethod::Percentile;
  if (name == "entropy") return CalibrationMethod::Entropy;
  throw Error("unknown calibration method '" + name + "' (max, percentile or entropy)");
}

namespace {

constexpr int kBins = 2048, kLevels = 128;

// The range whose 128-level quantization of the histogram loses the least information: for
// each candidate number of bins i >= 128, the reference distribution is the first i bins
// with everything beyond folded into bin i - 1; the candidate merges them into 128 levels,
// spreads each level evenly over its nonzero bins, and is compared by KL divergence.
double entropyRange(const std::vector<double>& hist, double binWidth) {
  double best = std::numeric_limits<double>::infinity();
  int bestI = kBins;
  for (int i = kLevels; i <= kBins; i += 8) {
    std::vector<double> p(hist.begin(), hist.begin() + i);
    for (int k = i; k < kBins; ++k) p[static_cast<size_t>(i - 1)] += hist[static_cast<size_t>(k)];
    double total = 0;
    for (double v : p) total += v;
    if (total <= 0) continue;
    std::vector<double> q(static_cast<size_t>(i), 0.0);
    const double per = double(i) / kLevels;
    for (int l = 0; l < kLevels; ++l) {
      const int b0 = static_cast<int>(std::floor(l * per)),
                b1 = std::max(b0 + 1, static_cast<int>(std::floor((l + 1) * per)));
      double sum = 0;
      int nonzero = 0;
      for (int b = b0; b < b1 && b < i; ++b) {
        sum += hist[static_cast<size_t>(b)];
        nonzero += hist[static_cast<size_t>(b)] > 0;
      }
      for (int b = b0; b < b1 && b < i; ++b)
        if (hist[static_cast<size_t>(b)] > 0) q[static_cast<size_t>(b)] = sum / nonzero;
    }
    double qTotal = 0;
    for (double v : q) qTotal += v;
    double kl = 0;
    for (int b = 0; b < i; ++b) {
      const double pb = p[static_cast<size_t>(b)] / total;
      if (pb <= 0) continue;
      const double qb = q[static_cast<size_t>(b)] / qTotal;
      kl += qb > 0 ? pb * std::log(pb / qb) : pb * std::log(pb / 1e-12);
    }
    if (kl < best) best = kl, bestI = i;
  }
  return bestI * binWidth;
}

}  // namespace

std::map<std::string, float> calibrate(const Graph& g,
                                       const std::vector<std::map<std::string, NDArray>>& samples,
                                       const CalibrationOptions& options) {
  if (samples.empty()) throw Error("calibration needs at least one sample input");
  if (!(options.percentile > 0 && options.percentile <= 100))
    throw Error("the calibration percentile must be in (0, 100], got " +
                std::to_string(options.percentile));
  std::map<std::string, float> ranges;
  // Pass 1: the largest |x| of every activation.
  auto record = [&](const std::string& name, const NDArray& a) {
    if (a.dtype() != DType::F32) return;
    float m = 0;
    for (float v : a.values<float>()) m = std::max(m, std::abs(v));
    ranges[name] = std::max(ranges[name], m);
  };
  ref::Executor exec(g);
  exec.onNode = [&](const Node& n, const std::vector<NDArray>& outs) {
    for (size_t k = 0; k < outs.size(); ++k) record(n.outputs[k]->name, outs[k]);
  };
  for (const auto& sample : samples) {
    for (const auto& [name, a] : sample) record(name, a);
    exec.run(sample);
  }
  if (options.method == CalibrationMethod::Max) return ranges;
  // Pass 2: histograms of |x| over [0, max].
  std::map<std::string, std::vector<double>> hists;
  auto histogram = [&](const std::string& name, const NDArray& a) {
    auto r = ranges.find(name);
    if (a.dtype() != DType::F32 || r == ranges.end() || !(r->second > 0)) return;
    std::vector<double>& h = hists[name];
    h.resize(kBins, 0.0);
    const double scale = kBins / double(r->second);
    for (float v : a.values<float>())
      h[static_cast<size_t>(std::min<double>(kBins - 1, std::abs(v) * scale))] += 1;
  };
  exec.onNode = [&](const Node& n, const std::vector<NDArray>& outs) {
    for (size_t k = 0; k < outs.size(); ++k) histogram(n.outputs[k]->name, outs[k]);
  };
  for (const auto& sample : samples) {
    for (const auto& [name, a] : sample) histogram(name, a);
    exec.run(sample);
  }
  for (auto& [name, h] : hists) {
    const double width = ranges[name] / kBins;
    double total = 0;
    for (double v : h) total += v;
    double range = ranges[name];
    if (options.method == CalibrationMethod::Percentile) {
      double seen = 0;
      for (int b = 0; b < kBins; ++b) {
        seen += h[static_cast<size_t>(b)];
        if (seen >= total * options.percentile / 100.0) {
          range = (b + 1) * width;
          break;
        }
      }
    } else {
      range = entropyRange(h, width);
    }
    ranges[name] = static_cast<float>(std::min<double>(range, ranges[name]));
  }
  return ranges;
}

void quantizeMultiplier(double M, int64_t& multiplier, int64_t& shift) {
  if (!(M > 0)) {
    multiplier = 0;
    shift = 0;
    return;
  }
  int e = 0;
  const double f = std::frexp(M, &e);  // M = f * 2^e, f in [0.5, 1)
  int64_t m = std::llround(f * 2147483648.0);
  if (m == (int64_t{1} << 31)) {
    m /= 2;
    ++e;
  }
  int64_t s = 31 - e;
  if (s > 63) {  // too small to represent: rounds to zero
    multiplier = 0;
    shift = 0;
    return;
  }
  if (s < 0)
    throw Error("requantization factor " + std::to_string(M) +
                " is too large for the ISA's REQUANT");
  multiplier = m;
  shift = s;
}

namespace {

class Quantizer {
 public:
  Quantizer(const Graph& g, const std::map<std::string, float>& ranges, QuantizeReport* report)
      : src_(g), ranges_(ranges), report_(report) {}

  Graph run() {
    out_.name = src_.name;
    out_.opset = src_.opset;
    out_.metadata = src_.metadata;
    uses_ = consumers(src_);
    for (Value* v : src_.inputs()) f_[v] = out_.addInput(v->name, v->dtype, v->shape);
    for (Node* n : src_.nodes()) {
      if (done_.count(n)) continue;
      if (!tryQuantize(n)) copyFloat(n);
    }
    for (Value* v : src_.outputs()) {
      Value* fv = floatOf(v);
      if (fv->name != v->name && fv->producer && !out_.findValue(v->name))
        out_.renameValue(fv, v->name);
      out_.markOutput(fv);
    }
    verifyGraph(out_);
    return std::move(out_);
  }

 private:
  // The scale of a value: the one it was quantized with, else its calibrated range's.
  float scaleOf(const Value* v) const {
    if (auto q = scales_.find(v); q != scales_.end()) return q->second;
    auto it = ranges_.find(v->name);
    if (it == ranges_.end()) throw Error("no calibration range for '" + v->name + "'");
    return std::max(it->second, 1e-8f) / 127.0f;
  }

  // The float (resp. int8) version of a source value in the new graph, converting if needed.
  Value* floatOf(const Value* v) {
    if (auto it = f_.find(v); it != f_.end()) return it->second;
    if (v->isConstant()) return f_[v] = out_.addConstant(v->name, *v->constant);
    auto q = q_.find(v);
    if (q == q_.end()) throw Error("value '" + v->name + "' used before it is computed");
    return f_[v] = addOpNode(out_, "DequantizeLinear", {q->second},
                             {{"scale", double(scales_.at(v))}}, v->name + ".dq");
  }
  Value* int8Of(const Value* v) {
    if (auto it = q_.find(v); it != q_.end()) return it->second;
    const float s = scaleOf(v);
    scales_[v] = s;
    return q_[v] = addOpNode(out_, "QuantizeLinear", {floatOf(v)}, {{"scale", double(s)}},
                             v->name + ".q");
  }

  void copyFloat(const Node* n) {
    std::vector<Value*> ins;
    for (Value* v : n->inputs) ins.push_back(v ? floatOf(v) : nullptr);
    std::vector<Value*> outs;
    for (Value* o : n->outputs) outs.push_back(f_[o] = out_.addValue(o->name, o->dtype, o->shape));
    Node* c = out_.addNode(n->op, n->name, ins, outs);
    c->attrs = n->attrs;
    c->attrs.erase("kiln.group");
    inferNode(*c);
    if (report_) ++report_->floatOps;
  }

  // The activation a single reader applies to `v`, folded into an int8 output range.
  const Node* activationAfter(const Value* v) {
    if (isGraphOutput(src_, v) || uses_[v].size() != 1) return nullptr;
    const Node* a = uses_[v][0];
    if (a->op == "Relu") return a;
    if (a->op == "Clip" && a->f("min") <= 0) return a;
    return nullptr;
  }
  void outputRange(const Node* act, float scale, int64_t& lo, int64_t& hi) {
    lo = -128;
    hi = 127;
    if (!act) return;
    lo = 0;
    if (act->op == "Clip" && std::isfinite(act->f("max")))
      hi = std::clamp<int64_t>(std::llround(act->f("max") / scale), 0, 127);
  }

  bool tryQuantize(const Node* n) {
    if (n->op == "Conv" && n->inputs[1]->isConstant() &&
        (!n->input(2) || n->input(2)->isConstant()))
      return quantizeWeighted(n, "QConv");
    if (n->op == "Gemm" && n->i("transA") == 0 && n->f("alpha") == 1.0 && n->f("beta") == 1.0 &&
        n->inputs[1]->isConstant() &&
        (!n->input(2) || (n->input(2)->isConstant() && n->input(2)->shape.size() == 1)))
      return quantizeWeighted(n, "QGemm");
    if (n->op == "Add" && n->inputs[0]->shape == n->inputs[1]->shape &&
        n->outputs[0]->shape == n->inputs[0]->shape && !n->inputs[0]->isConstant() &&
        !n->inputs[1]->isConstant())
      return quantizeAdd(n);
    if ((n->op == "MaxPool" || n->op == "AveragePool" || n->op == "GlobalMaxPool" ||
         n->op == "GlobalAveragePool") &&
        n->inputs[0]->shape.size() == 4 && !n->inputs[0]->isConstant())
      return quantizePool(n);
    // A reshape of an int8 tensor stays int8 (same scale), so pooling feeds a classifier.
    if (n->op == "Reshape" && q_.count(n->inputs[0])) {
      Value* r = addOpNode(out_, "Reshape", {q_.at(n->inputs[0])},
                           {{"shape", n->attrs.at("shape")}}, n->outputs[0]->name + ".i8", n->name);
      const float s = scales_.at(n->inputs[0]);
      done_.insert(n);
      q_[n->outputs[0]] = r;
      scales_[n->outputs[0]] = s;
      return true;
    }
    return false;
  }

  // Max pooling keeps its input's scale (exact); average pooling sums the window in int32 and
  // requantizes to its output's scale, only where every window has the same size (no window
  // clipped by the image, or padding counted), so one multiplier serves every output.
  bool quantizePool(const Node* n) {
    const Shape& xs = n->inputs[0]->shape;
    const int64_t H = xs[2], W = xs[3];
    const bool global = n->op.rfind("Global", 0) == 0;
    const bool isMax = n->op.find("Max") != std::string::npos;
    std::vector<int64_t> k{H, W}, st{1, 1}, pads{0, 0, 0, 0};
    if (!global) {
      k = n->ints("kernel_shape");
      st = n->ints("strides");
      pads = n->ints("pads");
      for (int64_t d : n->ints("dilations", {1, 1}))
        if (d != 1) return false;
      const int64_t OH = n->outputs[0]->shape[2], OW = n->outputs[0]->shape[3];
      // The rows and columns past the end padding that ceil_mode windows reach.
      const int64_t overH = (OH - 1) * st[0] + k[0] - (H + pads[0] + pads[2]);
      const int64_t overW = (OW - 1) * st[1] + k[1] - (W + pads[1] + pads[3]);
      if (isMax) {  // padding never wins a maximum: ceil_mode's overhang is more padding
        pads[2] += std::max<int64_t>(0, overH);
        pads[3] += std::max<int64_t>(0, overW);
      } else {
        const bool clipped = pads[0] > 0 || pads[1] > 0 || (OH - 1) * st[0] + k[0] - pads[0] > H ||
                             (OW - 1) * st[1] + k[1] - pads[1] > W;
        if (overH > 0 || overW > 0 || (clipped && n->i("count_include_pad", 0) == 0)) return false;
      }
    }
    std::map<std::string, Attribute> attrs = {{"kernel_shape", k}, {"strides", st}, {"pads", pads}};
    const float sx = scaleOf(n->inputs[0]);
    float sy = sx;
    if (!isMax) {
      sy = scaleOf(n->outputs[0]);
      int64_t m, sh;
      quantizeMultiplier(double(sx) / (double(sy) * double(k[0] * k[1])), m, sh);
      attrs["multiplier"] = m;
      attrs["shift"] = sh;
    }
    Value* q = addOpNode(out_, isMax ? "QMaxPool" : "QAveragePool", {int8Of(n->inputs[0])}, attrs,
                         n->outputs[0]->name + ".i8", n->name);
    finish(n, nullptr, n->outputs[0], q, sy);
    return true;
  }

  bool quantizeWeighted(const Node* n, const std::string& op) {
    const Node* act = activationAfter(n->outputs[0]);
    const Value* result = act ? act->outputs[0] : n->outputs[0];
    const float sx = scaleOf(n->inputs[0]), sy = scaleOf(result);
    // Weights as [channels, per-channel elements]; Gemm's B as [N, K] (transposed if needed).
    NDArray w = *n->inputs[1]->constant;
    if (op == "QGemm" && n->i("transB") == 0) {
      NDArray t(DType::F32, {w.shape()[1], w.shape()[0]});
      for (int64_t i = 0; i < w.shape()[0]; ++i)
        for (int64_t j = 0; j < w.shape()[1]; ++j)
          t.data<float>()[j * w.shape()[0] + i] = w.data<float>()[i * w.shape()[1] + j];
      w = t;
    }
    const int64_t channels = w.shape()[0], per = w.numel() / channels;
    NDArray wq(DType::I8, w.shape());
    NDArray bq(DType::I32, {channels});
    std::vector<int64_t> mult(static_cast<size_t>(channels)), shift(static_cast<size_t>(channels));
    const float* bias = n->input(2) ? n->input(2)->constant->data<float>() : nullptr;
    for (int64_t c = 0; c < channels; ++c) {
      float m = 0;
      for (int64_t i = 0; i < per; ++i) m = std::max(m, std::abs(w.data<float>()[c * per + i]));
      const float sw = std::max(m, 1e-8f) / 127.0f;
      for (int64_t i = 0; i < per; ++i)
        wq.data<int8_t>()[c * per + i] = static_cast<int8_t>(
            std::clamp<long>(std::lround(w.data<float>()[c * per + i] / sw), -127, 127));
      const double accScale = double(sx) * sw;
      bq.data<int32_t>()[c] = bias ? static_cast<int32_t>(std::llround(bias[c] / accScale)) : 0;
      quantizeMultiplier(accScale / sy, mult[c], shift[c]);
    }
    int64_t lo, hi;
    outputRange(act, sy, lo, hi);
    std::map<std::string, Attribute> attrs = {
        {"multiplier", mult}, {"shift", shift}, {"out_min", lo}, {"out_max", hi}};
    if (op == "QConv")
      for (const char* k : {"strides", "pads", "dilations", "group"}) attrs[k] = n->attrs.at(k);
    Value* q = addOpNode(out_, op,
                         {int8Of(n->inputs[0]), out_.addConstant(n->inputs[1]->name + ".q", wq),
                          out_.addConstant(n->outputs[0]->name + ".bias.q", bq)},
                         attrs, result->name + ".i8", n->name);
    finish(n, act, result, q, sy);
    return true;
  }

  bool quantizeAdd(const Node* n) {
    const Node* act = activationAfter(n->outputs[0]);
    const Value* result = act ? act->outputs[0] : n->outputs[0];
    const float sa = scaleOf(n->inputs[0]), sb = scaleOf(n->inputs[1]), sy = scaleOf(result);
    // Both operands to a common int32 scale smax / 2^14, then requantize to the output's.
    const double smax = std::max(sa, sb);
    const int64_t am = std::llround(sa / smax * 16384.0), bm = std::llround(sb / smax * 16384.0);
    int64_t m, s, lo, hi;
    quantizeMultiplier(smax / 16384.0 / sy, m, s);
    outputRange(act, sy, lo, hi);
    Value* q = addOpNode(out_, "QAdd", {int8Of(n->inputs[0]), int8Of(n->inputs[1])},
                         {{"a_mul", am},
                          {"b_mul", bm},
                          {"multiplier", m},
                          {"shift", s},
                          {"out_min", lo},
                          {"out_max", hi}},
                         result->name + ".i8", n->name);
    finish(n, act, result, q, sy);
    return true;
  }

  void finish(const Node* n, const Node* act, const Value* result, Value* q, float scale) {
    done_.insert(n);
    if (act) done_.insert(act);
    q_[result] = q;
    scales_[result] = scale;
    if (report_) ++report_->quantized;
  }

  const Graph& src_;
  const std::map<std::string, float>& ranges_;
  QuantizeReport* report_;
  Graph out_;
  std::map<const Value*, std::vector<Node*>> uses_;
  std::map<const Value*, Value*> f_, q_;
  std::map<const Value*, float> scales_;
  std::set<const Node*> done_;
};

}  // namespace

Graph quantizeGraph(const Graph& g, const std::map<std::string, float>& ranges,
                    QuantizeReport* report) {
  return Quantizer(g, ranges, report).run();
}

}  // namespace kiln
