// The opengl device: an EGL surfaceless OpenGL ES 3 context, and packages run in it (see
// gl_package.h).
#include "kiln/opengl/gl_package.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES3/gl3.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace kiln::gl {

namespace {

using json = nlohmann::json;

#ifndef EGL_PLATFORM_SURFACELESS_MESA
#define EGL_PLATFORM_SURFACELESS_MESA 0x31DD
#endif

std::string glErrorName(GLenum e) {
  switch (e) {
    case GL_INVALID_ENUM:
      return "GL_INVALID_ENUM";
    case GL_INVALID_VALUE:
      return "GL_INVALID_VALUE";
    case GL_INVALID_OPERATION:
      return "GL_INVALID_OPERATION";
    case GL_INVALID_FRAMEBUFFER_OPERATION:
      return "GL_INVALID_FRAMEBUFFER_OPERATION";
    case GL_OUT_OF_MEMORY:
      return "GL_OUT_OF_MEMORY";
    default:
      return "GL error " + std::to_string(e);
  }
}

void checkGL(const std::string& what) {
  GLenum e = glGetError();
  if (e != GL_NO_ERROR) throw Error("OpenGL: " + glErrorName(e) + " while " + what);
}

bool hasExtension(const char* list, const std::string& name) {
  if (!list) return false;
  std::istringstream s(list);
  std::string w;
  while (s >> w)
    if (w == name) return true;
  return false;
}

}  // namespace

struct GLPackage::Impl {
  EGLDisplay display = EGL_NO_DISPLAY;
  EGLContext context = EGL_NO_CONTEXT;
  GLuint fbo = 0, vao = 0, vertex = 0;
  std::vector<GLuint> textures, shaders, programs;
  struct Value {
    PackageTensor tensor;
    GLuint texture = 0;
    int width = 1, height = 1;
  };
  std::vector<Value> values;
  std::vector<size_t> inputIds, outputIds;
  std::vector<float> staging;

  void makeCurrent() const {
    if (!eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, context))
      throw Error("EGL: cannot make the OpenGL ES context current (error 0x" +
                  std::to_string(eglGetError()) + ")");
  }

  // An OpenGL ES 3 context with no window: the Mesa surfaceless platform where there is one,
  // else the default display.
  void openContext() {
    auto getPlatformDisplay = reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(
        eglGetProcAddress("eglGetPlatformDisplayEXT"));
    const char* clientExts = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    if (getPlatformDisplay && hasExtension(clientExts, "EGL_MESA_platform_surfaceless"))
      display = getPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
    if (display == EGL_NO_DISPLAY) display = eglGetDisplay(EGL_DEFAULT_DISPLAY);
    EGLint major = 0, minor = 0;
    if (display == EGL_NO_DISPLAY || !eglInitialize(display, &major, &minor))
      throw Error(
          "OpenGL: no EGL display (install Mesa's EGL and GLES drivers: libegl1, libgles2, "
          "libegl-mesa0)");
    if (!hasExtension(eglQueryString(display, EGL_EXTENSIONS), "EGL_KHR_surfaceless_context"))
      throw Error(
          "OpenGL: this EGL cannot make a context current without a window "
          "(EGL_KHR_surfaceless_context missing)");
    if (!eglBindAPI(EGL_OPENGL_ES_API)) throw Error("OpenGL: EGL has no OpenGL ES");
    const EGLint configAttrs[] = {EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT, EGL_NONE};
    EGLConfig config = nullptr;
    EGLint count = 0;
    eglChooseConfig(display, configAttrs, &config, 1, &count);
    const EGLint ctxAttrs[] = {EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 0,
                               EGL_NONE};
    context =
        eglCreateContext(display, count > 0 ? config : EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, ctxAttrs);
    if (context == EGL_NO_CONTEXT)
      throw Error("OpenGL: the driver offers no OpenGL ES 3.0 context");
    makeCurrent();
    const char* version = reinterpret_cast<const char*>(glGetString(GL_VERSION));
    int glMajor = 0, glMinor = 0;
    glGetIntegerv(GL_MAJOR_VERSION, &glMajor);
    glGetIntegerv(GL_MINOR_VERSION, &glMinor);
    bool floatTargets = glMajor > 3 || (glMajor == 3 && glMinor >= 2);
    GLint n = 0;
    glGetIntegerv(GL_NUM_EXTENSIONS, &n);
    for (GLint i = 0; i < n && !floatTargets; ++i)
      floatTargets =
          std::strcmp(reinterpret_cast<const char*>(glGetStringi(GL_EXTENSIONS, GLuint(i))),
                      "GL_EXT_color_buffer_float") == 0;
    if (!floatTargets)
      throw Error(std::string("OpenGL: ") + (version ? version : "this driver") +
                  " cannot render into float textures (no EXT_color_buffer_float); Kiln's "
                  "shaders need it");
    GLint maxSide = 0;
    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &maxSide);
    if (maxSide < 4096)
      throw Error("OpenGL: textures of at most " + std::to_string(maxSide) +
                  " texels a side; Kiln's packages need 4096");
    glGenFramebuffers(1, &fbo);
    glGenVertexArrays(1, &vao);
    checkGL("setting up the context");
  }

  GLuint texture(int w, int h, const float* data) {
    GLuint t = 0;
    glGenTextures(1, &t);
    textures.push_back(t);
    glBindTexture(GL_TEXTURE_2D, t);
    glTexStorage2D(GL_TEXTURE_2D, 1, GL_RGBA32F, w, h);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    if (data) glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, w, h, GL_RGBA, GL_FLOAT, data);
    checkGL("creating a " + std::to_string(w) + " x " + std::to_string(h) + " float texture");
    return t;
  }

  // `data` of n floats, four per texel, padded to the texture's w x h texels.
  void upload(GLuint t, int w, int h, const float* data, size_t n) {
    const size_t floats = size_t(w) * size_t(h) * 4;
    const float* src = data;
    if (n < floats) {
      staging.assign(floats, 0.0f);
      std::memcpy(staging.data(), data, n * sizeof(float));
      src = staging.data();
    }
    glBindTexture(GL_TEXTURE_2D, t);
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, w, h, GL_RGBA, GL_FLOAT, src);
  }

  GLuint compile(GLenum kind, const std::string& source, const std::string& name) {
    GLuint s = glCreateShader(kind);
    shaders.push_back(s);
    const char* src = source.c_str();
    glShaderSource(s, 1, &src, nullptr);
    glCompileShader(s);
    GLint ok = 0;
    glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
    if (!ok) {
      char log[4096] = {0};
      glGetShaderInfoLog(s, sizeof log, nullptr, log);
      throw Error("OpenGL: the driver rejected shader " + name + ": " + log);
    }
    return s;
  }

  ~Impl() {
    if (context == EGL_NO_CONTEXT) {
      if (display != EGL_NO_DISPLAY) eglTerminate(display);
      return;
    }
    if (eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, context)) {
      for (GLuint p : programs) glDeleteProgram(p);
      for (GLuint s : shaders) glDeleteShader(s);
      if (!textures.empty()) glDeleteTextures(GLsizei(textures.size()), textures.data());
      glDeleteFramebuffers(1, &fbo);
      glDeleteVertexArrays(1, &vao);
    }
    eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    eglDestroyContext(display, context);
    eglTerminate(display);
  }
};

GLPackage::GLPackage() : impl_(std::make_unique<Impl>()) {}
GLPackage::~GLPackage() = default;

Expected<std::unique_ptr<GLPackage>> GLPackage::load(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::exists(fs::path(dir) / "manifest.json"))
    return Error(dir + ": not a Kiln package (no manifest.json)");
  return open(
      [dir](const std::string& path) {
        std::ifstream f(fs::path(dir) / path, std::ios::binary);
        if (!f) throw Error("cannot read " + (fs::path(dir) / path).string());
        return std::string(std::istreambuf_iterator<char>(f), {});
      },
      dir);
}

Expected<std::unique_ptr<GLPackage>> GLPackage::open(const FileReader& read,
                                                     const std::string& what) {
  return catchErrors([&]() -> std::unique_ptr<GLPackage> {
    json m;
    try {
      m = json::parse(read("manifest.json"));
    } catch (const json::exception& e) {
      throw Error(what + "/manifest.json: not valid JSON: " + e.what());
    }
    try {
      if (m.value("format", "") != "kiln-package")
        throw Error("manifest.json is not a Kiln package manifest");
      const int version = m.value("version", 0);
      if (version != kPackageFormatVersion)
        throw Error("package format version " + std::to_string(version) +
                    " is not supported by this runtime (it reads " +
                    std::to_string(kPackageFormatVersion) + "); recompile the model");
      const std::string kind = m.at("target").at("kind");
      if (kind != "webgl")
        throw Error("the package targets '" + kind +
                    "'; the opengl device runs packages compiled with --target webgl");
      if (m.at("target").value("texel", "") != "rgba32f")
        throw Error(
            "the package stores one float per texel (compiled by an older kiln); this runtime "
            "reads RGBA32F packages: recompile the model with --target webgl");
      std::unique_ptr<GLPackage> p(new GLPackage());
      Impl& g = *p->impl_;
      g.openContext();
      p->device_ = std::string("opengl: ") +
                   reinterpret_cast<const char*>(glGetString(GL_RENDERER)) + " (" +
                   reinterpret_cast<const char*>(glGetString(GL_VERSION)) + ")";
      const json metadata = m.value("metadata", json::object());  // outlives the loop
      for (auto& [k, v] : metadata.items()) p->metadata_[k] = v.get<std::string>();

      const std::string params = read(m.at("params").get<std::string>());
      for (const json& v : m.at("values")) {
        Impl::Value val;
        val.tensor = {v.at("name"), parseDType(v.at("dtype").get<std::string>()),
                      v.at("shape").get<Shape>()};
        if (val.tensor.dtype != DType::F32)
          throw Error("value '" + val.tensor.name + "' is not float32");
        val.width = v.at("texture").at(0);
        val.height = v.at("texture").at(1);
        const size_t numel = size_t(shapeNumel(val.tensor.shape));
        if (val.width < 1 || val.height < 1 || val.width > 4096 || val.height > 4096 ||
            size_t(val.width) * size_t(val.height) * 4 < numel)
          throw Error("value '" + val.tensor.name + "': texture " + std::to_string(val.width) +
                      " x " + std::to_string(val.height) + " cannot hold " + std::to_string(numel) +
                      " elements (four per texel)");
        const std::string storage = v.at("storage");
        val.texture = g.texture(val.width, val.height, nullptr);
        if (storage == "const") {
          const size_t offset = v.at("offset");
          if (offset + numel * 4 > params.size())
            throw Error("value '" + val.tensor.name +
                        "' lies outside the parameters file (corrupt or truncated package)");
          g.upload(val.texture, val.width, val.height,
                   reinterpret_cast<const float*>(params.data() + offset), numel);
        } else if (storage != "input" && storage != "activation") {
          throw Error("value '" + val.tensor.name + "' has unknown storage '" + storage + "'");
        }
        g.values.push_back(std::move(val));
      }
      auto ids = [&](const json& list, std::vector<size_t>& out,
                     std::vector<PackageTensor>& tensors) {
        for (const json& i : list) {
          const size_t id = i;
          if (id >= g.values.size())
            throw Error("value id " + std::to_string(id) + " out of range");
          out.push_back(id);
          tensors.push_back(g.values[id].tensor);
        }
      };
      ids(m.at("inputs"), g.inputIds, p->inputs_);
      ids(m.at("outputs"), g.outputIds, p->outputs_);

      // Shaders: compiled and linked once, here.
      const auto t0 = std::chrono::steady_clock::now();
      const std::string vsName = m.at("vertex_shader");
      g.vertex = g.compile(GL_VERTEX_SHADER, read(vsName), vsName);
      struct KernelInfo {
        size_t params;
        std::vector<std::pair<int, int>> temps;  // texture sizes
        json passes;
      };
      std::vector<KernelInfo> kernels;
      for (const json& k : m.at("kernels")) {
        KernelInfo ki{k.at("params"), {}, k.at("passes")};
        for (const json& t : k.at("temps"))
          ki.temps.emplace_back(t.at("texture").at(0), t.at("texture").at(1));
        kernels.push_back(std::move(ki));
      }
      std::map<std::string, GLuint> programs;  // by shader file
      for (const json& s : m.at("steps")) {
        const size_t kid = s.at("kernel");
        if (kid >= kernels.size())
          throw Error("a step calls kernel " + std::to_string(kid) + ", which does not exist");
        const KernelInfo& k = kernels[kid];
        std::vector<std::tuple<GLuint, int, int>> buffers;  // texture, width, height
        const json& args = s.at("args");
        if (args.size() != k.params)
          throw Error("a call of kernel " + std::to_string(kid) + " passes " +
                      std::to_string(args.size()) + " values for " + std::to_string(k.params) +
                      " parameters");
        for (const json& a : args) {
          const size_t id = a;
          if (id >= g.values.size())
            throw Error("a step names value " + std::to_string(id) + ", which does not exist");
          buffers.emplace_back(g.values[id].texture, g.values[id].width, g.values[id].height);
        }
        for (const auto& [w, h] : k.temps) buffers.emplace_back(g.texture(w, h, nullptr), w, h);
        for (const json& pass : k.passes) {
          const std::string file = pass.at("shader");
          GLuint& prog = programs[file];
          if (!prog) {
            GLuint fs = g.compile(GL_FRAGMENT_SHADER, read(file), file);
            prog = glCreateProgram();
            g.programs.push_back(prog);
            glAttachShader(prog, g.vertex);
            glAttachShader(prog, fs);
            glLinkProgram(prog);
            GLint ok = 0;
            glGetProgramiv(prog, GL_LINK_STATUS, &ok);
            if (!ok) {
              char log[4096] = {0};
              glGetProgramInfoLog(prog, sizeof log, nullptr, log);
              throw Error("OpenGL: cannot link " + file + ": " + log);
            }
          }
          Pass ps{prog, {}, 0, 0, 0, -1, {}};
          for (const json& smp : pass.at("samplers")) {
            const std::string uniform = smp.at(0);
            const size_t b = smp.at(1);
            if (b >= buffers.size())
              throw Error(file + ": sampler reads buffer " + std::to_string(b) +
                          ", which does not exist");
            ps.samplers.emplace_back(glGetUniformLocation(prog, uniform.c_str()),
                                     std::get<0>(buffers[b]));
          }
          // A shader shared by passes of different shapes reads them from a uniform int array.
          if (pass.contains("uniforms")) {
            const std::string uniform = pass.at("uniforms").at(0);
            ps.shapeValues = pass.at("uniforms").at(1).get<std::vector<int>>();
            // (-1 if the driver found them unused: nothing to set)
            ps.uniforms = glGetUniformLocation(prog, (uniform + "[0]").c_str());
          }
          const size_t o = pass.at("output");
          if (o >= buffers.size())
            throw Error(file + ": writes buffer " + std::to_string(o) + ", which does not exist");
          std::tie(ps.output, ps.width, ps.height) = buffers[o];
          p->passes_.push_back(std::move(ps));
        }
      }
      p->kernels_ = m.at("steps").size();
      glFinish();
      checkGL("compiling the shaders");
      p->compileMs_ =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      // Every texture a pass renders into must be a complete float render target.
      std::set<GLuint> checked;
      glBindFramebuffer(GL_FRAMEBUFFER, g.fbo);
      for (const Pass& ps : p->passes_) {
        if (!checked.insert(ps.output).second) continue;
        glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, ps.output, 0);
        if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
          throw Error("OpenGL: cannot render into an RGBA32F texture of " +
                      std::to_string(ps.width) + " x " + std::to_string(ps.height) +
                      " (framebuffer incomplete)");
      }
      return p;
    } catch (const json::exception& e) {
      throw Error(what + "/manifest.json: malformed: " + e.what());
    } catch (const Error& e) {
      std::string msg = e.what();
      if (msg.rfind(what, 0) == 0) throw;
      throw Error(what + ": " + msg);
    }
  });
}

std::vector<NDArray> GLPackage::run(const std::map<std::string, NDArray>& inputs) {
  Impl& g = *impl_;
  g.makeCurrent();
  for (size_t id : g.inputIds) {
    const Impl::Value& v = g.values[id];
    auto it = inputs.find(v.tensor.name);
    if (it == inputs.end()) throw Error("no value given for input '" + v.tensor.name + "'");
    if (it->second.dtype() != v.tensor.dtype || it->second.shape() != v.tensor.shape)
      throw Error("input '" + v.tensor.name + "' is " + std::string(dtypeName(it->second.dtype())) +
                  shapeStr(it->second.shape()) + " but the package expects " +
                  std::string(dtypeName(v.tensor.dtype)) + shapeStr(v.tensor.shape));
    g.upload(v.texture, v.width, v.height, it->second.data<float>(), size_t(it->second.numel()));
  }
  glBindFramebuffer(GL_FRAMEBUFFER, g.fbo);
  glBindVertexArray(g.vao);
  glDisable(GL_BLEND);
  glDisable(GL_DEPTH_TEST);
  for (const Pass& ps : passes_) {
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, ps.output, 0);
    glViewport(0, 0, ps.width, ps.height);
    glUseProgram(ps.program);
    if (ps.uniforms >= 0)
      glUniform1iv(ps.uniforms, GLsizei(ps.shapeValues.size()), ps.shapeValues.data());
    for (size_t u = 0; u < ps.samplers.size(); ++u) {
      glActiveTexture(GL_TEXTURE0 + GLenum(u));
      glBindTexture(GL_TEXTURE_2D, ps.samplers[u].second);
      glUniform1i(ps.samplers[u].first, GLint(u));
    }
    glDrawArrays(GL_TRIANGLES, 0, 3);
  }
  checkGL("drawing the passes");
  std::vector<NDArray> outs;
  for (size_t id : g.outputIds) {
    const Impl::Value& v = g.values[id];
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, v.texture, 0);
    // Four elements per texel, in order; RGBA/FLOAT is the read format every float color
    // buffer supports.
    g.staging.resize(size_t(v.width) * size_t(v.height) * 4);
    glReadPixels(0, 0, v.width, v.height, GL_RGBA, GL_FLOAT, g.staging.data());
    checkGL("reading output '" + v.tensor.name + "'");
    NDArray o(DType::F32, v.tensor.shape);
    std::memcpy(o.data<float>(), g.staging.data(), size_t(o.numel()) * sizeof(float));
    outs.push_back(std::move(o));
  }
  return outs;
}

}  // namespace kiln::gl
