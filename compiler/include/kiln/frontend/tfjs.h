// The TensorFlow.js layers-model front end: model.json (a Keras Sequential or Functional
// topology) plus its binary weight shards, including uint8/uint16-quantized weights.
//
// Keras works in NHWC with HWIO kernels; Kiln's graph is NCHW/OIHW. The importer transposes
// the input once, keeps every rank-4 tensor in NCHW, converts kernels at import time, and
// turns TF 'same' padding into explicit (possibly asymmetric) pads.
#pragma once

#include <map>
#include <string>

#include "kiln/ir/graph.h"

namespace kiln {

struct TfjsImportOptions {
  std::map<std::string, Shape> inputShapes;  // NHWC, as the model declares them
};

Expected<Graph> importTfjs(const std::string& modelJsonPath, const TfjsImportOptions& options = {});

}  // namespace kiln
