// The opengl device: runs an OpenGL/WebGL package (target "webgl", GLSL ES 3.00 fragment
// shaders; see compiler's codegen/glsl_package.h for the format) on an OpenGL ES 3 context
// that EGL opens without a window (EGL_PLATFORM_SURFACELESS_MESA; Mesa's llvmpipe on a
// machine without a GPU). Part of the runtime: no compiler, no LLVM.
//
// Loading compiles and links every pass's shader once, allocates one float texture per
// value and temporary, and uploads the constants; run() uploads the inputs, draws the passes
// in order and reads the outputs back. Nothing is allocated per run.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/runtime/ndarray.h"
#include "kiln/runtime/package.h"

namespace kiln::gl {

class GLPackage {
 public:
  // Reads a file of the package by its relative path; throws kiln::Error when it cannot.
  using FileReader = std::function<std::string(const std::string& path)>;

  // A package directory, or the same files from memory (`kiln run MODEL --target opengl`).
  // Fails with a message saying what to fix: no OpenGL ES 3 through EGL, no float render
  // targets, a shader the driver rejects (with its log), a malformed manifest.
  static Expected<std::unique_ptr<GLPackage>> load(const std::string& dir);
  static Expected<std::unique_ptr<GLPackage>> open(const FileReader& read, const std::string& what);
  ~GLPackage();
  GLPackage(const GLPackage&) = delete;
  GLPackage& operator=(const GLPackage&) = delete;

  const std::vector<PackageTensor>& inputs() const { return inputs_; }
  const std::vector<PackageTensor>& outputs() const { return outputs_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // "opengl: <renderer> (<GL version>)"
  std::string device() const { return device_; }
  size_t kernelCount() const { return kernels_; }
  size_t passCount() const { return passes_.size(); }
  double shaderCompileMs() const { return compileMs_; }

  // Inputs by name; returns the outputs in order. Throws kiln::Error for a missing input, one
  // of the wrong dtype or shape, or an OpenGL error.
  std::vector<NDArray> run(const std::map<std::string, NDArray>& inputs);

 private:
  struct Impl;
  GLPackage();
  std::unique_ptr<Impl> impl_;
  struct Pass {
    unsigned program;
    std::vector<std::pair<int, unsigned>> samplers;  // uniform location, texture
    unsigned output;
    int width, height;
    int uniforms = -1;             // location of a shared shader's shape values (kiln_u), or -1
    std::vector<int> shapeValues;  // their values for this pass
  };
  std::vector<Pass> passes_;
  std::vector<PackageTensor> inputs_, outputs_;
  std::map<std::string, std::string> metadata_;
  std::string device_;
  size_t kernels_ = 0;
  double compileMs_ = 0;
};

}  // namespace kiln::gl
