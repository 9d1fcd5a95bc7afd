// TF.js layers model -> graph IR. See kiln/frontend/tfjs.h.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include "kiln/frontend/tfjs.h"
#include "kiln/ops/op_registry.h"
#include "kiln/ref/executor.h"

namespace kiln {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// A Keras tensor as the importer holds it: the graph value, stored NCHW when rank 4.
struct KTensor {
  Value* v = nullptr;
};

class TfjsImporter {
 public:
  TfjsImporter(std::string path, const TfjsImportOptions& opts)
      : path_(std::move(path)), opts_(opts) {}

  Graph run() {
    std::ifstream f(path_);
    if (!f) throw Error("cannot open file");
    json doc;
    try {
      doc = json::parse(f);
    } catch (const json::exception& e) {
      throw Error(std::string("not valid JSON: ") + e.what());
    }
    if (!doc.is_object() || !doc.contains("modelTopology"))
      throw Error("not a TF.js layers model (no modelTopology; graph models are not supported)");
    if (doc.contains("format") && doc["format"] != "layers-model")
      throw Error("TF.js format '" + doc["format"].dump() +
                  "' is not supported (only layers-model)");
    readWeights(doc.value("weightsManifest", json::array()));
    json topo = doc["modelTopology"];
    if (topo.contains("model_config")) topo = topo["model_config"];
    g_.name = topo.value("config", json::object()).value("name", "model");
    g_.metadata["preprocess"] = "tf";
    std::ifstream labels(fs::path(path_).parent_path() / "labels.txt");
    if (labels) g_.metadata["labels"] = std::string(std::istreambuf_iterator<char>(labels), {});

    std::vector<KTensor> outs = buildModel(topo, {});
    for (KTensor& t : outs) {
      Value* v = t.v;
      if (v->shape.size() == 4)
        v = emit("Transpose", {v}, {{"perm", std::vector<int64_t>{0, 2, 3, 1}}}, "output_nhwc");
      g_.markOutput(v);
    }
    for (auto& [name, _] : weights_)
      if (!used_.count(name)) unusedWeights_.push_back(name);
    g_.eliminateDeadCode();
    verifyGraph(g_);
    return std::move(g_);
  }

 private:
  // ---- weights ----------------------------------------------------------------------
  void readWeights(const json& manifest) {
    fs::path dir = fs::path(path_).parent_path();
    for (const json& group : manifest) {
      std::string bytes;
      for (const json& p : group.at("paths")) {
        std::string rel = p.get<std::string>();
        fs::path r(rel);
        if (r.is_absolute() ||
            std::any_of(r.begin(), r.end(), [](const fs::path& q) { return q == ".."; }))
          throw Error("weight shard path '" + rel + "' must be relative to the model's directory");
        std::ifstream s(dir / r, std::ios::binary);
        if (!s) throw Error("cannot open weight shard '" + (dir / r).string() + "'");
        bytes.append(std::istreambuf_iterator<char>(s), {});
      }
      size_t offset = 0;
      for (const json& w : group.at("weights")) {
        std::string name = w.at("name");
        Shape shape = w.at("shape").get<Shape>();
        std::string dtype = w.value("dtype", "float32");
        int64_t n = shapeNumel(shape);
        NDArray a(DType::F32, shape);
        if (w.contains("quantization")) {
          const json& q = w["quantization"];
          std::string qd = q.at("dtype");
          size_t es = qd == "uint8" ? 1 : qd == "uint16" ? 2 : qd == "float16" ? 2 : 0;
          if (!es)
            throw Error("weight '" + name + "': quantization dtype '" + qd + "' is not supported");
          need(bytes, offset, n * es, name);
          const double scale = q.value("scale", 1.0), min = q.value("min", 0.0);
          for (int64_t i = 0; i < n; ++i) {
            const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + offset + i * es);
            if (qd == "float16") {
              a.data<float>()[i] = halfToFloat(static_cast<uint16_t>(p[0] | (p[1] << 8)));
            } else {
              double qv = es == 1 ? p[0] : (p[0] | (p[1] << 8));
              // value = q * scale + min, in double and then rounded, as TF.js does.
              a.data<float>()[i] = static_cast<float>(qv * scale + min);
            }
          }
          offset += static_cast<size_t>(n) * es;
        } else if (dtype == "float32") {
          need(bytes, offset, n * 4, name);
          std::memcpy(a.rawData(), bytes.data() + offset, a.nbytes());
          offset += a.nbytes();
        } else if (dtype == "int32") {
          need(bytes, offset, n * 4, name);
          NDArray ia(DType::I32, shape);
          std::memcpy(ia.rawData(), bytes.data() + offset, ia.nbytes());
          a = ia;
          offset += ia.nbytes();
        } else {
          throw Error("weight '" + name + "': dtype '" + dtype + "' is not supported");
        }
        weights_[name] = a;
      }
      if (offset != bytes.size())
        throw Error("weight shards hold " + std::to_string(bytes.size()) +
                    " bytes but the manifest describes " + std::to_string(offset));
    }
  }
  static void need(const std::string& bytes, size_t offset, int64_t n, const std::string& name) {
    if (offset + static_cast<size_t>(n) > bytes.size())
      throw Error("weight '" + name +
                  "' runs past the end of its shards (truncated weight files?)");
  }

  // Finds a layer's weight: "<layer>/<suffix>", allowing a scope prefix ("model/<layer>/...").
  NDArray weight(const std::string& layer, const std::string& suffix, bool required = true) {
    std::string key = layer + "/" + suffix;
    auto it = weights_.find(key);
    if (it == weights_.end())
      for (auto j = weights_.begin(); j != weights_.end(); ++j)
        if (j->first.size() > key.size() &&
            j->first.compare(j->first.size() - key.size(), key.size(), key) == 0 &&
            j->first[j->first.size() - key.size() - 1] == '/') {
          it = j;
          break;
        }
    if (it == weights_.end()) {
      if (!required) return {};
      throw Error("layer '" + layer + "': weight '" + key + "' is not in the weights manifest");
    }
    used_.insert(it->first);
    return it->second;
  }

  // ---- graph building ---------------------------------------------------------------
  Value* emit(const std::string& op, std::vector<Value*> in, std::map<std::string, Attribute> attrs,
              const std::string& name) {
    return addOpNode(g_, op, std::move(in), std::move(attrs), name, curLayer_,
                     /*withPrefix=*/false);
  }
  Value* constant(const std::string& name, NDArray a) { return g_.addConstant(name, std::move(a)); }

  // Runs a Keras model (Sequential or Functional) on the given inputs (empty: create graph inputs).
  std::vector<KTensor> buildModel(const json& topo, const std::vector<KTensor>& inputs) {
    std::string cls = topo.value("class_name", "");
    const json& config = topo.at("config");
    if (cls == "Sequential") return buildSequential(config, inputs);
    if (cls == "Model" || cls == "Functional") return buildFunctional(config, inputs);
    throw Error("model class '" + cls + "' is not supported (Sequential, Model, Functional)");
  }

  std::vector<KTensor> buildSequential(const json& config, const std::vector<KTensor>& inputs) {
    const json& layers = config.is_array() ? config : config.at("layers");
    std::vector<KTensor> cur = inputs;
    for (const json& layer : layers) {
      if (cur.empty()) {
        const json& lc = layer.at("config");
        cur = {makeInput(lc.value("name", "input"), lc)};
        if (layer.value("class_name", "") == "InputLayer") continue;
      }
      cur = applyLayer(layer, cur);
    }
    return cur;
  }

  std::vector<KTensor> buildFunctional(const json& config, const std::vector<KTensor>& inputs) {
    // name -> outputs of each call of that layer (node index -> tensors)
    std::map<std::string, std::vector<std::vector<KTensor>>> produced;
    const json& inputLayers = config.at("input_layers");
    size_t inputIdx = 0;
    std::map<std::string, const json*> byName;
    for (const json& layer : config.at("layers"))
      byName[layer.at("name").get<std::string>()] = &layer;
    auto ref = [&](const json& r) -> KTensor {
      // Keras 2: ["name", node_index, tensor_index, {...}]
      std::string name;
      size_t node = 0, tensor = 0;
      if (r.is_array()) {
        name = r.at(0);
        node = r.at(1);
        tensor = r.at(2);
      } else if (r.is_object() && r.contains("config") && r["config"].contains("keras_history")) {
        const json& h = r["config"]["keras_history"];
        name = h.at(0);
        node = h.at(1);
        tensor = h.at(2);
      } else {
        throw Error("unrecognised inbound tensor reference " + r.dump());
      }
      auto it = produced.find(name);
      if (it == produced.end() || node >= it->second.size() || tensor >= it->second[node].size())
        throw Error("layer '" + name + "' is used before it is computed (topology out of order)");
      return it->second[node][tensor];
    };
    for (const json& layer : config.at("layers")) {
      std::string name = layer.at("name");
      std::string cls = layer.at("class_name");
      if (cls == "InputLayer") {
        KTensor t;
        if (!inputs.empty()) {
          if (inputIdx >= inputs.size())
            throw Error("nested model has more inputs than it is given");
          t = inputs[inputIdx++];
        } else {
          t = makeInput(name, layer.at("config"));
        }
        produced[name].push_back({t});
        continue;
      }
      const json& inbound = layer.value("inbound_nodes", json::array());
      for (const json& call : inbound) {
        std::vector<KTensor> args;
        if (call.is_array()) {
          for (const json& r : call) args.push_back(ref(r));
        } else if (call.is_object() && call.contains("args")) {  // Keras 3
          for (const json& a : call["args"]) {
            if (a.is_array())
              for (const json& r : a) args.push_back(ref(r));
            else
              args.push_back(ref(a));
          }
        } else {
          throw Error("layer '" + name + "': unrecognised inbound_nodes entry");
        }
        produced[name].push_back(applyLayer(layer, args));
      }
    }
    std::vector<KTensor> outs;
    for (const json& r : config.at("output_layers")) outs.push_back(ref(r));
    (void)inputLayers;
    return outs;
  }

  KTensor makeInput(const std::string& name, const json& config) {
    json bis = config.contains("batch_input_shape") ? config["batch_input_shape"]
               : config.contains("batch_shape")     ? config["batch_shape"]
                                                    : json();
    Shape shape;
    auto ov = opts_.inputShapes.find(name);
    if (ov != opts_.inputShapes.end()) {
      shape = ov->second;
    } else {
      if (!bis.is_array()) throw Error("input layer '" + name + "' has no batch_input_shape");
      for (const json& d : bis) {
        if (d.is_null()) {
          if (!shape.empty())
            throw Error("input '" + name + "' has an unknown spatial size; give it with --shape " +
                        name + "=1x224x224x3");
          shape.push_back(1);
        } else {
          shape.push_back(d.get<int64_t>());
        }
      }
    }
    Value* in = g_.addInput(name, DType::F32, shape);
    if (shape.size() == 4) {
      curLayer_ = name;
      return {
          emit("Transpose", {in}, {{"perm", std::vector<int64_t>{0, 3, 1, 2}}}, name + "_nchw")};
    }
    return {in};
  }

  // Keras channel-last axis -> NCHW axis for rank-4 tensors.
  static int64_t mapAxis(int64_t axis, size_t rank) {
    if (axis < 0) axis += static_cast<int64_t>(rank);
    if (rank != 4) return axis;
    static const int64_t m[4] = {0, 2, 3, 1};
    return m[axis];
  }

  // TF 'same'/'valid' padding -> pads[4] (top, left, bottom, right); extra pixel bottom/right.
  static std::vector<int64_t> tfPads(const std::string& padding, const Shape& nchw,
                                     const std::vector<int64_t>& k, const std::vector<int64_t>& s,
                                     const std::vector<int64_t>& d) {
    if (padding == "valid") return {0, 0, 0, 0};
    if (padding != "same") throw Error("padding '" + padding + "' is not supported (same, valid)");
    std::vector<int64_t> p(4);
    for (size_t a = 0; a < 2; ++a) {
      int64_t in = nchw[2 + a], out = (in + s[a] - 1) / s[a];
      int64_t total = std::max<int64_t>(0, (out - 1) * s[a] + (k[a] - 1) * d[a] + 1 - in);
      p[a] = total / 2;
      p[a + 2] = total - total / 2;
    }
    return p;
  }
  static std::vector<int64_t> pairOf(const json& c, const std::string& key, int64_t dflt) {
    if (!c.contains(key)) return {dflt, dflt};
    const json& v = c[key];
    if (v.is_number()) return {v.get<int64_t>(), v.get<int64_t>()};
    return {v.at(0).get<int64_t>(), v.at(1).get<int64_t>()};
  }

  // The layer's output is named after the layer; with a non-linear activation the value
  // before it is "<layer>_linear" (for a classifier's last Dense layer: its logits).
  static std::string linearName(const json& c, const std::string& name) {
    std::string act = c.value("activation", "linear");
    return act == "linear" ? name : name + "_linear";
  }

  Value* activation(const std::string& act, Value* x, const std::string& name) {
    if (act.empty() || act == "linear") return x;
    if (act == "relu") return emit("Relu", {x}, {}, name);
    if (act == "relu6") return emit("Clip", {x}, {{"min", 0.0}, {"max", 6.0}}, name);
    if (act == "sigmoid") return emit("Sigmoid", {x}, {}, name);
    if (act == "tanh") return emit("Tanh", {x}, {}, name);
    if (act == "softmax") {
      int64_t axis = x->shape.size() == 4 ? 1 : static_cast<int64_t>(x->shape.size()) - 1;
      return emit("Softmax", {x}, {{"axis", axis}}, name);
    }
    throw Error("activation '" + act + "' is not supported");
  }

  Value* conv(const json& c, const std::string& name, Value* x, NDArray w, int64_t group) {
    // w is OIHW already.
    auto s = pairOf(c, "strides", 1);
    auto d = pairOf(c, "dilation_rate", 1);
    std::vector<int64_t> k = {w.shape()[2], w.shape()[3]};
    auto pads = tfPads(c.value("padding", "valid"), x->shape, k, s, d);
    std::vector<Value*> in = {x, constant(name + "/kernel", w)};
    if (c.value("use_bias", true)) in.push_back(constant(name + "/bias", weight(name, "bias")));
    Value* y =
        emit("Conv", in, {{"strides", s}, {"pads", pads}, {"dilations", d}, {"group", group}},
             linearName(c, name));
    return activation(c.value("activation", "linear"), y, name);
  }

  std::vector<KTensor> applyLayer(const json& layer, const std::vector<KTensor>& args) {
    const std::string cls = layer.at("class_name");
    const json& c = layer.at("config");
    const std::string name = c.value("name", layer.value("name", cls));
    curLayer_ = name;
    try {
      if (args.empty()) throw Error("layer has no inputs");
      Value* x = args[0].v;
      auto requireRank4 = [&]() {
        if (x->shape.size() != 4)
          throw Error("expects a 4-D NHWC input, got rank " + std::to_string(x->shape.size()));
      };
      if (cls == "Model" || cls == "Functional" || cls == "Sequential")
        return buildModel(layer, args);
      if (cls == "Conv2D") {
        requireRank4();
        NDArray hwio = weight(name, "kernel");
        if (hwio.rank() != 4) throw Error("kernel must be 4-D");
        int64_t groups = c.value("groups", 1);
        NDArray oihw = transpose(hwio, {3, 2, 0, 1});
        return {{conv(c, name, x, oihw, groups)}};
      }
      if (cls == "DepthwiseConv2D") {
        requireRank4();
        NDArray hwim = weight(name, "depthwise_kernel");  // [kh, kw, in, mult]
        if (hwim.rank() != 4) throw Error("depthwise_kernel must be 4-D");
        int64_t kh = hwim.shape()[0], kw = hwim.shape()[1], ic = hwim.shape()[2],
                mult = hwim.shape()[3];
        NDArray w(DType::F32, {ic * mult, 1, kh, kw});
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j)
            for (int64_t ch = 0; ch < ic; ++ch)
              for (int64_t m = 0; m < mult; ++m)
                w.data<float>()[((ch * mult + m) * kh + i) * kw + j] =
                    hwim.data<float>()[((i * kw + j) * ic + ch) * mult + m];
        return {{conv(c, name, x, w, ic)}};
      }
      if (cls == "BatchNormalization") {
        int64_t axis = c.value("axis", json(-1)).is_array() ? c["axis"][0].get<int64_t>()
                                                            : c.value("axis", -1);
        int64_t rank = static_cast<int64_t>(x->shape.size());
        if (mapAxis(axis, x->shape.size()) != 1)
          throw Error("only channel-axis batch normalisation is supported");
        (void)rank;
        int64_t ch = x->shape[1];
        NDArray gamma = c.value("scale", true) ? weight(name, "gamma") : filled(ch, 1.0f);
        NDArray beta = c.value("center", true) ? weight(name, "beta") : filled(ch, 0.0f);
        Value* y = emit("BatchNormalization",
                        {x, constant(name + "/gamma", gamma), constant(name + "/beta", beta),
                         constant(name + "/moving_mean", weight(name, "moving_mean")),
                         constant(name + "/moving_variance", weight(name, "moving_variance"))},
                        {{"epsilon", c.value("epsilon", 1e-3)}}, name);
        return {{y}};
      }
      if (cls == "ReLU") {
        double maxValue = c.contains("max_value") && !c["max_value"].is_null()
                              ? c["max_value"].get<double>()
                              : std::numeric_limits<double>::infinity();
        double slope = c.value("negative_slope", 0.0), threshold = c.value("threshold", 0.0);
        if (slope != 0 || threshold != 0)
          throw Error("ReLU with negative_slope or threshold is not supported");
        if (std::isinf(maxValue)) return {{emit("Relu", {x}, {}, name)}};
        return {{emit("Clip", {x}, {{"min", 0.0}, {"max", maxValue}}, name)}};
      }
      if (cls == "Activation") {
        if (c.at("activation") == "linear") return {{x}};
        return {{activation(c.at("activation"), x, name)}};
      }
      if (cls == "Softmax") return {{activation("softmax", x, name)}};
      if (cls == "Dropout" || cls == "SpatialDropout2D" || cls == "GaussianNoise") return {{x}};
      if (cls == "Add" || cls == "Multiply" || cls == "Subtract") {
        std::string op = cls == "Add" ? "Add" : cls == "Multiply" ? "Mul" : "Sub";
        Value* y = x;
        for (size_t k = 1; k < args.size(); ++k) y = emit(op, {y, args[k].v}, {}, name);
        return {{y}};
      }
      if (cls == "Concatenate") {
        std::vector<Value*> in;
        for (const KTensor& t : args) in.push_back(t.v);
        int64_t axis = mapAxis(c.value("axis", -1), x->shape.size());
        return {{emit("Concat", in, {{"axis", axis}}, name)}};
      }
      if (cls == "ZeroPadding2D") {
        requireRank4();
        std::vector<int64_t> tb{1, 1}, lr{1, 1};
        const json& p = c.at("padding");
        if (p.is_number())
          tb = lr = {p.get<int64_t>(), p.get<int64_t>()};
        else if (p.at(0).is_number())
          tb = {p[0], p[0]}, lr = {p[1], p[1]};
        else
          tb = {p[0][0], p[0][1]}, lr = {p[1][0], p[1][1]};
        return {{emit("Pad", {x},
                      {{"pads", std::vector<int64_t>{0, 0, tb[0], lr[0], 0, 0, tb[1], lr[1]}},
                       {"value", 0.0}},
                      name)}};
      }
      if (cls == "MaxPooling2D" || cls == "AveragePooling2D") {
        requireRank4();
        auto k = pairOf(c, "pool_size", 2);
        auto s = c.contains("strides") && !c["strides"].is_null() ? pairOf(c, "strides", 1) : k;
        auto pads = tfPads(c.value("padding", "valid"), x->shape, k, s, {1, 1});
        std::map<std::string, Attribute> attrs = {
            {"kernel_shape", k}, {"strides", s}, {"pads", pads}, {"ceil_mode", int64_t{0}}};
        if (cls == "MaxPooling2D")
          attrs["dilations"] = std::vector<int64_t>{1, 1};
        else
          attrs["count_include_pad"] = int64_t{0};  // TF averages over the valid pixels only
        return {{emit(cls == "MaxPooling2D" ? "MaxPool" : "AveragePool", {x}, attrs, name)}};
      }
      if (cls == "GlobalAveragePooling2D" || cls == "GlobalMaxPooling2D") {
        requireRank4();
        Value* y = emit(cls == "GlobalAveragePooling2D" ? "GlobalAveragePool" : "GlobalMaxPool",
                        {x}, {}, name + "_pool");
        if (c.value("keepdims", false)) return {{y}};
        return {{emit("Reshape", {y}, {{"shape", Shape{x->shape[0], x->shape[1]}}}, name)}};
      }
      if (cls == "Flatten") {
        Value* y = x;
        if (x->shape.size() == 4)
          y = emit("Transpose", {x}, {{"perm", std::vector<int64_t>{0, 2, 3, 1}}}, name + "_nhwc");
        return {{emit("Reshape", {y},
                      {{"shape", Shape{x->shape[0], shapeNumel(x->shape) / x->shape[0]}}}, name)}};
      }
      if (cls == "Reshape") {
        Shape target = c.at("target_shape").get<Shape>();
        Value* y = x;
        if (x->shape.size() == 4)
          y = emit("Transpose", {x}, {{"perm", std::vector<int64_t>{0, 2, 3, 1}}}, name + "_nhwc");
        Shape full = {x->shape[0]};
        int64_t known = x->shape[0], at = -1;
        for (int64_t d : target) {
          if (d == -1)
            at = static_cast<int64_t>(full.size());
          else
            known *= d;
          full.push_back(d);
        }
        if (at >= 0) full[at] = shapeNumel(x->shape) / known;
        y = emit("Reshape", {y}, {{"shape", full}}, full.size() == 4 ? name + "_nhwc_out" : name);
        if (full.size() == 4)
          y = emit("Transpose", {y}, {{"perm", std::vector<int64_t>{0, 3, 1, 2}}}, name);
        return {{y}};
      }
      if (cls == "Dense") {
        if (x->shape.size() != 2)
          throw Error("Dense on a rank-" + std::to_string(x->shape.size()) +
                      " input is not supported");
        std::vector<Value*> in = {x, constant(name + "/kernel", weight(name, "kernel"))};
        if (c.value("use_bias", true)) in.push_back(constant(name + "/bias", weight(name, "bias")));
        Value* y =
            emit("Gemm", in,
                 {{"transA", int64_t{0}}, {"transB", int64_t{0}}, {"alpha", 1.0}, {"beta", 1.0}},
                 linearName(c, name));
        return {{activation(c.value("activation", "linear"), y, name)}};
      }
      throw Error("unsupported layer class " + cls);
    } catch (const Error& e) {
      std::string msg = e.what();
      if (msg.rfind("layer '", 0) == 0) throw;
      throw Error("layer '" + name + "' (" + cls + "): " + msg);
    } catch (const json::exception& e) {
      throw Error("layer '" + name + "' (" + cls + "): malformed config: " + e.what());
    }
  }

  static NDArray filled(int64_t n, float v) {
    return NDArray::fromVector<float>({n}, std::vector<float>(n, v));
  }
  static NDArray transpose(const NDArray& a, std::vector<int64_t> perm) {
    Node n;
    n.op = "Transpose";
    n.attrs["perm"] = perm;
    Value in, out;
    in.shape = a.shape();
    n.inputs = {&in};
    n.outputs = {&out};
    inferNode(n);
    return ref::evalNode(n, {&a})[0];
  }

  std::string path_;
  const TfjsImportOptions& opts_;
  Graph g_;
  std::map<std::string, NDArray> weights_;
  std::set<std::string> used_;
  std::vector<std::string> unusedWeights_;
  std::string curLayer_;
};

}  // namespace

Expected<Graph> importTfjs(const std::string& modelJsonPath, const TfjsImportOptions& options) {
  return catchErrors([&]() -> Graph {
    try {
      return TfjsImporter(modelJsonPath, options).run();
    } catch (const Error& e) {
      throw Error(modelJsonPath + ": " + e.what());
    } catch (const json::exception& e) {
      throw Error(modelJsonPath + ": malformed model.json: " + e.what());
    }
  });
}

}  // namespace kiln
