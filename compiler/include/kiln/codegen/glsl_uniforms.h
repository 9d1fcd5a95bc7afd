// Shape values as uniforms: one GLSL program for layers of one kind (see glsl_uniforms.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::codegen {

// A pass's fragment shader as a package stores it: the source (possibly shared with other
// passes) and the values of its uniform int array kiln_u (empty when it declares none).
struct GLShaderUse {
  std::string source;
  std::vector<int32_t> uniforms;
};

// The name of the uniform int array that carries a shared shader's per-pass integers.
inline constexpr const char* kGLShapeUniform = "kiln_u";

// Rewrites the fragment shaders of one package (one source per pass, in order) so that shaders
// differing only in integer literals outside array brackets (texture widths, extents, strides,
// offsets, divisors, loop bounds) become one source reading the literals that differ from
// kiln_u; each pass gets the values it needs. Returns one entry per pass; a shader that no
// other resembles comes back unchanged, with no uniforms.
std::vector<GLShaderUse> shareShapeUniforms(const std::vector<std::string>& sources);

}  // namespace kiln::codegen
