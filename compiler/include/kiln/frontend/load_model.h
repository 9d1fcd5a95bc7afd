// Loads a model from any supported format, chosen by what the path is:
//   *.onnx                     ONNX
//   model.json / a directory   TensorFlow.js layers model (model.json + weight shards)
#pragma once

#include <string>

#include "kiln/frontend/onnx.h"

namespace kiln {

struct ModelLoadOptions {
  std::map<std::string, Shape> inputShapes;  // overrides for input shapes
};

Expected<Graph> loadModel(const std::string& path, const ModelLoadOptions& options = {});

}  // namespace kiln
