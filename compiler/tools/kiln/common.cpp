// Helpers shared by the subcommands: shape specs, model loading, class labels.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "kiln/passes/quantize.h"

namespace kiln::cli {

std::map<std::string, Shape> parseShapes(const std::vector<std::string>& specs) {
  std::map<std::string, Shape> r;
  for (const std::string& s : specs) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error("--shape '" + s + "': expected NAME=DIMS, e.g. input=1x3x224x224");
    Shape shape;
    std::stringstream ss(s.substr(eq + 1));
    std::string tok;
    while (std::getline(ss, tok, 'x')) {
      try {
        size_t used = 0;
        int64_t d = std::stoll(tok, &used);
        if (used != tok.size() || d < 0) throw 0;
        shape.push_back(d);
      } catch (...) {
        throw Error("--shape '" + s + "': '" + tok + "' is not a dimension");
      }
    }
    r[s.substr(0, eq)] = shape;
  }
  return r;
}

Graph loadOrThrow(const std::string& path, const std::vector<std::string>& shapeSpecs) {
  ModelLoadOptions o;
  o.inputShapes = parseShapes(shapeSpecs);
  Expected<Graph> g = loadModel(path, o);
  if (!g) throw g.error();
  return std::move(*g);
}

namespace {
std::vector<std::string> splitLines(std::istream& in) {
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}
}  // namespace

std::vector<std::string> findLabels(const Graph& g, const std::string& labelsFile,
                                    int64_t classes) {
  if (!labelsFile.empty()) {
    std::ifstream f(labelsFile);
    if (!f) throw Error("--labels " + labelsFile + ": cannot open file");
    auto l = splitLines(f);
    if (static_cast<int64_t>(l.size()) != classes)
      throw Error("--labels " + labelsFile + " has " + std::to_string(l.size()) +
                  " lines but the model has " + std::to_string(classes) + " classes");
    return l;
  }
  auto it = g.metadata.find("labels");
  if (it != g.metadata.end()) {
    std::stringstream ss(it->second);
    auto l = splitLines(ss);
    if (static_cast<int64_t>(l.size()) == classes) return l;
  }
  if (classes == 1000) {
    // ImageNet class names as Debian's opencv-doc ships them.
    for (const char* p :
         {"/usr/share/doc/opencv-doc/examples/data/dnn/classification_classes_ILSVRC2012.txt",
          "/usr/share/opencv4/samples/data/dnn/classification_classes_ILSVRC2012.txt"}) {
      std::ifstream f(p);
      if (!f) continue;
      auto l = splitLines(f);
      if (l.size() == 1000) return l;
    }
  }
  return {};
}

void addInt8Options(CLI::App* sub, Int8Options& o, const std::string& when,
                    const std::string& calibrateNote) {
  sub->add_option(
      "--calibrate", o.calibrate,
      when + ": calibration inputs (images or .npy) for the model's single input" + calibrateNote);
  sub->add_option("--calibration", o.calibration,
                  when +
                      ": how activation ranges are chosen: max (default), percentile "
                      "(99.99th) or entropy (least KL divergence)")
      ->check(CLI::IsMember({"max", "percentile", "entropy"}));
  sub->add_flag("--per-channel-activations", o.perChannel,
                when +
                    ": per-channel scales for activations read only by depthwise "
                    "convolutions (folded into their weights)");
}

std::vector<std::map<std::string, NDArray>> loadCalibration(const Graph& g, const Int8Options& o,
                                                            const std::string& preprocess) {
  std::vector<std::map<std::string, NDArray>> samples;
  if (!o.calibrate.empty() && g.inputs().size() != 1)
    throw Error("--calibrate needs a model with one input; this one has " +
                std::to_string(g.inputs().size()));
  for (const std::string& file : o.calibrate)
    samples.push_back({{g.inputs()[0]->name, loadInput(file, *g.inputs()[0], preprocess, g)}});
  return samples;
}

Graph quantizeCalibrated(const Graph& g, const std::vector<std::map<std::string, NDArray>>& samples,
                         const Int8Options& o, std::string* summary) {
  CalibrationOptions cal;
  cal.method = parseCalibrationMethod(o.calibration);
  ChannelRanges channels;
  const auto ranges = calibrate(g, samples, cal, o.perChannel ? &channels : nullptr);
  QuantizeReport report;
  Graph q = quantizeGraph(g, ranges, &report, o.perChannel ? &channels : nullptr);
  *summary = std::to_string(report.quantized) + " operators quantized, " +
             std::to_string(report.floatOps) + " left in float; " + o.calibration +
             " calibration on " + std::to_string(samples.size()) + " input(s)";
  return q;
}

}  // namespace kiln::cli
