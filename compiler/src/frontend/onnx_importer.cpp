// ONNX -> graph IR. See kiln/frontend/onnx.h for what the translation normalises.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>

#include "kiln/frontend/onnx.h"
#include "kiln/ops/op_registry.h"
#include "kiln/ref/executor.h"

namespace kiln {

namespace {

constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 21;

// ONNX TensorProto.DataType -> Kiln DType (DOUBLE is read as f32).
DType onnxDType(int t, const std::string& what) {
  switch (t) {
    case onnx::TensorProto::FLOAT:
      return DType::F32;
    case onnx::TensorProto::DOUBLE:
      return DType::F32;
    case onnx::TensorProto::FLOAT16:
      return DType::F16;
    case onnx::TensorProto::INT8:
      return DType::I8;
    case onnx::TensorProto::UINT8:
      return DType::U8;
    case onnx::TensorProto::INT32:
      return DType::I32;
    case onnx::TensorProto::INT64:
      return DType::I64;
    case onnx::TensorProto::BOOL:
      return DType::Bool;
    default:
      throw Error(what + " has ONNX element type " + std::to_string(t) +
                  ", which Kiln does not support (f32, f16, i8, u8, i32, i64, bool)");
  }
}

class Importer {
 public:
  struct Ctx;
  using Handler = std::function<std::vector<Value*>(Importer&, const Ctx&)>;
  static const std::map<std::string, Handler>& handlers();

  Importer(std::string baseDir, const OnnxImportOptions& opts)
      : baseDir_(std::move(baseDir)), opts_(opts) {}

  Graph run(const onnx::ModelProto& model) {
    readOpset(model);
    if (!model.has_graph()) throw Error("the model has no graph");
    const onnx::GraphProto& gp = model.graph();
    g_.name = gp.name();
    g_.opset = opset_;
    for (const auto& kv : model.metadata_props()) g_.metadata[kv.key()] = kv.value();

    std::set<std::string> initNames;
    for (const auto& t : gp.initializer()) {
      if (t.name().empty()) throw Error("an initializer has no name");
      initNames.insert(t.name());
      define(t.name(),
             g_.addConstant(t.name(), tensorToArray(t, "initializer '" + t.name() + "'")));
    }
    for (const auto& vi : gp.input()) {
      if (initNames.count(vi.name())) continue;  // IR < 4 lists initializers as inputs too
      readInput(vi);
    }
    for (const auto& node : gp.node()) convertNode(node);
    for (const auto& vi : gp.output()) {
      Value* v = lookup(vi.name());
      if (!v) throw Error("graph output '" + vi.name() + "' is not produced by any node");
      checkDeclared(vi, v);
      // Keep the model's output names (Identity/Dropout may have aliased another value).
      if (v->name != vi.name()) {
        bool renamable =
            v->producer && !g_.findValue(vi.name()) &&
            std::find(g_.outputs().begin(), g_.outputs().end(), v) == g_.outputs().end();
        if (renamable) {
          g_.renameValue(v, vi.name());
        } else {
          curName_ = vi.name();
          Value* copy = g_.addValue(vi.name(), v->dtype, v->shape);
          Node* n = g_.addNode("Identity", vi.name(), {v}, {copy});
          inferNode(*n);
          v = copy;
        }
      }
      g_.markOutput(v);
    }
    if (g_.outputs().empty()) throw Error("the model's graph has no outputs");
    g_.eliminateDeadCode();
    verifyGraph(g_);
    return std::move(g_);
  }

 private:
  // ---- model-level ------------------------------------------------------------------
  void readOpset(const onnx::ModelProto& model) {
    for (const auto& op : model.opset_import())
      if (op.domain().empty() || op.domain() == "ai.onnx") opset_ = op.version();
    if (opset_ == 0) throw Error("the model declares no default-domain opset (opset_import)");
    if (opset_ < kMinOpset || opset_ > kMaxOpset)
      throw Error("the model uses opset " + std::to_string(opset_) + "; Kiln supports opsets " +
                  std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) +
                  " (convert it with onnx.version_converter)");
  }

  void readInput(const onnx::ValueInfoProto& vi) {
    const std::string what = "graph input '" + vi.name() + "'";
    if (!vi.type().has_tensor_type()) throw Error(what + " is not a tensor");
    const auto& tt = vi.type().tensor_type();
    DType dt = onnxDType(tt.elem_type(), what);
    auto bound = opts_.constantInputs.find(vi.name());
    if (bound != opts_.constantInputs.end()) {
      NDArray a = bound->second.dtype() == dt ? bound->second : bound->second.cast(dt);
      define(vi.name(), g_.addConstant(vi.name(), a));
      return;
    }
    Shape shape;
    auto ov = opts_.inputShapes.find(vi.name());
    if (ov != opts_.inputShapes.end()) {
      shape = ov->second;
    } else {
      if (!tt.has_shape())
        throw Error(what + " has no shape; give one with --shape " + vi.name() + "=1x3x224x224");
      for (const auto& d : tt.shape().dim()) {
        if (d.has_dim_value()) {
          if (d.dim_value() < 0) throw Error(what + " has a negative dimension");
          shape.push_back(d.dim_value());
        } else {
          shape.push_back(opts_.symbolicDimValue);
        }
      }
    }
    define(vi.name(), g_.addInput(vi.name(), dt, shape));
  }

  void checkDeclared(const onnx::ValueInfoProto& vi, const Value* v) {
    if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) return;
    const auto& dimsP = vi.type().tensor_type().shape().dim();
    bool allStatic =
        std::all_of(dimsP.begin(), dimsP.end(), [](const auto& d) { return d.has_dim_value(); });
    bool anyInputOverride = !opts_.inputShapes.empty();
    if (!allStatic || anyInputOverride) return;
    Shape declared;
    for (const auto& d : dimsP) declared.push_back(d.dim_value());
    if (declared != v->shape)
      throw Error("graph output '" + vi.name() + "' is declared " + shapeStr(declared) +
                  " but the graph computes " + shapeStr(v->shape) + " (inconsistent shapes)");
  }

 public:
  NDArray tensorToArray(const onnx::TensorProto& t, const std::string& what) {
    if (t.data_type() == onnx::TensorProto::STRING) throw Error(what + " is a string tensor");
    DType dt = onnxDType(t.data_type(), what);
    Shape shape(t.dims().begin(), t.dims().end());
    for (int64_t d : shape)
      if (d < 0) throw Error(what + " has a negative dimension");
    // Guard against absurd sizes before allocating.
    double elems = 1;
    for (int64_t d : shape) elems *= static_cast<double>(d);
    if (elems > 4e9) throw Error(what + " is too large (" + shapeStr(shape) + ")");
    const bool isDouble = t.data_type() == onnx::TensorProto::DOUBLE;
    const size_t srcElem = isDouble ? 8 : dtypeSize(dt);
    const int64_t n = shapeNumel(shape);
    NDArray a(dt, shape);

    std::string external;
    const std::string* raw = nullptr;
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      external = readExternal(t, what);
      raw = &external;
    } else if (t.has_raw_data()) {
      raw = &t.raw_data();
    }
    auto store = [&](int64_t i, double v) {
      switch (dt) {
        case DType::F32:
          a.data<float>()[i] = static_cast<float>(v);
          break;
        case DType::I8:
          a.data<int8_t>()[i] = static_cast<int8_t>(v);
          break;
        case DType::U8:
          a.data<uint8_t>()[i] = static_cast<uint8_t>(v);
          break;
        case DType::Bool:
          a.data<uint8_t>()[i] = v != 0;
          break;
        case DType::I32:
          a.data<int32_t>()[i] = static_cast<int32_t>(v);
          break;
        default:
          break;
      }
    };
    if (raw) {
      if (raw->size() != static_cast<size_t>(n) * srcElem)
        throw Error(what + " has " + std::to_string(raw->size()) + " bytes of data, expected " +
                    std::to_string(n * srcElem) + " for shape " + shapeStr(shape) +
                    " (truncated or corrupt model)");
      if (isDouble) {
        for (int64_t i = 0; i < n; ++i) {
          double v;
          std::memcpy(&v, raw->data() + i * 8, 8);
          a.data<float>()[i] = static_cast<float>(v);
        }
      } else if (n) {
        std::memcpy(a.rawData(), raw->data(), a.nbytes());
      }
      return a;
    }
    auto need = [&](int have) {
      if (have != n)
        throw Error(what + " has " + std::to_string(have) + " values, expected " +
                    std::to_string(n) + " for shape " + shapeStr(shape));
    };
    switch (t.data_type()) {
      case onnx::TensorProto::FLOAT:
        need(t.float_data_size());
        for (int64_t i = 0; i < n; ++i) a.data<float>()[i] = t.float_data(static_cast<int>(i));
        break;
      case onnx::TensorProto::DOUBLE:
        need(t.double_data_size());
        for (int64_t i = 0; i < n; ++i) store(i, t.double_data(static_cast<int>(i)));
        break;
      case onnx::TensorProto::INT64:
        need(t.int64_data_size());
        for (int64_t i = 0; i < n; ++i) a.data<int64_t>()[i] = t.int64_data(static_cast<int>(i));
        break;
      case onnx::TensorProto::FLOAT16:
        need(t.int32_data_size());
        for (int64_t i = 0; i < n; ++i)
          a.data<uint16_t>()[i] = static_cast<uint16_t>(t.int32_data(static_cast<int>(i)));
        break;
      default:  // int8, uint8, int32, bool live in int32_data
        need(t.int32_data_size());
        for (int64_t i = 0; i < n; ++i) store(i, t.int32_data(static_cast<int>(i)));
    }
    return a;
  }

 private:
  std::string readExternal(const onnx::TensorProto& t, const std::string& what) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto& kv : t.external_data()) {
      try {
        if (kv.key() == "location") location = kv.value();
        if (kv.key() == "offset") offset = std::stoll(kv.value());
        if (kv.key() == "length") length = std::stoll(kv.value());
      } catch (...) {
        throw Error(what + ": bad external_data entry '" + kv.key() + "'");
      }
    }
    namespace fs = std::filesystem;
    fs::path rel(location);
    if (location.empty() || rel.is_absolute() ||
        std::any_of(rel.begin(), rel.end(), [](const fs::path& p) { return p == ".."; }))
      throw Error(what + ": external data location '" + location +
                  "' must be a relative path inside the model's directory");
    fs::path full = fs::path(baseDir_) / rel;
    std::ifstream f(full, std::ios::binary);
    if (!f) throw Error(what + ": cannot open external data file '" + full.string() + "'");
    f.seekg(0, std::ios::end);
    int64_t size = f.tellg();
    if (length < 0) length = size - offset;
    if (offset < 0 || length < 0 || offset + length > size)
      throw Error(what + ": external data range [" + std::to_string(offset) + ", " +
                  std::to_string(offset + length) + ") lies outside '" + full.string() + "' (" +
                  std::to_string(size) + " bytes)");
    std::string data(static_cast<size_t>(length), '\0');
    f.seekg(offset);
    f.read(data.data(), length);
    return data;
  }

  // ---- names --------------------------------------------------------------------------
  void define(const std::string& name, Value* v) {
    if (name.empty()) return;
    if (!names_.emplace(name, v).second) throw Error("value '" + name + "' is defined twice");
  }
  Value* lookup(const std::string& name) {
    auto it = names_.find(name);
    return it == names_.end() ? nullptr : it->second;
  }

  // ---- nodes --------------------------------------------------------------------------
 public:
  struct Ctx {
    const onnx::NodeProto& proto;
    std::vector<Value*> in;
    const onnx::AttributeProto* attr(const std::string& key) const {
      for (const auto& a : proto.attribute())
        if (a.name() == key) return &a;
      return nullptr;
    }
    int64_t i(const std::string& key, int64_t dflt) const {
      const auto* a = attr(key);
      return a ? a->i() : dflt;
    }
    double f(const std::string& key, double dflt) const {
      const auto* a = attr(key);
      return a ? a->f() : dflt;
    }
    std::string s(const std::string& key, const std::string& dflt) const {
      const auto* a = attr(key);
      return a ? a->s() : dflt;
    }
    std::vector<int64_t> ints(const std::string& key, std::vector<int64_t> dflt) const {
      const auto* a = attr(key);
      return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : dflt;
    }
    Value* input(size_t k) const { return k < in.size() ? in[k] : nullptr; }
    Value* required(size_t k) const {
      if (!input(k)) throw Error("required input " + std::to_string(k) + " is missing");
      return in[k];
    }
    std::string out(size_t k) const {
      return k < static_cast<size_t>(proto.output_size()) ? proto.output(static_cast<int>(k)) : "";
    }
  };

  void convertNode(const onnx::NodeProto& node) {
    const std::string context =
        "node '" +
        (node.name().empty() ? (node.output_size() ? node.output(0) : std::string("?"))
                             : node.name()) +
        "' (" + node.op_type() + ", opset " + std::to_string(opset_) + "): ";
    try {
      if (!node.domain().empty() && node.domain() != "ai.onnx")
        throw Error("operator domain '" + node.domain() +
                    "' is not supported (only the default ONNX domain)");
      Ctx c{node, {}};
      for (int k = 0; k < node.input_size(); ++k) {
        const std::string& name = node.input(k);
        if (name.empty()) {
          c.in.push_back(nullptr);
          continue;
        }
        Value* v = lookup(name);
        if (!v)
          throw Error("input '" + name +
                      "' is not defined by any initializer, graph input or earlier node "
                      "(missing initializer, or nodes out of order)");
        c.in.push_back(v);
      }
      auto it = handlers().find(node.op_type());
      if (it == handlers().end()) {
        std::string list;
        for (auto& [k, _] : handlers()) list += (list.empty() ? "" : " ") + k;
        throw Error("unsupported operator " + node.op_type() + " (Kiln supports: " + list + ")");
      }
      curName_ = node.name();
      std::vector<Value*> outs = it->second(*this, c);
      for (size_t k = 0; k < outs.size(); ++k) {
        const std::string n = c.out(k);
        if (!n.empty()) define(n, outs[k]);
      }
    } catch (const Error& e) {
      throw Error(context + e.what());
    }
  }

  // Emits a Kiln node, infers its shapes and folds it when all its inputs are constant.
  std::vector<Value*> emit(const std::string& op, std::vector<Value*> inputs,
                           std::map<std::string, Attribute> attrs,
                           std::vector<std::string> outNames, size_t numOutputs = 1) {
    std::vector<Value*> outs;
    for (size_t k = 0; k < numOutputs; ++k)
      outs.push_back(g_.addValue(k < outNames.size() && !outNames[k].empty() ? outNames[k] : "t",
                                 DType::F32, {}));
    Node* n = g_.addNode(op, curName_, inputs, outs);
    n->attrs = std::move(attrs);
    inferNode(*n, /*withPrefix=*/false);
    bool foldable = ref::hasKernel(op) && std::all_of(inputs.begin(), inputs.end(), [](Value* v) {
                      return !v || v->isConstant();
                    });
    if (foldable) {
      std::vector<const NDArray*> args;
      for (Value* v : inputs) args.push_back(v ? &*v->constant : nullptr);
      std::vector<NDArray> vals = ref::evalNode(*n, args);
      g_.removeNode(n);
      for (size_t k = 0; k < outs.size(); ++k) outs[k]->constant = std::move(vals[k]);
    }
    return outs;
  }
  Value* emit1(const std::string& op, std::vector<Value*> inputs,
               std::map<std::string, Attribute> attrs, const std::string& outName) {
    return emit(op, std::move(inputs), std::move(attrs), {outName})[0];
  }

  static std::vector<int64_t> constInts(const Value* v, const std::string& what) {
    if (!v) throw Error(what + " is missing");
    if (!v->isConstant())
      throw Error(
          what +
          " must be a constant: Kiln compiles static shapes (it is computed at run time here)");
    return v->constant->toInt64Vector();
  }
  static double constScalar(const Value* v, const std::string& what) {
    if (!v->isConstant()) throw Error(what + " must be a constant");
    auto f = v->constant->toFloatVector();
    if (f.size() != 1) throw Error(what + " must be a scalar");
    return f[0];
  }

  // auto_pad / explicit pads -> pads[4] (top, left, bottom, right).
  static std::vector<int64_t> resolvePads(const Ctx& c, const Shape& in,
                                          const std::vector<int64_t>& k,
                                          const std::vector<int64_t>& strides,
                                          const std::vector<int64_t>& dil) {
    for (size_t a = 0; a < 2; ++a)
      if (k[a] < 1 || strides[a] < 1 || dil[a] < 1)
        throw Error("kernel size " + shapeStr(k) + ", strides " + shapeStr(strides) +
                    " and dilations " + shapeStr(dil) + " must all be >= 1");
    std::string autoPad = c.s("auto_pad", "NOTSET");
    if (autoPad == "NOTSET") {
      auto pads = c.ints("pads", {0, 0, 0, 0});
      if (pads.size() != 4)
        throw Error("pads must have 4 values for 2-D, got " + std::to_string(pads.size()));
      return pads;
    }
    if (autoPad == "VALID") return {0, 0, 0, 0};
    if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
      throw Error("unknown auto_pad '" + autoPad + "'");
    std::vector<int64_t> pads(4);
    for (size_t a = 0; a < 2; ++a) {
      int64_t out = (in[2 + a] + strides[a] - 1) / strides[a];
      int64_t total =
          std::max<int64_t>(0, (out - 1) * strides[a] + (k[a] - 1) * dil[a] + 1 - in[2 + a]);
      int64_t small = total / 2, big = total - small;
      pads[a] = autoPad == "SAME_UPPER" ? small : big;
      pads[a + 2] = autoPad == "SAME_UPPER" ? big : small;
    }
    return pads;
  }

  static void require2d(const Value* x, const std::string& op) {
    if (x->shape.size() != 4)
      throw Error("only 2-D " + op + " on NCHW input is supported; input has shape " +
                  shapeStr(x->shape));
  }
  static std::vector<int64_t> pair(const Ctx& c, const std::string& key, int64_t dflt) {
    auto v = c.ints(key, {dflt, dflt});
    if (v.size() != 2)
      throw Error(key + " must have 2 values for 2-D, got " + std::to_string(v.size()));
    return v;
  }

  Value* reshape(Value* x, Shape s, const std::string& out) {
    return emit1("Reshape", {x}, {{"shape", std::move(s)}}, out);
  }

  std::string baseDir_;
  const OnnxImportOptions& opts_;
  Graph g_;
  int64_t opset_ = 0;
  std::map<std::string, Value*> names_;
  std::string curName_;

  friend struct Handlers;
};

// ---- operator translations ------------------------------------------------------------
struct Handlers {
  using Ctx = Importer::Ctx;
  using V = std::vector<Value*>;

  static V conv(Importer& im, const Ctx& c) {
    Value* x = c.required(0);
    Value* w = c.required(1);
    require2dConv(x, w);
    auto strides = Importer::pair(c, "strides", 1);
    auto dil = Importer::pair(c, "dilations", 1);
    std::vector<int64_t> k = {w->shape[2], w->shape[3]};
    auto ks = c.ints("kernel_shape", k);
    if (ks != k)
      throw Error("kernel_shape " + shapeStr(ks) + " does not match weight " + shapeStr(w->shape));
    auto pads = Importer::resolvePads(c, x->shape, k, strides, dil);
    V in = {x, w};
    if (c.input(2)) in.push_back(c.input(2));
    return {im.emit1(
        "Conv", in,
        {{"strides", strides}, {"pads", pads}, {"dilations", dil}, {"group", c.i("group", 1)}},
        c.out(0))};
  }
  static void require2dConv(const Value* x, const Value* w) {
    Importer::require2d(x, "Conv");
    if (w->shape.size() != 4) throw Error("weight must have rank 4, got " + shapeStr(w->shape));
  }

  static V pool(Importer& im, const Ctx& c, const std::string& op) {
    Value* x = c.required(0);
    Importer::require2d(x, op);
    if (!c.out(1).empty()) throw Error("the Indices output of MaxPool is not supported");
    auto k = c.ints("kernel_shape", {});
    if (k.size() != 2) throw Error("kernel_shape must have 2 values for 2-D pooling");
    auto strides = Importer::pair(c, "strides", 1);
    auto dil = Importer::pair(c, "dilations", 1);
    auto pads = Importer::resolvePads(c, x->shape, k, strides, dil);
    std::map<std::string, Attribute> attrs = {{"kernel_shape", k},
                                              {"strides", strides},
                                              {"pads", pads},
                                              {"ceil_mode", c.i("ceil_mode", 0)}};
    if (op == "MaxPool") {
      if (c.i("storage_order", 0) != 0) throw Error("storage_order=1 is not supported");
      attrs["dilations"] = dil;
    } else {
      if (dil != std::vector<int64_t>{1, 1}) throw Error("dilated AveragePool is not supported");
      attrs["count_include_pad"] = c.i("count_include_pad", 0);
    }
    return {im.emit1(op, {x}, attrs, c.out(0))};
  }

  static V batchNorm(Importer& im, const Ctx& c) {
    for (int k = 1; k < c.proto.output_size(); ++k)
      if (!c.proto.output(k).empty())
        throw Error("training-mode outputs (running statistics) are not supported");
    if (c.i("training_mode", 0) != 0)
      throw Error("training_mode=1 is not supported (inference only)");
    if (im.opset_ < 9 && c.i("spatial", 1) == 0) throw Error("spatial=0 is not supported");
    return {im.emit1("BatchNormalization",
                     {c.required(0), c.required(1), c.required(2), c.required(3), c.required(4)},
                     {{"epsilon", c.f("epsilon", 1e-5)}}, c.out(0))};
  }

  static V clip(Importer& im, const Ctx& c) {
    double lo = -std::numeric_limits<float>::infinity(),
           hi = std::numeric_limits<float>::infinity();
    if (im.opset_ < 11) {
      lo = c.f("min", lo);
      hi = c.f("max", hi);
    } else {
      if (c.input(1)) lo = Importer::constScalar(c.input(1), "min");
      if (c.input(2)) hi = Importer::constScalar(c.input(2), "max");
    }
    return {im.emit1("Clip", {c.required(0)}, {{"min", lo}, {"max", hi}}, c.out(0))};
  }

  static V gemm(Importer& im, const Ctx& c) {
    V in = {c.required(0), c.required(1)};
    if (c.input(2)) in.push_back(c.input(2));
    return {im.emit1("Gemm", in,
                     {{"transA", c.i("transA", 0)},
                      {"transB", c.i("transB", 0)},
                      {"alpha", c.f("alpha", 1.0)},
                      {"beta", c.f("beta", 1.0)}},
                     c.out(0))};
  }

  static V flatten(Importer& im, const Ctx& c) {
    Value* x = c.required(0);
    int64_t r = static_cast<int64_t>(x->shape.size());
    int64_t axis = c.i("axis", 1);
    if (axis < 0) axis += r;
    if (axis < 0 || axis > r)
      throw Error("axis " + std::to_string(c.i("axis", 1)) + " out of range for rank " +
                  std::to_string(r));
    int64_t outer = shapeNumel(Shape(x->shape.begin(), x->shape.begin() + axis));
    return {im.reshape(x, {outer, shapeNumel(x->shape) / std::max<int64_t>(outer, 1)}, c.out(0))};
  }

  static V reshapeOp(Importer& im, const Ctx& c) {
    Value* x = c.required(0);
    std::vector<int64_t> s = Importer::constInts(c.input(1), "the shape input");
    const bool allowZero = c.i("allowzero", 0) != 0;
    int64_t known = 1, inferAt = -1;
    for (size_t d = 0; d < s.size(); ++d) {
      if (s[d] == 0 && !allowZero) {
        if (d >= x->shape.size())
          throw Error("shape " + shapeStr(s) + " copies dimension " + std::to_string(d) +
                      " that the input " + shapeStr(x->shape) + " lacks");
        s[d] = x->shape[d];
      }
      if (s[d] == -1) {
        if (inferAt >= 0) throw Error("shape " + shapeStr(s) + " has more than one -1");
        inferAt = static_cast<int64_t>(d);
      } else if (s[d] < 0) {
        throw Error("shape " + shapeStr(s) + " has a negative dimension");
      } else {
        known *= s[d];
      }
    }
    if (inferAt >= 0) {
      if (known == 0 || shapeNumel(x->shape) % known)
        throw Error("cannot reshape " + shapeStr(x->shape) + " to " + shapeStr(s));
      s[inferAt] = shapeNumel(x->shape) / known;
    }
    return {im.reshape(x, s, c.out(0))};
  }

  static std::vector<int64_t> axesOf(Importer& im, const Ctx& c, int sinceOpsetAsInput) {
    if (im.opset_ >= sinceOpsetAsInput)
      return c.input(1) ? Importer::constInts(c.input(1), "the axes input")
                        : std::vector<int64_t>{};
    return c.ints("axes", {});
  }

  static V squeeze(Importer& im, const Ctx& c) {
    Value* x = c.required(0);
    auto axes = axesOf(im, c, 13);
    int64_t r = static_cast<int64_t>(x->shape.size());
    std::set<int64_t> drop;
    for (int64_t a : axes) drop.insert(normalizeAxis(a, r, "axis"));
    Shape out;
    for (int64_t d = 0; d < r; ++d) {
      bool squeezeIt = axes.empty() ? x->shape[d] == 1 : drop.count(d) != 0;
      if (squeezeIt && x->shape[d] != 1)
        throw Error("cannot squeeze axis " + std::to_string(d) + " of size " +
                    std::to_string(x->shape[d]));
      if (!squeezeIt) out.push_back(x->shape[d]);
    }
    return {im.reshape(x, out, c.out(0))};
  }

  static V unsqueeze(Importer& im, const Ctx& c) {
    Value* x = c.required(0);
    auto axes = axesOf(im, c, 13);
    int64_t r = static_cast<int64_t>(x->shape.size() + axes.size());
    std::set<int64_t> add;
    for (int64_t a : axes)
      if (!add.insert(normalizeAxis(a, r, "axis")).second)
        throw Error("repeated axis " + std::to_string(a));
    Shape out;
    size_t src = 0;
    for (int64_t d = 0; d < r; ++d) out.push_back(add.count(d) ? 1 : x->shape.at(src++));
    return {im.reshape(x, out, c.out(0))};
  }

  static V transpose(Importer& im, const Ctx& c) {
    Value* x = c.required(0);
    std::vector<int64_t> perm(x->shape.size());
    for (size_t d = 0; d < perm.size(); ++d) perm[d] = static_cast<int64_t>(perm.size() - 1 - d);
    perm = c.ints("perm", perm);
    return {im.emit1("Transpose", {x}, {{"perm", perm}}, c.out(0))};
  }

  static V softmax(Importer& im, const Ctx& c) {
    Value* x = c.required(0);
    int64_t r = static_cast<int64_t>(x->shape.size());
    if (im.opset_ >= 13) {
      int64_t axis = normalizeAxis(c.i("axis", -1), r, "axis");
      return {im.emit1("Softmax", {x}, {{"axis", axis}}, c.out(0))};
    }
    // Before opset 13: the input is coerced to 2-D at axis and normalised over the 2nd dim.
    int64_t axis = normalizeAxis(c.i("axis", 1), r, "axis");
    if (axis == r - 1) return {im.emit1("Softmax", {x}, {{"axis", axis}}, c.out(0))};
    int64_t outer = shapeNumel(Shape(x->shape.begin(), x->shape.begin() + axis));
    Value* flat = im.reshape(x, {outer, shapeNumel(x->shape) / std::max<int64_t>(outer, 1)},
                             c.out(0) + "_2d");
    Value* sm = im.emit1("Softmax", {flat}, {{"axis", int64_t{1}}}, c.out(0) + "_softmax");
    return {im.reshape(sm, x->shape, c.out(0))};
  }

  static V concat(Importer& im, const Ctx& c) {
    V in;
    for (Value* v : c.in)
      if (v) in.push_back(v);
    if (in.empty()) throw Error("no inputs");
    int64_t axis = normalizeAxis(c.i("axis", 0), static_cast<int64_t>(in[0]->shape.size()), "axis");
    return {im.emit1("Concat", in, {{"axis", axis}}, c.out(0))};
  }

  static V constant(Importer& im, const Ctx& c) {
    NDArray a;
    if (const auto* t = c.attr("value"))
      a = im.tensorToArray(t->t(), "the value attribute");
    else if (const auto* f = c.attr("value_float"))
      a = NDArray::scalar(f->f());
    else if (const auto* fs = c.attr("value_floats"))
      a = NDArray::fromVector<float>({fs->floats_size()},
                                     {fs->floats().begin(), fs->floats().end()});
    else if (const auto* i = c.attr("value_int"))
      a = NDArray::fromVector<int64_t>({}, {i->i()});
    else if (const auto* is = c.attr("value_ints"))
      a = NDArray::fromVector<int64_t>({is->ints_size()}, {is->ints().begin(), is->ints().end()});
    else
      throw Error("only tensor, float(s) and int(s) constants are supported");
    return {im.g_.addConstant(c.out(0), a)};
  }

  static V shape(Importer& im, const Ctx& c) {
    Value* x = c.required(0);
    int64_t r = static_cast<int64_t>(x->shape.size());
    int64_t start = c.i("start", 0), end = c.i("end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<int64_t>(start, 0, r);
    end = std::clamp<int64_t>(end, 0, r);
    std::vector<int64_t> dims(x->shape.begin() + start, x->shape.begin() + std::max(start, end));
    // Shapes are static in Kiln, so Shape is always a constant.
    return {im.g_.addConstant(
        c.out(0), NDArray::fromVector<int64_t>({static_cast<int64_t>(dims.size())}, dims))};
  }

  static V gather(Importer& im, const Ctx& c) {
    Value* x = c.required(0);
    int64_t axis = normalizeAxis(c.i("axis", 0), static_cast<int64_t>(x->shape.size()), "axis");
    return {im.emit1("Gather", {x, c.required(1)}, {{"axis", axis}}, c.out(0))};
  }

  static V cast(Importer& im, const Ctx& c) {
    DType to = onnxDType(static_cast<int>(c.i("to", 0)), "the target type");
    return {im.emit1("Cast", {c.required(0)}, {{"to", static_cast<int64_t>(to)}}, c.out(0))};
  }

  static V slice(Importer& im, const Ctx& c) {
    Value* x = c.required(0);
    const int64_t r = static_cast<int64_t>(x->shape.size());
    std::vector<int64_t> starts, ends, axes, steps;
    if (im.opset_ < 10) {
      starts = c.ints("starts", {});
      ends = c.ints("ends", {});
      axes = c.ints("axes", {});
    } else {
      starts = Importer::constInts(c.input(1), "starts");
      ends = Importer::constInts(c.input(2), "ends");
      if (c.input(3)) axes = Importer::constInts(c.input(3), "axes");
      if (c.input(4)) steps = Importer::constInts(c.input(4), "steps");
    }
    if (axes.empty())
      for (size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() ||
        steps.size() != starts.size())
      throw Error("starts, ends, axes and steps must have the same length");
    std::vector<int64_t> S(r, 0), E(x->shape), T(r, 1);
    for (size_t k = 0; k < starts.size(); ++k) {
      int64_t a = normalizeAxis(axes[k], r, "axis");
      int64_t dim = x->shape[a], st = steps[k];
      if (st == 0) throw Error("slice step must not be 0");
      int64_t s = starts[k] < 0 ? starts[k] + dim : starts[k];
      int64_t e = ends[k] < 0 ? ends[k] + dim : ends[k];
      if (st > 0) {
        s = std::clamp<int64_t>(s, 0, dim);
        e = std::clamp<int64_t>(e, 0, dim);
      } else {
        s = std::clamp<int64_t>(s, 0, dim - 1);
        e = std::clamp<int64_t>(e, -1, dim - 1);
      }
      S[a] = s;
      E[a] = e;
      T[a] = st;
    }
    return {im.emit1("Slice", {x}, {{"starts", S}, {"ends", E}, {"steps", T}}, c.out(0))};
  }

  static V pad(Importer& im, const Ctx& c) {
    Value* x = c.required(0);
    std::string mode = c.s("mode", "constant");
    if (mode != "constant") throw Error("Pad mode '" + mode + "' is not supported (only constant)");
    std::vector<int64_t> pads;
    double value = 0;
    if (im.opset_ < 11) {
      pads = c.ints("pads", {});
      value = c.f("value", 0.0);
    } else {
      pads = Importer::constInts(c.input(1), "pads");
      if (c.input(2)) value = Importer::constScalar(c.input(2), "constant_value");
      if (c.input(3)) {
        auto axes = Importer::constInts(c.input(3), "axes");
        int64_t r = static_cast<int64_t>(x->shape.size());
        std::vector<int64_t> full(2 * r, 0);
        for (size_t k = 0; k < axes.size(); ++k) {
          int64_t a = normalizeAxis(axes[k], r, "axis");
          full[a] = pads.at(k);
          full[a + r] = pads.at(k + axes.size());
        }
        pads = full;
      }
    }
    return {im.emit1("Pad", {x}, {{"pads", pads}, {"value", value}}, c.out(0))};
  }

  static V reduce(Importer& im, const Ctx& c, const std::string& op, int axesInputSince) {
    Value* x = c.required(0);
    int64_t r = static_cast<int64_t>(x->shape.size());
    auto axes = axesOf(im, c, axesInputSince);
    if (axes.empty()) {
      if (c.i("noop_with_empty_axes", 0)) return {im.emit1("Identity", {x}, {}, c.out(0))};
      for (int64_t d = 0; d < r; ++d) axes.push_back(d);
    }
    for (int64_t& a : axes) a = normalizeAxis(a, r, "axis");
    std::sort(axes.begin(), axes.end());
    axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
    return {im.emit1(op, {x}, {{"axes", axes}, {"keepdims", c.i("keepdims", 1)}}, c.out(0))};
  }

  static V alias(Importer& im, const Ctx& c) {
    // Dropout (inference) and Identity pass their input through unchanged.
    if (c.proto.op_type() == "Dropout" && !c.out(1).empty()) {
      // The mask of an inference-mode Dropout is all true.
      Value* x = c.required(0);
      NDArray mask(DType::Bool, x->shape);
      std::fill_n(mask.data<uint8_t>(), mask.numel(), uint8_t{1});
      im.define(c.out(1), im.g_.addConstant(c.out(1), mask));
    }
    if (c.proto.op_type() == "Dropout" && c.input(2) && c.input(2)->isConstant() &&
        c.input(2)->constant->toFloatVector().at(0) != 0)
      throw Error("training_mode=true is not supported (inference only)");
    return {c.required(0)};
  }

  static V pow(Importer& im, const Ctx& c) {
    Value* x = c.required(0);
    Value* e = c.required(1);
    if (e->dtype != x->dtype)
      e = im.emit1("Cast", {e}, {{"to", static_cast<int64_t>(x->dtype)}}, c.out(0) + "_exponent");
    return {im.emit1("Pow", {x, e}, {}, c.out(0))};
  }

  static V same(Importer& im, const Ctx& c) {
    // Operators whose ONNX form is already Kiln's (inputs as given, no attributes).
    V in;
    for (Value* v : c.in) in.push_back(v);
    return {im.emit1(c.proto.op_type(), in, {}, c.out(0))};
  }
};

const std::map<std::string, Importer::Handler>& Importer::handlers() {
  using H = Handlers;
  static const std::map<std::string, Handler> h = [] {
    std::map<std::string, Handler> m;
    for (const char* op : {"Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Neg", "Abs",
                           "Reciprocal", "Erf", "Floor", "Ceil", "Add", "Sub", "Mul", "Div",
                           "MatMul", "GlobalAveragePool", "GlobalMaxPool"})
      m[op] = H::same;
    m["LeakyRelu"] = [](Importer& im, const Ctx& c) -> std::vector<Value*> {
      return {im.emit1("LeakyRelu", {c.required(0)}, {{"alpha", c.f("alpha", 0.01)}}, c.out(0))};
    };
    m["Pow"] = H::pow;
    m["Conv"] = H::conv;
    m["MaxPool"] = [](Importer& im, const Ctx& c) { return H::pool(im, c, "MaxPool"); };
    m["AveragePool"] = [](Importer& im, const Ctx& c) { return H::pool(im, c, "AveragePool"); };
    m["BatchNormalization"] = H::batchNorm;
    m["Clip"] = H::clip;
    m["Gemm"] = H::gemm;
    m["Flatten"] = H::flatten;
    m["Reshape"] = H::reshapeOp;
    m["Squeeze"] = H::squeeze;
    m["Unsqueeze"] = H::unsqueeze;
    m["Transpose"] = H::transpose;
    m["Softmax"] = H::softmax;
    m["Concat"] = H::concat;
    m["Constant"] = H::constant;
    m["Shape"] = H::shape;
    m["Gather"] = H::gather;
    m["Cast"] = H::cast;
    m["Slice"] = H::slice;
    m["Pad"] = H::pad;
    m["ReduceMean"] = [](Importer& im, const Ctx& c) { return H::reduce(im, c, "ReduceMean", 18); };
    m["ReduceMax"] = [](Importer& im, const Ctx& c) { return H::reduce(im, c, "ReduceMax", 18); };
    m["ReduceSum"] = [](Importer& im, const Ctx& c) { return H::reduce(im, c, "ReduceSum", 13); };
    m["Identity"] = H::alias;
    m["Dropout"] = H::alias;
    return m;
  }();
  return h;
}

Graph importModel(const std::string& bytes, const std::string& baseDir,
                  const OnnxImportOptions& opts, const std::string& label) {
  onnx::ModelProto model;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw Error(label + ": model larger than 2 GiB; store its weights as external data");
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw Error(label +
                ": not a valid ONNX model (protobuf parse failed: the file is truncated, corrupt "
                "or not ONNX)");
  try {
    return Importer(baseDir, opts).run(model);
  } catch (const Error& e) {
    throw Error(label + ": " + e.what());
  }
}

}  // namespace

Expected<Graph> importOnnx(const std::string& path, const OnnxImportOptions& options) {
  return catchErrors([&]() -> Graph {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error(path + ": cannot open file");
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (bytes.empty()) throw Error(path + ": empty file");
    std::string dir = std::filesystem::path(path).parent_path().string();
    return importModel(bytes, dir.empty() ? "." : dir, options, path);
  });
}

Expected<Graph> importOnnxBytes(std::string_view bytes, const std::string& baseDir,
                                const OnnxImportOptions& options) {
  return catchErrors(
      [&]() -> Graph { return importModel(std::string(bytes), baseDir, options, "model"); });
}

Expected<NDArray> readOnnxTensor(const std::string& path) {
  return catchErrors([&]() -> NDArray {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error(path + ": cannot open file");
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    onnx::TensorProto t;
    if (!t.ParseFromString(bytes)) throw Error(path + ": not a serialized ONNX TensorProto");
    OnnxImportOptions opts;
    Importer im(std::filesystem::path(path).parent_path().string(), opts);
    return im.tensorToArray(t, path);
  });
}

std::vector<ModelInput> listOnnxInputs(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  onnx::ModelProto model;
  if (!f || !model.ParseFromIstream(&f)) return {};
  std::set<std::string> inits;
  for (const auto& t : model.graph().initializer()) inits.insert(t.name());
  std::vector<ModelInput> r;
  for (const auto& vi : model.graph().input())
    if (!inits.count(vi.name())) r.push_back({vi.name()});
  return r;
}

std::vector<std::string> listOnnxOps(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  onnx::ModelProto model;
  if (!f || !model.ParseFromIstream(&f)) return {};
  std::vector<std::string> ops;
  for (const auto& n : model.graph().node()) ops.push_back(n.op_type());
  return ops;
}

std::vector<std::string> supportedOnnxOps() {
  std::vector<std::string> ops;
  for (auto& [k, _] : Importer::handlers()) ops.push_back(k);
  return ops;
}

}  // namespace kiln
