// libFuzzer target: arbitrary bytes through the ONNX importer (and, when they import, the
// reference executor on zero inputs). Anything other than a clean kiln::Error is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kiln/frontend/onnx.h"
#include "kiln/ref/executor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // No external data: the base directory does not exist.
  kiln::Expected<kiln::Graph> g = kiln::importOnnxBytes(bytes, "/nonexistent-kiln-fuzz-dir");
  if (!g) return 0;
  // Bound the work a fuzzed model may ask for before running it.
  int64_t elements = 0;
  for (kiln::Value* v : g->values()) elements += kiln::shapeNumel(v->shape);
  if (elements > (1 << 22)) return 0;
  std::map<std::string, kiln::NDArray> feeds;
  for (kiln::Value* in : g->inputs()) feeds[in->name] = kiln::NDArray(in->dtype, in->shape);
  auto r = kiln::catchErrors([&] { return kiln::ref::Executor(*g).run(feeds); });
  (void)r;
  return 0;
}
