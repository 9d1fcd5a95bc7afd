// Packages for the OpenGL / WebGL back end: one format that the runtime's opengl device
// (EGL + GLES 3) and the browser runtime (runtime/web, WebGL2) both run.
//
//   manifest.json  target {"kind": "webgl", "shading": "glsl-es-3.00"}; the values (inputs,
//                  constants at offsets in params.bin, activations), each with its texture
//                  size; the kernels, each a list of render passes (shader file, which
//                  buffer each sampler reads, which buffer it writes); the calls in order
//   params.bin     the float32 constants, 64-byte aligned
//   shaders/       the GLSL ES 3.00 fragment shaders, one per distinct source (passes that
//                  compute the same thing on the same shapes name the same file), and the
//                  vertex shader they all use
#pragma once

#include <map>
#include <string>

#include "kiln/codegen/graph_compiler.h"
#include "kiln/ir/graph.h"

namespace kiln::codegen {

// A package's files by relative path ("manifest.json", "params.bin", "shaders/k0_conv.0.frag").
struct GLPackageFiles {
  std::map<std::string, std::string> files;
  size_t kernels = 0, passes = 0, paramBytes = 0;
  size_t shaders = 0;  // distinct fragment shaders (passes with the same source share one)
};

// `graph` should be optimised (optimizeGraph). Throws kiln::Error naming the node or tensor
// that cannot run as fragment shaders.
GLPackageFiles buildGLPackage(const Graph& graph, const CompileOptions& options = {});

// Writes the files under dir (created if needed); throws kiln::Error when it cannot.
void writeGLPackage(const GLPackageFiles& package, const std::string& dir);

}  // namespace kiln::codegen
