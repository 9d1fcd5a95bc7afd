// Helpers shared by the subcommands: shape specs, model loading, class labels.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "commands.h"

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

}  // namespace kiln::cli
