// The GLSL back end: loop-IR kernels -> GLSL ES 3.00 fragment shaders, for OpenGL ES 3 (the
// runtime's opengl device) and WebGL2 (runtime/web).
//
// Every tensor is an RGBA32F texture holding four consecutive elements per texel, about
// square (its width the smallest power of two, at most 4096, not below its height), filled
// row by row: element i is component i % 4 of texel t = i / 4, at (t % width, t / width). A kernel
// becomes one render pass per stage it stores (see schedule/gl_schedule.h): the pass draws one
// fragment per output texel, the fragment's position is the texel's index, it computes the texel's
// four elements in registers, and what it reads comes from the input textures through texelFetch. A
// kernel's intermediates (a softmax's row maximum and sum) are textures of their own, written by an
// earlier pass.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/tir/kernel.h"

namespace kiln::codegen {

// The largest texture side every WebGL2 implementation supports.
inline constexpr int64_t kGLMaxTextureSide = 4096;
// Elements per texel (RGBA32F).
inline constexpr int64_t kGLTexelElements = 4;

struct GLTextureShape {
  int64_t width = 1, height = 1;
};
// The texture of a tensor of `numel` float32 elements, four per texel; throws kiln::Error
// naming `what` when it needs more than 4096 x 4096 texels.
GLTextureShape glTextureShape(int64_t numel, const std::string& what);

struct GLSLBuffer {
  std::string name;
  int64_t numel;
  GLTextureShape texture;
};

struct GLSLPass {
  std::string source;  // the fragment shader
  // The shader's sampler uniforms and the buffer (index into GLSLKernel::buffers) each reads.
  std::vector<std::pair<std::string, size_t>> samplers;
  size_t output;  // the buffer it renders into
};

struct GLSLKernel {
  std::string name;
  std::vector<GLSLBuffer> buffers;  // the kernel's parameters, in order, then its temporaries
  size_t paramCount = 0;
  std::vector<GLSLPass> passes;  // in the order to draw them
};

// Throws kiln::Error naming the kernel when it cannot run as fragment shaders (a tensor that
// is not float32, a stage that writes anywhere but its own fragment's element, a texture
// over the size limit).
GLSLKernel codegenGLSL(const tir::Kernel& kernel);

// The vertex shader every pass uses: one triangle that covers the viewport.
const char* glslVertexShader();

}  // namespace kiln::codegen
