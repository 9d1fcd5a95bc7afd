// The values table of a package manifest and the params.bin beside it, shared by every package
// writer (CPU, GPU, accelerator): each value a step names gets an id the first time, graph
// inputs are marked as such, constants are appended to params.bin 64-byte aligned, and
// activations take their offset in the arena of the static memory plan.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "kiln/ir/graph.h"
#include "kiln/passes/pass.h"

namespace kiln::codegen {

// "x86_64", "aarch64" or "armv7" for an LLVM target triple (the package's CPU family).
std::string cpuFamily(const std::string& triple);

class ManifestValues {
 public:
  // Plans the graph's memory and opens dir/params.bin; throws kiln::Error when it cannot.
  ManifestValues(const Graph& graph, const std::filesystem::path& dir);
  // The id of v in values(), adding it on first use; throws kiln::Error for an activation
  // that has no place in the memory plan.
  size_t idOf(const Value* v);
  // Closes params.bin; throws kiln::Error when writing it failed.
  void finish();

  const nlohmann::json& values() const { return values_; }
  size_t paramBytes() const { return paramBytes_; }
  size_t arenaBytes() const { return plan_.arenaBytes; }

 private:
  const Graph& graph_;
  std::filesystem::path paramsPath_;
  std::ofstream params_;
  MemoryPlan plan_;
  std::map<const Value*, const MemoryPlan::Slot*> planned_;
  std::map<const Value*, size_t> ids_;
  nlohmann::json values_ = nlohmann::json::array();
  size_t paramBytes_ = 0;
};

}  // namespace kiln::codegen
