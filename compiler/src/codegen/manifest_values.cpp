// The values table of a package manifest and its params.bin (manifest_values.h).
#include "manifest_values.h"

#include <algorithm>

#include "kiln/runtime/error.h"

namespace kiln::codegen {

std::string cpuFamily(const std::string& triple) {
  if (triple.rfind("x86_64", 0) == 0) return "x86_64";
  if (triple.rfind("aarch64", 0) == 0) return "aarch64";
  if (triple.rfind("arm", 0) == 0) return "armv7";
  return triple;
}

ManifestValues::ManifestValues(const Graph& graph, const std::filesystem::path& dir)
    : graph_(graph),
      paramsPath_(dir / "params.bin"),
      params_(paramsPath_, std::ios::binary),
      plan_(planMemory(graph)) {
  if (!params_) throw Error("cannot write " + paramsPath_.string());
  for (const auto& s : plan_.slots) planned_[s.value] = &s;
}

size_t ManifestValues::idOf(const Value* v) {
  auto it = ids_.find(v);
  if (it != ids_.end()) return it->second;
  nlohmann::json e = {
      {"name", v->name}, {"dtype", std::string(dtypeName(v->dtype))}, {"shape", v->shape}};
  if (std::find(graph_.inputs().begin(), graph_.inputs().end(), v) != graph_.inputs().end()) {
    e["storage"] = "input";
  } else if (v->isConstant()) {
    const size_t offset = (paramBytes_ + 63) / 64 * 64;
    params_.write(std::string(offset - paramBytes_, '\0').data(),
                  static_cast<std::streamsize>(offset - paramBytes_));
    params_.write(static_cast<const char*>(v->constant->rawData()),
                  static_cast<std::streamsize>(v->constant->nbytes()));
    paramBytes_ = offset + v->constant->nbytes();
    e["storage"] = "const";
    e["offset"] = offset;
  } else if (auto p = planned_.find(v); p != planned_.end()) {
    e["storage"] = "arena";
    e["offset"] = p->second->offset;
  } else {
    throw Error("value '" + v->name + "' crosses kernels but has no place in the memory plan");
  }
  values_.push_back(std::move(e));
  return ids_[v] = values_.size() - 1;
}

void ManifestValues::finish() {
  params_.close();
  if (!params_) throw Error("writing " + paramsPath_.string() + " failed");
}

}  // namespace kiln::codegen
