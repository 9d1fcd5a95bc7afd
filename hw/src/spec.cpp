// Reads hw/spec/accel.yaml into a Spec and checks it: every expression parses, names are
// unique, and the spec's opcodes, memory types, ALU operations, modules, fields, token
// queues and error codes are exactly those the reference implements.
#include "kiln/accel/spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "kiln/runtime/error.h"
#include "names.h"
#include "util.h"

namespace kiln::accel {

namespace detail {
// Defined in the source the build generates from the YAML files (hw/cmake/embed.cmake).
std::string_view embeddedSpec();
const std::vector<std::pair<std::string, std::string_view>>& embeddedConfigs();
}  // namespace detail

namespace {

// The fields each opcode's semantics use (besides the header): a format must hold exactly
// the fields of the opcodes that use it.
std::vector<InsnField> fieldsUsedBy(Opcode op) {
  using F = InsnField;
  switch (op) {
    case Opcode::kLoad:
    case Opcode::kStore:
      return {F::kMemoryType, F::kSramBase, F::kDramBase, F::kYSize, F::kXSize,
              F::kXStride,    F::kYPad0,    F::kYPad1,    F::kXPad0, F::kXPad1};
    case Opcode::kGemm:
      return {F::kReset,       F::kUopBegin,     F::kUopEnd,      F::kIterOut,
              F::kIterIn,      F::kAccFactorOut, F::kAccFactorIn, F::kInpFactorOut,
              F::kInpFactorIn, F::kWgtFactorOut, F::kWgtFactorIn};
    case Opcode::kAlu:
      return {F::kReset,       F::kUopBegin,     F::kUopEnd,      F::kIterOut,
              F::kIterIn,      F::kAccFactorOut, F::kAccFactorIn, F::kInpFactorOut,
              F::kInpFactorIn, F::kAluOp,        F::kUseImm,      F::kImm};
    case Opcode::kFinish:
      return {};
  }
  return {};
}

const std::vector<std::string>& requiredValues() {
  static const std::vector<std::string> kNames = {
      "batch",     "block_in",  "block_out", "inp_width",        "wgt_width",
      "acc_width", "out_width", "inp_depth", "wgt_depth",        "acc_depth",
      "uop_depth", "uop_width", "axi_width", "insn_queue_depth", "token_queue_depth"};
  return kNames;
}

const std::vector<std::string>& requiredSemantics() {
  static const std::vector<std::string> kNames = {"load_store", "gemm",   "alu",
                                                  "requantize", "finish", "tokens"};
  return kNames;
}

const std::vector<std::string>& requiredErrorCodes() {
  static const std::vector<std::string> kNames = {"NONE",       "BAD_INSN",   "SRAM_RANGE",
                                                  "DRAM_RANGE", "TOKEN_FLAG", "WATCHDOG"};
  return kNames;
}

// Reads YAML nodes with messages that say where in the spec a problem is.
class Reader {
 public:
  explicit Reader(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw Error("spec " + origin_ + ": " + where + ": " + what);
  }

  YAML::Node child(const YAML::Node& n, const char* key, const std::string& where) const {
    if (!n.IsMap()) fail(where, "expected a mapping");
    YAML::Node c = n[key];
    if (!c) fail(where, std::string("missing '") + key + "'");
    return c;
  }

  std::string text(const YAML::Node& n, const char* key, const std::string& where,
                   bool required = true) const {
    if (!n.IsMap()) fail(where, "expected a mapping");
    YAML::Node c = n[key];
    if (!c) {
      if (required) fail(where, std::string("missing '") + key + "'");
      return "";
    }
    if (!c.IsScalar()) fail(where, std::string("'") + key + "' must be a string");
    return c.Scalar();
  }

  int64_t integer(const YAML::Node& n, const char* key, const std::string& where) const {
    return toInteger(child(n, key, where), where + "." + key);
  }

  std::optional<int64_t> optionalInteger(const YAML::Node& n, const char* key,
                                         const std::string& where) const {
    if (!n[key]) return std::nullopt;
    return toInteger(n[key], where + "." + key);
  }

  int64_t toInteger(const YAML::Node& c, const std::string& where) const {
    if (!c.IsScalar()) fail(where, "expected an integer");
    try {
      return c.as<int64_t>();
    } catch (const YAML::Exception&) {
      fail(where, "expected an integer, got '" + c.Scalar() + "'");
    }
  }

  bool flag(const YAML::Node& n, const char* key, bool dflt, const std::string& where) const {
    if (!n[key]) return dflt;
    try {
      return n[key].as<bool>();
    } catch (const YAML::Exception&) {
      fail(where, std::string("'") + key + "' must be true or false");
    }
  }

  Expr expr(const YAML::Node& n, const char* key, const std::string& where) const {
    YAML::Node c = child(n, key, where);
    if (!c.IsScalar()) fail(where, std::string("'") + key + "' must be an expression");
    try {
      return Expr::parse(c.Scalar());
    } catch (const Error& e) {
      fail(where, e.what());
    }
  }

  YAML::Node list(const YAML::Node& n, const char* key, const std::string& where) const {
    YAML::Node c = child(n, key, where);
    if (!c.IsSequence()) fail(where, std::string("'") + key + "' must be a list");
    return c;
  }

  template <typename E, size_t N>
  E enumerator(const std::array<std::string_view, N>& table, const std::string& name,
               const std::string& what, const std::string& where) const {
    std::optional<E> e = names::lookup<E>(table, name);
    if (!e) {
      std::vector<std::string> known(table.begin(), table.end());
      fail(where, "'" + name + "' names no " + what + " that the reference implements (" +
                      join(known, ", ") + ")");
    }
    return *e;
  }

 private:
  std::string origin_;
};

std::string at(const std::string& section, size_t i) {
  return section + "[" + std::to_string(i) + "]";
}

template <typename T, typename Id, size_t N>
void requireAll(const Reader& r, const std::vector<T>& entries,
                const std::array<std::string_view, N>& table, const std::string& section) {
  for (size_t i = 0; i < N; ++i) {
    bool found = std::any_of(entries.begin(), entries.end(),
                             [&](const T& e) { return e.id == static_cast<Id>(i); });
    if (!found) r.fail(section, "'" + std::string(table[i]) + "' is missing");
  }
  std::set<int64_t> values;
  std::set<std::string> seen;
  for (const T& e : entries) {
    if (!seen.insert(e.name).second) r.fail(section, "'" + e.name + "' appears twice");
    if constexpr (requires { e.value; })
      if (!values.insert(e.value).second)
        r.fail(section, "'" + e.name + "' reuses the value " + std::to_string(e.value));
  }
}

std::vector<FieldSpec> readFields(const Reader& r, const YAML::Node& list, const std::string& where,
                                  bool uop) {
  std::vector<FieldSpec> fields;
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string w = at(where, i);
    FieldSpec f;
    f.name = r.text(list[i], "name", w);
    if (uop)
      r.enumerator<UopField>(names::kUopFields, f.name, "micro-op field", w);
    else
      r.enumerator<InsnField>(names::kInsnFields, f.name, "instruction field", w);
    if (!seen.insert(f.name).second) r.fail(w, "field '" + f.name + "' appears twice");
    f.width = r.expr(list[i], "width", w);
    f.is_signed = r.flag(list[i], "signed", false, w);
    f.enum_name = r.text(list[i], "enum", w, false);
    f.doc = r.text(list[i], "doc", w);
    std::string expected_enum = f.name == "opcode"        ? "opcodes"
                                : f.name == "memory_type" ? "memory_types"
                                : f.name == "alu_op"      ? "alu_ops"
                                                          : "";
    if (f.enum_name != expected_enum)
      r.fail(w, "field '" + f.name + "' must have enum: '" + expected_enum + "'");
    fields.push_back(std::move(f));
  }
  return fields;
}

std::shared_ptr<Spec> parseSpec(std::string_view yaml, const std::string& origin) {
  Reader r(origin);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw Error("spec " + origin + ": not valid YAML: " + e.what());
  }
  if (!root.IsMap()) r.fail("top level", "expected a mapping");
  auto spec = std::make_shared<Spec>();
  Spec& s = *spec;
  s.origin = origin;
  s.isa_version = r.integer(root, "isa_version", "top level");
  s.instruction_width = static_cast<int>(r.integer(root, "instruction_width", "top level"));
  if (s.instruction_width <= 0 || s.instruction_width % 64 != 0)
    r.fail("instruction_width", "must be a positive multiple of 64");
  s.overview = r.text(root, "overview", "top level");
  s.config_hash_doc = r.text(root, "config_hash", "top level");

  // Parameters, derived values and rules.
  std::set<std::string> value_names = {"isa_version", "instruction_width"};
  YAML::Node params = r.list(root, "parameters", "top level");
  for (size_t i = 0; i < params.size(); ++i) {
    std::string w = at("parameters", i);
    ParamSpec p;
    p.name = r.text(params[i], "name", w);
    p.group = r.text(params[i], "group", w);
    p.doc = r.text(params[i], "doc", w);
    std::string type = r.text(params[i], "type", w, false);
    if (!type.empty() && type != "string" && type != "integer")
      r.fail(w, "type must be 'integer' (the default) or 'string'");
    p.is_string = type == "string";
    p.hashed = r.flag(params[i], "hash", true, w);
    p.pow2 = r.flag(params[i], "pow2", false, w);
    p.min = r.optionalInteger(params[i], "min", w);
    p.max = r.optionalInteger(params[i], "max", w);
    if (params[i]["values"]) {
      YAML::Node v = r.list(params[i], "values", w);
      for (size_t k = 0; k < v.size(); ++k) p.values.push_back(r.toInteger(v[k], w + ".values"));
    }
    if (p.name == "name") r.fail(w, "'name' is reserved for the config's name");
    if (!value_names.insert(p.name).second) r.fail(w, "'" + p.name + "' is defined twice");
    s.parameters.push_back(std::move(p));
  }
  YAML::Node derived = r.list(root, "derived", "top level");
  for (size_t i = 0; i < derived.size(); ++i) {
    std::string w = at("derived", i);
    DerivedSpec d;
    d.name = r.text(derived[i], "name", w);
    d.value = r.expr(derived[i], "value", w);
    d.doc = r.text(derived[i], "doc", w);
    for (const std::string& n : d.value.names())
      if (!value_names.count(n)) r.fail(w, "'" + n + "' is not defined before it");
    if (!value_names.insert(d.name).second) r.fail(w, "'" + d.name + "' is defined twice");
    s.derived.push_back(std::move(d));
  }
  for (const std::string& n : requiredValues())
    if (!value_names.count(n)) r.fail("parameters", "'" + n + "' is missing");
  YAML::Node rules = r.list(root, "rules", "top level");
  for (size_t i = 0; i < rules.size(); ++i) {
    std::string w = at("rules", i);
    RuleSpec rule;
    rule.check = r.expr(rules[i], "check", w);
    rule.message = r.text(rules[i], "message", w);
    YAML::Node ps = r.list(rules[i], "params", w);
    for (size_t k = 0; k < ps.size(); ++k) {
      rule.params.push_back(ps[k].Scalar());
      if (!s.findParam(rule.params.back()))
        r.fail(w, "'" + rule.params.back() + "' is not a parameter");
    }
    for (const std::string& n : rule.check.names())
      if (!value_names.count(n)) r.fail(w, "'" + n + "' is not defined");
    s.rules.push_back(std::move(rule));
  }

  // Modules and memory types.
  YAML::Node modules = r.list(root, "modules", "top level");
  for (size_t i = 0; i < modules.size(); ++i) {
    std::string w = at("modules", i);
    ModuleSpec m;
    m.name = r.text(modules[i], "name", w);
    m.id = r.enumerator<Module>(names::kModules, m.name, "module", w);
    m.doc = r.text(modules[i], "doc", w);
    s.modules.push_back(std::move(m));
  }
  requireAll<ModuleSpec, Module>(r, s.modules, names::kModules, "modules");
  auto module = [&](const YAML::Node& n, const char* key, const std::string& w) {
    std::string m = r.text(n, key, w, false);
    if (m.empty()) return std::optional<Module>();
    return std::optional<Module>(r.enumerator<Module>(names::kModules, m, "module", w));
  };
  YAML::Node mems = r.list(root, "memory_types", "top level");
  for (size_t i = 0; i < mems.size(); ++i) {
    std::string w = at("memory_types", i);
    MemTypeSpec m;
    m.name = r.text(mems[i], "name", w);
    m.id = r.enumerator<MemType>(names::kMemTypes, m.name, "memory type", w);
    m.value = r.integer(mems[i], "value", w);
    m.buffer = r.text(mems[i], "buffer", w);
    // The reference moves each memory type's elements to and from one buffer.
    static const std::array<std::string_view, kNumMemTypes> kBuffers = {"uop", "wgt", "inp",
                                                                        "acc", "out", "acc"};
    if (m.buffer != kBuffers[static_cast<int>(m.id)])
      r.fail(w, "the reference keeps " + m.name + " elements in the " +
                    std::string(kBuffers[static_cast<int>(m.id)]) + " buffer, not '" + m.buffer +
                    "'");
    m.element_bits = r.expr(mems[i], "element_bits", w);
    m.load_module = module(mems[i], "load", w);
    m.store_module = module(mems[i], "store", w);
    m.doc = r.text(mems[i], "doc", w);
    s.memory_types.push_back(std::move(m));
  }
  requireAll<MemTypeSpec, MemType>(r, s.memory_types, names::kMemTypes, "memory_types");

  // Formats and opcodes.
  s.header = readFields(r, r.list(root, "header", "top level"), "header", false);
  if (s.header.empty() || s.header.front().name != "opcode")
    r.fail("header", "the first field must be 'opcode'");
  YAML::Node formats = r.list(root, "formats", "top level");
  for (size_t i = 0; i < formats.size(); ++i) {
    std::string w = at("formats", i);
    FormatSpec f;
    f.name = r.text(formats[i], "name", w);
    f.fields = readFields(r, r.list(formats[i], "fields", w), "formats." + f.name, false);
    for (const FieldSpec& field : f.fields)
      for (const FieldSpec& h : s.header)
        if (field.name == h.name) r.fail(w, "'" + h.name + "' is already in the header");
    s.formats.push_back(std::move(f));
  }
  YAML::Node opcodes = r.list(root, "opcodes", "top level");
  for (size_t i = 0; i < opcodes.size(); ++i) {
    std::string w = at("opcodes", i);
    OpcodeSpec o;
    o.name = r.text(opcodes[i], "name", w);
    o.id = r.enumerator<Opcode>(names::kOpcodes, o.name, "opcode", w);
    o.value = r.integer(opcodes[i], "value", w);
    o.format = r.text(opcodes[i], "format", w);
    o.module = module(opcodes[i], "module", w);
    o.doc = r.text(opcodes[i], "doc", w);
    bool by_memory_type = o.id == Opcode::kLoad || o.id == Opcode::kStore;
    if (by_memory_type == o.module.has_value())
      r.fail(w, by_memory_type ? "LOAD and STORE run where their memory type says: no 'module'"
                               : "'module' is missing");
    auto it = std::find_if(s.formats.begin(), s.formats.end(),
                           [&](const FormatSpec& f) { return f.name == o.format; });
    if (it == s.formats.end()) r.fail(w, "no format named '" + o.format + "'");
    std::set<std::string> have, want;
    for (const FieldSpec& f : it->fields) have.insert(f.name);
    for (InsnField f : fieldsUsedBy(o.id)) want.insert(std::string(name(f)));
    for (const std::string& n : want)
      if (!have.count(n))
        r.fail(w, "format '" + o.format + "' lacks '" + n + "', which " + o.name + " uses");
    for (const std::string& n : have)
      if (!want.count(n))
        r.fail(w, "format '" + o.format + "' has '" + n + "', which " + o.name + " does not use");
    s.opcodes.push_back(std::move(o));
  }
  requireAll<OpcodeSpec, Opcode>(r, s.opcodes, names::kOpcodes, "opcodes");
  YAML::Node alu = r.list(root, "alu_ops", "top level");
  for (size_t i = 0; i < alu.size(); ++i) {
    std::string w = at("alu_ops", i);
    AluOpSpec a;
    a.name = r.text(alu[i], "name", w);
    a.id = r.enumerator<AluOp>(names::kAluOps, a.name, "ALU operation", w);
    a.value = r.integer(alu[i], "value", w);
    a.semantics = r.text(alu[i], "semantics", w);
    a.doc = r.text(alu[i], "doc", w);
    s.alu_ops.push_back(std::move(a));
  }
  requireAll<AluOpSpec, AluOp>(r, s.alu_ops, names::kAluOps, "alu_ops");

  YAML::Node uop = r.child(root, "micro_op", "top level");
  s.micro_op_width = r.expr(uop, "width", "micro_op");
  s.micro_op_doc = r.text(uop, "doc", "micro_op");
  s.micro_op_fields = readFields(r, r.list(uop, "fields", "micro_op"), "micro_op.fields", true);
  if (s.micro_op_fields.size() != static_cast<size_t>(kNumUopFields))
    r.fail("micro_op.fields", "must be acc_idx, inp_idx and wgt_idx");

  // Token queues: each (module, flag) names at most one queue.
  YAML::Node queues = r.list(root, "token_queues", "top level");
  std::set<std::pair<Module, InsnField>> used;
  for (size_t i = 0; i < queues.size(); ++i) {
    std::string w = at("token_queues", i);
    TokenQueueSpec q;
    q.name = r.text(queues[i], "name", w);
    q.from = *module(queues[i], "from", w);
    q.to = *module(queues[i], "to", w);
    q.push = r.enumerator<InsnField>(names::kInsnFields, r.text(queues[i], "push", w), "field", w);
    q.pop = r.enumerator<InsnField>(names::kInsnFields, r.text(queues[i], "pop", w), "field", w);
    q.doc = r.text(queues[i], "doc", w);
    if (q.push != InsnField::kPushPrev && q.push != InsnField::kPushNext)
      r.fail(w, "push must be push_prev or push_next");
    if (q.pop != InsnField::kPopPrev && q.pop != InsnField::kPopNext)
      r.fail(w, "pop must be pop_prev or pop_next");
    if (!used.insert({q.from, q.push}).second || !used.insert({q.to, q.pop}).second)
      r.fail(w, "a module's flag may name only one queue");
    s.token_queues.push_back(std::move(q));
  }

  YAML::Node sem = r.child(root, "semantics", "top level");
  if (!sem.IsMap()) r.fail("semantics", "expected a mapping");
  for (auto it = sem.begin(); it != sem.end(); ++it)
    s.semantics.emplace_back(it->first.Scalar(), it->second.Scalar());
  for (const std::string& n : requiredSemantics())
    if (std::none_of(s.semantics.begin(), s.semantics.end(),
                     [&](const auto& p) { return p.first == n; }))
      r.fail("semantics", "section '" + n + "' is missing");

  // MMIO.
  YAML::Node mmio = r.child(root, "mmio", "top level");
  s.mmio_width = static_cast<int>(r.integer(mmio, "width", "mmio"));
  s.mmio_doc = r.text(mmio, "doc", "mmio");
  YAML::Node regs = r.list(mmio, "registers", "mmio");
  std::set<uint32_t> offsets;
  for (size_t i = 0; i < regs.size(); ++i) {
    std::string w = at("mmio.registers", i);
    RegisterSpec reg;
    reg.name = r.text(regs[i], "name", w);
    reg.offset = static_cast<uint32_t>(r.integer(regs[i], "offset", w));
    reg.access = r.text(regs[i], "access", w);
    reg.value = r.text(regs[i], "value", w, false);
    reg.doc = r.text(regs[i], "doc", w);
    if (reg.access != "rw" && reg.access != "ro") r.fail(w, "access must be rw or ro");
    if (!reg.value.empty() && reg.value != "config_hash" && reg.value != "isa_version")
      r.fail(w, "value must be config_hash or isa_version");
    if (reg.offset % (s.mmio_width / 8) != 0 || !offsets.insert(reg.offset).second)
      r.fail(w, "offset " + hex(reg.offset) + " is unaligned or taken");
    if (regs[i]["fields"]) {
      YAML::Node fs = r.list(regs[i], "fields", w);
      for (size_t k = 0; k < fs.size(); ++k) {
        std::string fw = w + ".fields[" + std::to_string(k) + "]";
        RegFieldSpec f;
        f.name = r.text(fs[k], "name", fw);
        f.lsb = static_cast<int>(r.integer(fs[k], "lsb", fw));
        f.width = static_cast<int>(r.integer(fs[k], "width", fw));
        f.doc = r.text(fs[k], "doc", fw);
        if (f.lsb < 0 || f.width < 1 || f.lsb + f.width > s.mmio_width)
          r.fail(fw, "does not fit the register");
        reg.fields.push_back(std::move(f));
      }
    }
    s.registers.push_back(std::move(reg));
  }
  s.counters_base = static_cast<uint32_t>(r.integer(mmio, "counters_base", "mmio"));
  YAML::Node counters = r.list(mmio, "counters", "mmio");
  for (size_t i = 0; i < counters.size(); ++i) {
    std::string w = at("mmio.counters", i);
    s.counters.push_back({r.text(counters[i], "name", w), r.text(counters[i], "module", w),
                          r.text(counters[i], "doc", w)});
  }
  for (uint32_t off : offsets)
    if (off >= s.counters_base) r.fail("mmio", "register at " + hex(off) + " overlaps counters");
  YAML::Node codes = r.list(mmio, "error_codes", "mmio");
  for (size_t i = 0; i < codes.size(); ++i) {
    std::string w = at("mmio.error_codes", i);
    s.error_codes.push_back(
        {r.text(codes[i], "name", w), r.integer(codes[i], "value", w), r.text(codes[i], "doc", w)});
  }
  for (const std::string& n : requiredErrorCodes())
    if (std::none_of(s.error_codes.begin(), s.error_codes.end(),
                     [&](const NamedValue& v) { return v.name == n; }))
      r.fail("mmio.error_codes", "'" + n + "' is missing");

  YAML::Node timing = r.child(root, "timing", "top level");
  s.timing_doc = r.text(timing, "doc", "timing");
  YAML::Node tvalues = r.list(timing, "values", "timing");
  for (size_t i = 0; i < tvalues.size(); ++i) {
    std::string w = at("timing.values", i);
    s.timing.push_back({r.text(tvalues[i], "name", w), r.integer(tvalues[i], "value", w),
                        r.text(tvalues[i], "doc", w)});
    if (s.timing.back().value < 0) r.fail(w, "must not be negative");
  }
  for (const char* n :
       {"issue_cycles", "command_cycles", "complete_cycles", "token_cycles", "gemm_ii",
        "gemm_depth", "alu_read_cycles", "alu_depth", "sram_write_cycles", "sram_read_cycles",
        "dma_request_cycles", "dma_element_cycles", "dma_job_gap_cycles", "dma_done_cycles",
        "store_row_cycles", "fetch_burst", "watchdog_cycles"})
    if (std::none_of(s.timing.begin(), s.timing.end(),
                     [&](const NamedValue& v) { return v.name == n; }))
      r.fail("timing.values", "'" + std::string(n) + "' is missing");

  YAML::Node assembly = r.child(root, "assembly", "top level");
  s.assembly_doc = r.text(assembly, "doc", "assembly");
  s.assembly_example = r.text(assembly, "example", "assembly");
  return spec;
}

}  // namespace

std::shared_ptr<const Spec> Spec::parse(std::string_view yaml, const std::string& origin) {
  return parseSpec(yaml, origin);
}

std::shared_ptr<const Spec> Spec::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read the spec " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

std::shared_ptr<const Spec> Spec::builtin() {
  static const std::shared_ptr<const Spec> kSpec =
      parse(detail::embeddedSpec(), "hw/spec/accel.yaml");
  return kSpec;
}

std::string_view Spec::builtinText() {
  return detail::embeddedSpec();
}

const std::vector<std::pair<std::string, std::string_view>>& Spec::builtinConfigs() {
  return detail::embeddedConfigs();
}

const ParamSpec* Spec::findParam(std::string_view n) const {
  for (const ParamSpec& p : parameters)
    if (p.name == n) return &p;
  return nullptr;
}

const DerivedSpec* Spec::findDerived(std::string_view n) const {
  for (const DerivedSpec& d : derived)
    if (d.name == n) return &d;
  return nullptr;
}

const FormatSpec& Spec::format(std::string_view n) const {
  for (const FormatSpec& f : formats)
    if (f.name == n) return f;
  throw Error("spec " + origin + ": no format '" + std::string(n) + "'");
}

const OpcodeSpec& Spec::opcode(Opcode id) const {
  return *std::find_if(opcodes.begin(), opcodes.end(), [&](auto& o) { return o.id == id; });
}

const MemTypeSpec& Spec::memType(MemType id) const {
  return *std::find_if(memory_types.begin(), memory_types.end(),
                       [&](auto& m) { return m.id == id; });
}

const AluOpSpec& Spec::aluOp(AluOp id) const {
  return *std::find_if(alu_ops.begin(), alu_ops.end(), [&](auto& a) { return a.id == id; });
}

int64_t Spec::timingValue(std::string_view n) const {
  for (const NamedValue& v : timing)
    if (v.name == n) return v.value;
  throw Error("spec " + origin + ": no timing value '" + std::string(n) + "'");
}

const std::string& Spec::semanticsOf(std::string_view section) const {
  for (const auto& [n, text] : semantics)
    if (n == section) return text;
  throw Error("spec " + origin + ": no semantics section '" + std::string(section) + "'");
}

}  // namespace kiln::accel
