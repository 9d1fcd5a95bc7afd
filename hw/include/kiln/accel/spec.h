// The accelerator spec (hw/spec/accel.yaml) as C++ data: parameters and their constraints,
// derived values, rules, the ISA's formats and enumerations, token queues, the MMIO map and
// the prose of the reference page.
//
// The spec is the single source of truth; this library embeds it at build time
// (Spec::builtin()), and parsing checks that it names exactly the opcodes, memory types,
// ALU operations, fields and modules that the reference implements.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/accel/expr.h"
#include "kiln/accel/isa.h"

namespace kiln::accel {

struct ParamSpec {
  std::string name;
  std::string group;  // the section of a config file that holds it
  std::string doc;
  bool is_string = false;
  bool hashed = true;  // part of the config hash
  bool pow2 = false;
  std::optional<int64_t> min, max;
  std::vector<int64_t> values;  // allowed values, if restricted to a list
};

struct DerivedSpec {
  std::string name;
  Expr value;
  std::string doc;
};

struct RuleSpec {
  Expr check;
  std::vector<std::string> params;  // what to change when the rule fails
  std::string message;              // with {name} placeholders
};

struct NamedValue {
  std::string name;
  int64_t value = 0;
  std::string doc;
};

struct ModuleSpec {
  Module id;
  std::string name;
  std::string doc;
};

struct MemTypeSpec {
  MemType id;
  std::string name;
  int64_t value = 0;
  std::string buffer;
  Expr element_bits;
  std::optional<Module> load_module;   // the module that executes LOAD of it, if any
  std::optional<Module> store_module;  // the module that executes STORE of it, if any
  std::string doc;
};

struct FieldSpec {
  std::string name;
  Expr width;
  bool is_signed = false;
  std::string enum_name;  // "opcodes", "memory_types", "alu_ops" or empty
  std::string doc;
};

struct FormatSpec {
  std::string name;
  std::vector<FieldSpec> fields;  // after the header
};

struct OpcodeSpec {
  Opcode id;
  std::string name;
  int64_t value = 0;
  std::string format;
  std::optional<Module> module;  // absent: chosen by the memory type
  std::string doc;
};

struct AluOpSpec {
  AluOp id;
  std::string name;
  int64_t value = 0;
  std::string semantics;
  std::string doc;
};

struct TokenQueueSpec {
  std::string name;
  Module from, to;
  InsnField push, pop;  // the flag that pushes (on `from`) and pops (on `to`)
  std::string doc;
};

struct RegFieldSpec {
  std::string name;
  int lsb = 0;
  int width = 1;
  std::string doc;
};

struct RegisterSpec {
  std::string name;
  uint32_t offset = 0;
  std::string access;  // "rw" or "ro"
  std::string value;   // for a constant register: "config_hash" or "isa_version"
  std::string doc;
  std::vector<RegFieldSpec> fields;
};

struct CounterSpec {
  std::string name;
  std::string module;
  std::string doc;
};

struct Spec {
  std::string origin;  // where it was read from, for messages
  int64_t isa_version = 0;
  int instruction_width = 0;
  std::string overview;
  std::vector<ParamSpec> parameters;
  std::vector<DerivedSpec> derived;
  std::vector<RuleSpec> rules;
  std::vector<ModuleSpec> modules;
  std::vector<MemTypeSpec> memory_types;
  std::vector<FieldSpec> header;
  std::vector<FormatSpec> formats;
  std::vector<OpcodeSpec> opcodes;
  std::vector<AluOpSpec> alu_ops;
  Expr micro_op_width;
  std::string micro_op_doc;
  std::vector<FieldSpec> micro_op_fields;
  std::vector<TokenQueueSpec> token_queues;
  std::vector<std::pair<std::string, std::string>> semantics;  // section -> Markdown
  std::string config_hash_doc;
  int mmio_width = 32;
  std::string mmio_doc;
  std::vector<RegisterSpec> registers;
  uint32_t counters_base = 0;
  std::vector<CounterSpec> counters;
  std::vector<NamedValue> error_codes;
  std::string timing_doc;
  std::vector<NamedValue> timing;  // cycle counts of the micro-architecture
  std::string assembly_doc;
  std::string assembly_example;

  // Parse and check a spec. Throws kiln::Error naming the entry that is wrong.
  static std::shared_ptr<const Spec> parse(std::string_view yaml, const std::string& origin);
  static std::shared_ptr<const Spec> load(const std::string& path);
  // The spec this library was built with.
  static std::shared_ptr<const Spec> builtin();
  // The text of the built-in spec and of the built-in configs (name, YAML text).
  static std::string_view builtinText();
  static const std::vector<std::pair<std::string, std::string_view>>& builtinConfigs();

  const ParamSpec* findParam(std::string_view name) const;
  const DerivedSpec* findDerived(std::string_view name) const;
  const FormatSpec& format(std::string_view name) const;
  const OpcodeSpec& opcode(Opcode id) const;
  const MemTypeSpec& memType(MemType id) const;
  const AluOpSpec& aluOp(AluOp id) const;
  const std::string& semanticsOf(std::string_view section) const;
  // A timing value (see the spec's timing section); throws kiln::Error for an unknown name.
  int64_t timingValue(std::string_view name) const;
};

}  // namespace kiln::accel
