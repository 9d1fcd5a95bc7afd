// An accelerator config (hw/configs/*.yaml): values for every spec parameter, checked
// against the spec's constraints and rules, with its derived values, instruction layout and
// config hash.
//
// A config that cannot work is refused with a message naming the parameter (as
// `section.name`) and why: a value outside its range or list, a non-power-of-two where one
// is required, tiles that are not whole AXI beats, buffers larger than the target part's
// block RAM, fields that overflow the instruction word or the micro-op.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/accel/layout.h"
#include "kiln/accel/spec.h"
#include "kiln/runtime/error.h"

namespace kiln::accel {

// The values the reference and the encoders use most, read once from a config.
struct Params {
  int batch = 0, block_in = 0, block_out = 0;
  int inp_width = 0, wgt_width = 0, acc_width = 0, out_width = 0;
  int64_t inp_depth = 0, wgt_depth = 0, acc_depth = 0, uop_depth = 0;
  int uop_width = 0, axi_width = 0;
  int64_t insn_queue_depth = 0, token_queue_depth = 0;
};

class Config {
 public:
  static Expected<Config> parse(std::string_view yaml, const std::string& origin,
                                std::shared_ptr<const Spec> spec = Spec::builtin());
  static Expected<Config> load(const std::string& path,
                               std::shared_ptr<const Spec> spec = Spec::builtin());
  // The configs built into the library: "pynq-z1" (the default), "small", "ultrascale",
  // "kv260".
  static Expected<Config> builtin(std::string_view name);
  static std::vector<std::string> builtinNames();
  // A built-in config's name, or else a path to a config file.
  static Expected<Config> find(std::string_view name_or_path);

  const std::string& name() const { return name_; }
  const std::string& origin() const { return origin_; }
  const std::string& description() const { return description_; }
  const Spec& spec() const { return *spec_; }
  const std::shared_ptr<const Spec>& specPtr() const { return spec_; }
  const Layout& layout() const { return layout_; }
  const Params& params() const { return params_; }

  // A parameter's or derived value's number (also isa_version and instruction_width);
  // throws kiln::Error for an unknown name.
  int64_t value(std::string_view name) const;
  std::optional<int64_t> findValue(std::string_view name) const;
  // A string parameter (board, part).
  const std::string& text(std::string_view name) const;

  // Bytes of one DRAM element of a memory type (a tile or a micro-op).
  int64_t elementBytes(MemType m) const { return element_bytes_[static_cast<int>(m)]; }
  // Entries of the buffer a memory type addresses.
  int64_t bufferDepth(MemType m) const;

  // The config hash (see the spec's config_hash) and the text it hashes.
  uint32_t hash() const { return hash_; }
  const std::string& canonicalEncoding() const { return canonical_; }

 private:
  Config() = default;
  static Config build(std::string_view yaml, const std::string& origin,
                      std::shared_ptr<const Spec> spec);

  std::shared_ptr<const Spec> spec_;
  std::string name_;
  std::string origin_;
  std::string description_;
  std::map<std::string, int64_t, std::less<>> values_;
  std::map<std::string, std::string, std::less<>> texts_;
  Params params_;
  Layout layout_;
  std::array<int64_t, kNumMemTypes> element_bytes_{};
  std::string canonical_;
  uint32_t hash_ = 0;
};

// FNV-1a, 64 bits, folded to 32 as low ^ high: the config hash function.
uint32_t configHash(std::string_view canonical_encoding);

}  // namespace kiln::accel
