// The TF.js layers front end on small hand-made models: Sequential and Functional (Keras 2
// and Keras 3 inbound-node encodings), uint8 dequantisation, TF 'same' padding, and errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "kiln/frontend/tfjs.h"
#include "kiln/ref/executor.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

fs::path writeModel(const std::string& name, const std::string& topology,
                    const std::string& weights, const std::vector<uint8_t>& bytes) {
  fs::path dir = fs::temp_directory_path() / ("kiln_tfjs_" + name);
  fs::create_directories(dir);
  std::ofstream(dir / "model.json")
      << R"({"format":"layers-model","modelTopology":)" << topology
      << R"(,"weightsManifest":[{"paths":["w.bin"],"weights":)" << weights << "}]}";
  std::ofstream(dir / "w.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  return dir / "model.json";
}

std::vector<uint8_t> floatBytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

const char* kDenseSeq = R"({"class_name":"Sequential","config":{"name":"seq","layers":[
  {"class_name":"InputLayer","config":{"name":"in","batch_input_shape":[null,2]}},
  {"class_name":"Dense","config":{"name":"fc","units":2,"activation":"relu","use_bias":true}}]}})";

TEST(Tfjs, SequentialDenseComputesKerasSemantics) {
  // kernel [in=2, out=2] = [[1, 2], [3, -4]], bias [0.5, 0]
  auto path = writeModel("seq", kDenseSeq,
                         R"([{"name":"fc/kernel","shape":[2,2],"dtype":"float32"},
                             {"name":"fc/bias","shape":[2],"dtype":"float32"}])",
                         floatBytes({1, 2, 3, -4, 0.5f, 0}));
  Expected<Graph> g = importTfjs(path.string());
  ASSERT_TRUE(g) << g.message();
  auto out = ref::Executor(*g).run({{"in", NDArray::fromVector<float>({1, 2}, {1, 1})}});
  // [1,1] @ kernel + bias = [4.5, -2] -> relu -> [4.5, 0]
  EXPECT_FLOAT_EQ(out[0].data<float>()[0], 4.5f);
  EXPECT_FLOAT_EQ(out[0].data<float>()[1], 0.0f);
}

TEST(Tfjs, Uint8WeightsDequantiseAsQTimesScalePlusMin) {
  auto path = writeModel("quant", kDenseSeq,
                         R"([{"name":"fc/kernel","shape":[2,2],"dtype":"float32",
                              "quantization":{"dtype":"uint8","scale":0.5,"min":-1}},
                             {"name":"fc/bias","shape":[2],"dtype":"float32",
                              "quantization":{"dtype":"uint8","scale":0.5,"min":-1}}])",
                         {2, 4, 6, 0, 2, 2});  // kernel [[0,1],[2,-1]], bias [0,0]
  Expected<Graph> g = importTfjs(path.string());
  ASSERT_TRUE(g) << g.message();
  auto out = ref::Executor(*g).run({{"in", NDArray::fromVector<float>({1, 2}, {1, 1})}});
  EXPECT_FLOAT_EQ(out[0].data<float>()[0], 2.0f);
  EXPECT_FLOAT_EQ(out[0].data<float>()[1], 0.0f);
}

TEST(Tfjs, FunctionalKeras3SamePaddingConv) {
  // 1x5x5x1 input, 3x3 stride-2 'same' conv of ones: TF pads 1 on each side (total 2).
  const char* topo = R"({"class_name":"Functional","config":{"name":"f","layers":[
    {"class_name":"InputLayer","name":"x","config":{"name":"x","batch_shape":[null,5,5,1]},"inbound_nodes":[]},
    {"class_name":"Conv2D","name":"c","config":{"name":"c","kernel_size":[3,3],"strides":[2,2],"padding":"same",
      "use_bias":false,"activation":"linear"},
     "inbound_nodes":[{"args":[{"class_name":"__keras_tensor__","config":{"keras_history":["x",0,0]}}]}]}],
    "input_layers":[["x",0,0]],"output_layers":[["c",0,0]]}})";
  auto path =
      writeModel("func", topo, R"([{"name":"c/kernel","shape":[3,3,1,1],"dtype":"float32"}])",
                 floatBytes(std::vector<float>(9, 1.0f)));
  Expected<Graph> g = importTfjs(path.string());
  ASSERT_TRUE(g) << g.message();
  ASSERT_EQ(g->outputs()[0]->shape, (Shape{1, 3, 3, 1}));
  auto out = ref::Executor(*g).run(
      {{"x", NDArray::fromVector<float>({1, 5, 5, 1}, std::vector<float>(25, 1.0f))}});
  // Corner windows see 2x2 real pixels, edges 2x3, the centre 3x3.
  std::vector<float> want = {4, 6, 4, 6, 9, 6, 4, 6, 4};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(out[0].data<float>()[i], want[i]) << i;
}

TEST(Tfjs, ErrorsNameTheLayer) {
  const char* lstm = R"({"class_name":"Sequential","config":{"layers":[
    {"class_name":"InputLayer","config":{"name":"in","batch_input_shape":[null,2]}},
    {"class_name":"LSTM","config":{"name":"rnn"}}]}})";
  Expected<Graph> g = importTfjs(writeModel("lstm", lstm, "[]", {}).string());
  ASSERT_FALSE(g);
  EXPECT_NE(g.message().find("layer 'rnn' (LSTM): unsupported layer class LSTM"), std::string::npos)
      << g.message();

  Expected<Graph> t =
      importTfjs(writeModel("trunc", kDenseSeq,
                            R"([{"name":"fc/kernel","shape":[2,2],"dtype":"float32"}])", {1, 2, 3})
                     .string());
  ASSERT_FALSE(t);
  EXPECT_NE(t.message().find("fc/kernel"), std::string::npos) << t.message();

  Expected<Graph> m = importTfjs(writeModel("missing", kDenseSeq, "[]", {}).string());
  ASSERT_FALSE(m);
  EXPECT_NE(m.message().find("weight 'fc/kernel' is not in the weights manifest"),
            std::string::npos)
      << m.message();
}

}  // namespace
}  // namespace kiln
