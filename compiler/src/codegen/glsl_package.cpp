// Building and writing OpenGL / WebGL packages (see glsl_package.h for the format).
#include "kiln/codegen/glsl_package.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kiln/codegen/codegen_glsl.h"
#include "kiln/codegen/glsl_uniforms.h"
#include "kiln/runtime/package.h"

namespace kiln::codegen {

GLPackageFiles buildGLPackage(const Graph& graph, const CompileOptions& options) {
  using json = nlohmann::json;
  CompileOptions opts = options;
  opts.schedule = ScheduleFamily::Glsl;
  LoweredGraph lowered = lowerGraph(graph, opts);
  GLPackageFiles out;
  std::string& params = out.files["params.bin"];

  json values = json::array();
  std::map<const Value*, size_t> ids;
  auto idOf = [&](const Value* v) -> size_t {
    if (auto it = ids.find(v); it != ids.end()) return it->second;
    if (v->dtype != DType::F32)
      throw Error("value '" + v->name + "' is " + std::string(dtypeName(v->dtype)) +
                  "; the OpenGL/WebGL back end computes in float32 only");
    const GLTextureShape tex = glTextureShape(shapeNumel(v->shape), v->name);
    json e = {{"name", v->name},
              {"dtype", "f32"},
              {"shape", v->shape},
              {"texture", {tex.width, tex.height}}};
    if (std::find(graph.inputs().begin(), graph.inputs().end(), v) != graph.inputs().end()) {
      e["storage"] = "input";
    } else if (v->isConstant()) {
      const size_t offset = (params.size() + 63) / 64 * 64;
      params.resize(offset, '\0');
      params.append(static_cast<const char*>(v->constant->rawData()), v->constant->nbytes());
      e["storage"] = "const";
      e["offset"] = offset;
    } else {
      e["storage"] = "activation";
    }
    values.push_back(std::move(e));
    return ids[v] = values.size() - 1;
  };

  const std::string vertex = "shaders/fullscreen.vert";
  out.files[vertex] = glslVertexShader();
  json inputs = json::array(), outputs = json::array(), kernels = json::array(),
       steps = json::array();
  for (const Value* v : graph.inputs()) inputs.push_back(idOf(v));
  // Every kernel's passes first, then their shaders as the package stores them: passes whose
  // shaders differ only in shape values share one source and carry those values as uniforms
  // (glsl_uniforms.cpp), and each distinct source is one file: a runtime links one program
  // for all the passes that name it.
  std::vector<GLSLKernel> glsl(lowered.kernels.size());
  std::vector<std::string> sources;
  for (size_t i = 0; i < lowered.kernels.size(); ++i) {
    try {
      glsl[i] = codegenGLSL(lowered.kernels[i]);
    } catch (const Error& e) {
      throw Error(lowered.steps[i].node->describe() + ": " + e.what());
    }
    for (const GLSLPass& p : glsl[i].passes) sources.push_back(p.source);
  }
  const std::vector<GLShaderUse> uses =
      options.shapeUniforms ? shareShapeUniforms(sources) : std::vector<GLShaderUse>{};
  std::map<std::string, std::string> fileOf;
  size_t passIndex = 0;
  for (size_t i = 0; i < lowered.kernels.size(); ++i) {
    const GLSLKernel& k = glsl[i];
    json temps = json::array(), passes = json::array();
    for (size_t b = k.paramCount; b < k.buffers.size(); ++b)
      temps.push_back({{"name", k.buffers[b].name},
                       {"texture", {k.buffers[b].texture.width, k.buffers[b].texture.height}}});
    for (size_t p = 0; p < k.passes.size(); ++p, ++passIndex) {
      const std::string& source = uses.empty() ? k.passes[p].source : uses[passIndex].source;
      auto [it, fresh] =
          fileOf.try_emplace(source, "shaders/" + k.name + "." + std::to_string(p) + ".frag");
      const std::string& file = it->second;
      if (fresh) out.files[file] = source;
      json samplers = json::array();
      for (const auto& [uniform, buffer] : k.passes[p].samplers)
        samplers.push_back({uniform, buffer});
      json pass = {{"shader", file}, {"samplers", samplers}, {"output", k.passes[p].output}};
      if (!uses.empty() && !uses[passIndex].uniforms.empty())
        pass["uniforms"] = {kGLShapeUniform, uses[passIndex].uniforms};
      passes.push_back(std::move(pass));
    }
    out.passes += k.passes.size();
    kernels.push_back(
        {{"name", k.name}, {"params", k.paramCount}, {"temps", temps}, {"passes", passes}});
    json args = json::array();
    for (const Value* v : lowered.steps[i].args) args.push_back(idOf(v));
    steps.push_back({{"kernel", i}, {"node", lowered.steps[i].node->name}, {"args", args}});
  }
  for (const Value* v : graph.outputs()) outputs.push_back(idOf(v));

  json metadata = json::object();
  for (const auto& [k, v] : graph.metadata)
    if (k == "labels" || k == "preprocess") metadata[k] = v;
  json manifest = {
      {"format", "kiln-package"},
      {"version", kPackageFormatVersion},
      {"model", graph.name},
      {"target",
       {{"kind", "webgl"},
        {"shading", "glsl-es-3.00"},
        {"texel", "rgba32f"},
        {"max_texture_side", kGLMaxTextureSide}}},
      {"params", "params.bin"},
      {"vertex_shader", vertex},
      {"values", values},
      {"inputs", inputs},
      {"outputs", outputs},
      {"kernels", kernels},
      {"steps", steps},
      {"metadata", metadata},
  };
  out.files["manifest.json"] = manifest.dump(1) + "\n";
  out.kernels = lowered.kernels.size();
  out.shaders = fileOf.size();
  out.paramBytes = params.size();
  return out;
}

void writeGLPackage(const GLPackageFiles& package, const std::string& dirPath) {
  namespace fs = std::filesystem;
  for (const auto& [name, data] : package.files) {
    const fs::path p = fs::path(dirPath) / name;
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) throw Error("cannot create " + p.parent_path().string() + ": " + ec.message());
    std::ofstream f(p, std::ios::binary);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!f) throw Error("cannot write " + p.string());
  }
}

}  // namespace kiln::codegen
