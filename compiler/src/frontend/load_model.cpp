// Front-end dispatch by file type.
#include "kiln/frontend/load_model.h"

#include <filesystem>
#include <fstream>

#include "kiln/frontend/tfjs.h"

namespace kiln {

Expected<Graph> loadModel(const std::string& path, const ModelLoadOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) return Error(path + ": no such file or directory");
  fs::path p(path);
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "model.json", ec))
      return importTfjs((p / "model.json").string(), {options.inputShapes});
    return Error(path +
                 ": a directory without model.json (expected an .onnx file or a TF.js model)");
  }
  if (p.extension() == ".json") return importTfjs(path, {options.inputShapes});
  OnnxImportOptions o;
  o.inputShapes = options.inputShapes;
  return importOnnx(path, o);
}

}  // namespace kiln
