// Shared pieces of the whole-model tests: where the generated models live, seeded random
// inputs, running a Node.js oracle script, and comparing tensors with a stated tolerance.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "kiln/runtime/ndarray.h"

namespace kiln::test {

namespace fs = std::filesystem;

inline fs::path sourceDir() {
  return KILN_SOURCE_DIR;
}
inline fs::path modelsDir() {
  return KILN_MODELS_DIR;
}
inline fs::path scratchDir(const std::string& name) {
  fs::path p = fs::path(KILN_BINARY_DIR) / "test-scratch" / name;
  fs::create_directories(p);
  return p;
}

// Why the Node.js oracles cannot run here, or "" when they can.
inline std::string nodeOracleMissing() {
  if (std::system("node --version > /dev/null 2>&1") != 0) return "node is not installed";
  if (!fs::exists(sourceDir() / "scripts/node/node_modules/onnxruntime-node"))
    return "npm packages are not installed (run scripts/setup.sh)";
  return "";
}

inline NDArray randomTensor(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  NDArray a(DType::F32, shape);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < a.numel(); ++i) a.data<float>()[i] = dist(gen);
  return a;
}

// Runs a shell command; returns its exit status and its output (stdout + stderr).
inline int runCommand(const std::string& cmd, std::string* output) {
  std::string full = cmd + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Diff {
  double maxAbs = 0;    // max |got - want|
  double maxRef = 0;    // max |want|
  double relative = 0;  // maxAbs / maxRef: the error relative to the output's scale
  int64_t argmaxGot = -1, argmaxWant = -1;
};

inline Diff diff(const NDArray& got, const NDArray& want) {
  Diff d;
  auto g = got.toFloatVector(), w = want.toFloatVector();
  for (size_t i = 0; i < w.size(); ++i) {
    d.maxAbs = std::max(d.maxAbs, std::abs(double(g[i]) - w[i]));
    d.maxRef = std::max(d.maxRef, std::abs(double(w[i])));
    if (d.argmaxGot < 0 || g[i] > g[d.argmaxGot]) d.argmaxGot = static_cast<int64_t>(i);
    if (d.argmaxWant < 0 || w[i] > w[d.argmaxWant]) d.argmaxWant = static_cast<int64_t>(i);
  }
  d.relative = d.maxRef > 0 ? d.maxAbs / d.maxRef : d.maxAbs;
  return d;
}

}  // namespace kiln::test
