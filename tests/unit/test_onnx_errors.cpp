// The ONNX front end on bad input: every case gives one line naming the node, the operator
// and the opset (or the file and what is wrong with it), never a crash.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>

#include "kiln/frontend/onnx.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

// A small valid model: input x[1,2,4,4] -> Conv(w[3,2,3,3]) -> Relu -> y.
onnx::ModelProto convModel(int opset = 13) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  auto* g = m.mutable_graph();
  g->set_name("small");
  auto* in = g->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int d : {1, 2, 4, 4}) tt->mutable_shape()->add_dim()->set_dim_value(d);
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  for (int d : {3, 2, 3, 3}) w->add_dims(d);
  for (int i = 0; i < 54; ++i) w->add_float_data(0.01f * i);
  auto* conv = g->add_node();
  conv->set_name("conv1");
  conv->set_op_type("Conv");
  conv->add_input("x");
  conv->add_input("w");
  conv->add_output("c");
  auto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int p : {1, 1, 1, 1}) pads->add_ints(p);
  auto* relu = g->add_node();
  relu->set_name("relu1");
  relu->set_op_type("Relu");
  relu->add_input("c");
  relu->add_output("y");
  auto* out = g->add_output();
  out->set_name("y");
  auto* ot = out->mutable_type()->mutable_tensor_type();
  ot->set_elem_type(onnx::TensorProto::FLOAT);
  for (int d : {1, 3, 4, 4}) ot->mutable_shape()->add_dim()->set_dim_value(d);
  return m;
}

std::string errorOf(const onnx::ModelProto& m) {
  std::string bytes;
  m.SerializeToString(&bytes);
  Expected<Graph> g = importOnnxBytes(bytes, ".");
  return g ? std::string("(imported fine)") : g.message();
}

void expectContains(const std::string& msg, std::initializer_list<const char*> parts) {
  for (const char* p : parts)
    EXPECT_NE(msg.find(p), std::string::npos) << "message lacks '" << p << "': " << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "message is not one line: " << msg;
}

TEST(OnnxErrors, ValidModelImports) {
  std::string bytes;
  convModel().SerializeToString(&bytes);
  Expected<Graph> g = importOnnxBytes(bytes, ".");
  ASSERT_TRUE(g) << g.message();
  EXPECT_EQ(g->outputs()[0]->shape, (Shape{1, 3, 4, 4}));
}

TEST(OnnxErrors, UnsupportedOperatorNamesNodeOpAndOpset) {
  auto m = convModel();
  m.mutable_graph()->mutable_node(1)->set_op_type("LSTM");
  expectContains(errorOf(m), {"node 'relu1'", "LSTM", "opset 13", "unsupported operator"});
}

TEST(OnnxErrors, CustomDomainIsRefused) {
  auto m = convModel();
  m.mutable_graph()->mutable_node(1)->set_domain("com.example");
  expectContains(errorOf(m), {"node 'relu1'", "com.example"});
}

TEST(OnnxErrors, MissingInitializerNamesTheInput) {
  auto m = convModel();
  m.mutable_graph()->clear_initializer();
  expectContains(errorOf(m), {"node 'conv1'", "Conv", "opset 13", "input 'w'", "not defined"});
}

TEST(OnnxErrors, InconsistentShapesNameTheNode) {
  auto m = convModel();
  // Weight expects 5 input channels, input has 2.
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_dims();
  for (int d : {3, 5, 3, 3}) w->add_dims(d);
  w->clear_float_data();
  for (int i = 0; i < 135; ++i) w->add_float_data(0);
  expectContains(errorOf(m), {"node 'conv1'", "Conv", "opset 13", "2 channels"});
}

TEST(OnnxErrors, DeclaredOutputShapeMismatch) {
  auto m = convModel();
  auto* dim = m.mutable_graph()
                  ->mutable_output(0)
                  ->mutable_type()
                  ->mutable_tensor_type()
                  ->mutable_shape()
                  ->mutable_dim(1);
  dim->set_dim_value(7);
  expectContains(errorOf(m), {"graph output 'y'", "[1,7,4,4]", "[1,3,4,4]", "inconsistent"});
}

TEST(OnnxErrors, InitializerDataSizeMismatch) {
  auto m = convModel();
  m.mutable_graph()->mutable_initializer(0)->mutable_float_data()->RemoveLast();
  expectContains(errorOf(m), {"initializer 'w'", "53 values", "expected 54"});
}

TEST(OnnxErrors, OpsetOutOfRange) {
  expectContains(errorOf(convModel(5)), {"opset 5", "7 to 21"});
  expectContains(errorOf(convModel(22)), {"opset 22", "7 to 21"});
}

TEST(OnnxErrors, NoOpsetImport) {
  auto m = convModel();
  m.clear_opset_import();
  expectContains(errorOf(m), {"no default-domain opset"});
}

TEST(OnnxErrors, TruncatedFileAtEveryLength) {
  // Cut the serialized model at many points: each must give an error (or, when the cut lands
  // on a field boundary, a model that fails validation) and never crash.
  std::string bytes;
  auto m = convModel();
  m.SerializeToString(&bytes);
  int errors = 0;
  for (size_t len = 1; len < bytes.size(); len += 3) {
    Expected<Graph> g = importOnnxBytes(std::string_view(bytes).substr(0, len), ".");
    if (!g) {
      ++errors;
      EXPECT_EQ(g.message().find('\n'), std::string::npos);
    }
  }
  EXPECT_GT(errors, 0);
}

TEST(OnnxErrors, TruncatedFileOnDiskSaysSo) {
  std::string bytes;
  convModel().SerializeToString(&bytes);
  fs::path p = fs::temp_directory_path() / "kiln_truncated.onnx";
  std::ofstream(p, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size() - 30));
  Expected<Graph> g = importOnnx(p.string());
  ASSERT_FALSE(g);
  expectContains(g.message(), {"kiln_truncated.onnx"});
}

TEST(OnnxErrors, GarbageAndMissingFiles) {
  fs::path p = fs::temp_directory_path() / "kiln_garbage.onnx";
  std::ofstream(p) << "this is not a model at all, just text\n";
  Expected<Graph> g = importOnnx(p.string());
  ASSERT_FALSE(g);
  expectContains(g.message(), {"kiln_garbage.onnx"});
  Expected<Graph> h = importOnnx("/nonexistent/model.onnx");
  ASSERT_FALSE(h);
  expectContains(h.message(), {"/nonexistent/model.onnx", "cannot open"});
}

TEST(OnnxErrors, ExternalDataOutsideModelDirIsRefused) {
  auto m = convModel();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* kv = w->add_external_data();
  kv->set_key("location");
  kv->set_value("../../etc/passwd");
  expectContains(errorOf(m), {"initializer 'w'", "relative path inside"});
}

TEST(OnnxErrors, ExternalDataRangePastEndOfFile) {
  fs::path dir = fs::temp_directory_path() / "kiln_ext";
  fs::create_directories(dir);
  std::ofstream(dir / "w.bin", std::ios::binary) << std::string(100, '\0');
  auto m = convModel();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* kv = w->add_external_data();
  kv->set_key("location");
  kv->set_value("w.bin");
  std::string bytes;
  m.SerializeToString(&bytes);
  Expected<Graph> g = importOnnxBytes(bytes, dir.string());
  ASSERT_FALSE(g);
  expectContains(g.message(), {"initializer 'w'", "100 bytes"});
}

TEST(OnnxErrors, DynamicReshapeShapeIsExplained) {
  auto m = convModel();
  auto* g = m.mutable_graph();
  auto* shapeIn = g->add_input();
  shapeIn->set_name("s");
  auto* tt = shapeIn->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::INT64);
  tt->mutable_shape()->add_dim()->set_dim_value(2);
  auto* r = g->add_node();
  r->set_name("reshape1");
  r->set_op_type("Reshape");
  r->add_input("y");
  r->add_input("s");
  r->add_output("z");
  g->mutable_output(0)->set_name("z");
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  expectContains(errorOf(m), {"node 'reshape1'", "Reshape", "must be a constant"});
}

}  // namespace
}  // namespace kiln
