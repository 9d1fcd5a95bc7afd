// The ONNX front end: reads a model (opsets 7 to 21) into Kiln's graph IR.
//
// Each ONNX node is translated into Kiln operators with canonical attributes (auto_pad
// resolved to explicit pads, Clip bounds and Reshape shapes made attributes, legacy Softmax
// expanded, Flatten/Squeeze/Unsqueeze as Reshape, Dropout and Identity removed). Shapes are
// inferred node by node and constant subgraphs (Shape -> Gather -> Unsqueeze -> Concat) are
// folded as they are read. Anything Kiln cannot run is refused with one line naming the
// node, the operator and the opset.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "kiln/ir/graph.h"

namespace kiln {

struct OnnxImportOptions {
  // Shapes for graph inputs, overriding the model's (needed for symbolic dimensions).
  std::map<std::string, Shape> inputShapes;
  // Value used for a symbolic dimension (e.g. batch "N") that inputShapes does not give.
  int64_t symbolicDimValue = 1;
  // Graph inputs bound to fixed values: they become constants and are folded into the graph
  // (for inputs that carry shapes, axes or clip bounds in a model that is deployed with
  // fixed values for them).
  std::map<std::string, NDArray> constantInputs;
};

Expected<Graph> importOnnx(const std::string& path, const OnnxImportOptions& options = {});
// Imports from bytes in memory; external data files are looked up in baseDir.
Expected<Graph> importOnnxBytes(std::string_view bytes, const std::string& baseDir,
                                const OnnxImportOptions& options = {});

// The model's graph inputs (those that are not initializers), in declaration order, without
// importing it. Returns an empty list for a file that cannot be read.
struct ModelInput {
  std::string name;
};
std::vector<ModelInput> listOnnxInputs(const std::string& path);
// The operator types of the model's nodes, in order (empty when the file cannot be read).
std::vector<std::string> listOnnxOps(const std::string& path);

// Reads a serialized onnx.TensorProto (the .pb files of ONNX test data sets).
Expected<NDArray> readOnnxTensor(const std::string& path);

// The ONNX operators the front end accepts.
std::vector<std::string> supportedOnnxOps();

}  // namespace kiln
