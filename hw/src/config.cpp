// Loads a config file, checks every parameter against the spec's constraints and rules,
// evaluates the derived values, computes the layout and the config hash.
#include "kiln/accel/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "util.h"

namespace kiln::accel {

namespace {

bool isPow2(int64_t v) {
  return v > 0 && (v & (v - 1)) == 0;
}

// Replaces each {name} in a rule's message with the config's value of that name.
std::string substitute(const std::string& message, const Config& c) {
  std::string out;
  for (size_t i = 0; i < message.size(); ++i) {
    size_t close = message.find('}', i);
    if (message[i] == '{' && close != std::string::npos) {
      std::string name = message.substr(i + 1, close - i - 1);
      const ParamSpec* p = c.spec().findParam(name);
      if (p && p->is_string) {
        out += c.text(name);
      } else if (std::optional<int64_t> v = c.findValue(name)) {
        out += std::to_string(*v);
      } else {
        out += "{" + name + "}";
      }
      i = close;
    } else {
      out += message[i];
    }
  }
  return out;
}

}  // namespace

uint32_t configHash(std::string_view canonical) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis
  for (unsigned char c : canonical) {
    h ^= c;
    h *= 0x100000001b3ull;  // FNV-1a 64 prime
  }
  return static_cast<uint32_t>(h ^ (h >> 32));
}

Config Config::build(std::string_view yaml, const std::string& origin,
                     std::shared_ptr<const Spec> spec) {
  Config c;
  c.spec_ = std::move(spec);
  c.origin_ = origin;
  const Spec& s = *c.spec_;
  auto fail = [&](const std::string& what) -> void {
    throw Error("config " + origin + ": " + what);
  };
  auto qualify = [&](const std::string& param) {
    const ParamSpec* p = s.findParam(param);
    return p ? p->group + "." + param : param;
  };

  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    fail(std::string("not valid YAML: ") + e.what());
  }
  if (!root.IsMap()) fail("expected a mapping of sections (name, core, buffers, ...)");

  // The name, then every key must be a known section holding known parameters.
  if (!root["name"] || !root["name"].IsScalar()) fail("missing 'name'");
  c.name_ = root["name"].Scalar();
  if (c.name_.empty() || !std::all_of(c.name_.begin(), c.name_.end(), [](unsigned char ch) {
        return std::islower(ch) || std::isdigit(ch) || ch == '-';
      }))
    fail("name '" + c.name_ + "' must be lower-case letters, digits and '-'");
  if (root["description"] && root["description"].IsScalar())
    c.description_ = root["description"].Scalar();
  std::vector<std::string> groups;
  for (const ParamSpec& p : s.parameters)
    if (std::find(groups.begin(), groups.end(), p.group) == groups.end()) groups.push_back(p.group);
  for (auto it = root.begin(); it != root.end(); ++it) {
    std::string key = it->first.Scalar();
    if (key == "name" || key == "description") continue;
    if (std::find(groups.begin(), groups.end(), key) == groups.end())
      fail("unknown section '" + key + "'; a config has name, description, " + join(groups, ", "));
    if (!it->second.IsMap()) fail("section '" + key + "' must be a mapping");
    for (auto p = it->second.begin(); p != it->second.end(); ++p) {
      std::string name = p->first.Scalar();
      const ParamSpec* ps = s.findParam(name);
      if (!ps || ps->group != key) {
        std::vector<std::string> known;
        for (const ParamSpec& q : s.parameters)
          if (q.group == key) known.push_back(q.name);
        fail(key + "." + name + ": unknown parameter; " + key + " has " + join(known, ", "));
      }
    }
  }

  // Parameters and their constraints.
  for (const ParamSpec& p : s.parameters) {
    std::string where = p.group + "." + p.name;
    YAML::Node n = root[p.group] ? root[p.group][p.name] : YAML::Node();
    if (!n) fail(where + ": missing (" + p.doc + ")");
    if (!n.IsScalar()) fail(where + ": expected a single value");
    if (p.is_string) {
      c.texts_[p.name] = n.Scalar();
      continue;
    }
    int64_t v = 0;
    try {
      v = n.as<int64_t>();
    } catch (const YAML::Exception&) {
      fail(where + ": expected an integer, got '" + n.Scalar() + "'");
    }
    if (!p.values.empty() && std::find(p.values.begin(), p.values.end(), v) == p.values.end()) {
      std::vector<std::string> allowed;
      for (int64_t a : p.values) allowed.push_back(std::to_string(a));
      fail(where + ": " + std::to_string(v) + " is not " +
           (allowed.size() == 1 ? "supported; it must be " + allowed[0]
                                : "one of " + join(allowed, ", ")));
    }
    if (p.min && v < *p.min)
      fail(where + ": " + std::to_string(v) + " is below the minimum " + std::to_string(*p.min));
    if (p.max && v > *p.max)
      fail(where + ": " + std::to_string(v) + " is above the maximum " + std::to_string(*p.max));
    if (p.pow2 && !isPow2(v)) fail(where + ": " + std::to_string(v) + " is not a power of two");
    c.values_[p.name] = v;
  }
  c.values_["isa_version"] = s.isa_version;
  c.values_["instruction_width"] = s.instruction_width;

  Expr::Lookup lookup = [&c](std::string_view n) { return c.findValue(n); };
  for (const DerivedSpec& d : s.derived) c.values_[d.name] = d.value.eval(lookup);
  for (const RuleSpec& rule : s.rules)
    if (!rule.check.eval(lookup)) {
      std::vector<std::string> params;
      for (const std::string& p : rule.params) params.push_back(qualify(p));
      fail(join(params, ", ") + ": " + substitute(rule.message, c));
    }

  try {
    c.layout_ = Layout::compute(s, lookup, qualify);
  } catch (const Error& e) {
    fail(e.what());
  }
  for (const MemTypeSpec& m : s.memory_types) {
    int64_t bits = m.element_bits.eval(lookup);
    if (bits <= 0 || bits % 8 != 0)
      fail("a " + m.name + " element is " + std::to_string(bits) + " bits, not whole bytes");
    c.element_bytes_[static_cast<int>(m.id)] = bits / 8;
  }

  Params& p = c.params_;
  p.batch = static_cast<int>(c.value("batch"));
  p.block_in = static_cast<int>(c.value("block_in"));
  p.block_out = static_cast<int>(c.value("block_out"));
  p.inp_width = static_cast<int>(c.value("inp_width"));
  p.wgt_width = static_cast<int>(c.value("wgt_width"));
  p.acc_width = static_cast<int>(c.value("acc_width"));
  p.out_width = static_cast<int>(c.value("out_width"));
  p.inp_depth = c.value("inp_depth");
  p.wgt_depth = c.value("wgt_depth");
  p.acc_depth = c.value("acc_depth");
  p.uop_depth = c.value("uop_depth");
  p.uop_width = static_cast<int>(c.value("uop_width"));
  p.axi_width = static_cast<int>(c.value("axi_width"));
  p.insn_queue_depth = c.value("insn_queue_depth");
  p.token_queue_depth = c.value("token_queue_depth");

  c.canonical_ = "kiln-accel isa=" + std::to_string(s.isa_version);
  for (const ParamSpec& q : s.parameters)
    if (q.hashed)
      c.canonical_ += "\n" + q.name + "=" +
                      (q.is_string ? c.texts_[q.name] : std::to_string(c.values_[q.name]));
  c.hash_ = configHash(c.canonical_);
  return c;
}

Expected<Config> Config::parse(std::string_view yaml, const std::string& origin,
                               std::shared_ptr<const Spec> spec) {
  return catchErrors([&] { return build(yaml, origin, std::move(spec)); });
}

Expected<Config> Config::load(const std::string& path, std::shared_ptr<const Spec> spec) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error("cannot read the config " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path, std::move(spec));
}

Expected<Config> Config::builtin(std::string_view name) {
  for (const auto& [n, text] : Spec::builtinConfigs())
    if (n == name) return parse(text, "hw/configs/" + n + ".yaml");
  return Error("no built-in config '" + std::string(name) + "'; there are " +
               join(builtinNames(), ", "));
}

std::vector<std::string> Config::builtinNames() {
  std::vector<std::string> names;
  for (const auto& [n, text] : Spec::builtinConfigs()) names.push_back(n);
  return names;
}

Expected<Config> Config::find(std::string_view name_or_path) {
  for (const auto& [n, text] : Spec::builtinConfigs())
    if (n == name_or_path) return builtin(n);
  std::string path(name_or_path);
  if (!std::filesystem::exists(path))
    return Error("'" + path + "' is neither a built-in config (" + join(builtinNames(), ", ") +
                 ") nor a file");
  return load(path);
}

std::optional<int64_t> Config::findValue(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

int64_t Config::value(std::string_view name) const {
  std::optional<int64_t> v = findValue(name);
  if (!v) throw Error("config " + name_ + ": no value named '" + std::string(name) + "'");
  return *v;
}

const std::string& Config::text(std::string_view name) const {
  auto it = texts_.find(name);
  if (it == texts_.end())
    throw Error("config " + name_ + ": no text parameter named '" + std::string(name) + "'");
  return it->second;
}

int64_t Config::bufferDepth(MemType m) const {
  switch (m) {
    case MemType::kUop:
      return params_.uop_depth;
    case MemType::kWgt:
      return params_.wgt_depth;
    case MemType::kInp:
      return params_.inp_depth;
    case MemType::kAcc:
    case MemType::kOut:
    case MemType::kAcc8:
      return params_.acc_depth;
  }
  return 0;
}

}  // namespace kiln::accel
