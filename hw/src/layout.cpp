// Computes a config's instruction and micro-op layout from the spec: evaluates each field's
// width, packs the fields from bit 0 upwards and refuses formats that do not fit.
#include "kiln/accel/layout.h"

#include <algorithm>

#include "kiln/accel/spec.h"
#include "kiln/runtime/error.h"
#include "names.h"
#include "util.h"

namespace kiln::accel {

const Field* Format::find(InsnField f) const {
  for (const Field& field : fields)
    if (field.id == static_cast<int>(f)) return &field;
  return nullptr;
}

const Field* Format::find(UopField f) const {
  for (const Field& field : fields)
    if (field.id == static_cast<int>(f)) return &field;
  return nullptr;
}

namespace {

// The parameters an expression depends on, through derived values.
void collectParams(const Spec& spec, const Expr& e, std::vector<std::string>& out) {
  for (const std::string& n : e.names()) {
    if (const DerivedSpec* d = spec.findDerived(n)) {
      collectParams(spec, d->value, out);
    } else if (spec.findParam(n) && std::find(out.begin(), out.end(), n) == out.end()) {
      out.push_back(n);
    }
  }
}

Field makeField(const FieldSpec& fs, int id, int lsb, const Expr::Lookup& values,
                const std::string& where) {
  int64_t width = fs.width.eval(values);
  if (width < 1 || width > 63)
    throw Error(where + ": field " + fs.name + " is " + std::to_string(width) + " bits wide (" +
                fs.width.text() + "); a field has 1 to 63 bits");
  Field f;
  f.name = fs.name;
  f.id = id;
  f.lsb = lsb;
  f.width = static_cast<int>(width);
  f.is_signed = fs.is_signed;
  f.width_expr = fs.width.text();
  f.doc = fs.doc;
  return f;
}

// "uop_begin 13 = clog2(uop_depth), ..." for the fields whose width depends on the config.
std::string variableFields(const std::vector<Field>& fields) {
  std::vector<std::string> parts;
  for (const Field& f : fields)
    if (f.width_expr != std::to_string(f.width))
      parts.push_back(f.name + " " + std::to_string(f.width) + " = " + f.width_expr);
  return join(parts, ", ");
}

std::string paramsToShrink(const Spec& spec, const std::vector<const FieldSpec*>& fields,
                           const std::function<std::string(const std::string&)>& qualify) {
  std::vector<std::string> params;
  for (const FieldSpec* f : fields) collectParams(spec, f->width, params);
  for (std::string& p : params) p = qualify(p);
  if (params.empty()) return "";
  if (params.size() == 1) return "; make " + params[0] + " smaller";
  std::string last = params.back();
  params.pop_back();
  return "; make " + join(params, ", ") + " or " + last + " smaller";
}

}  // namespace

Layout Layout::compute(const Spec& spec, const Expr::Lookup& values,
                       const std::function<std::string(const std::string&)>& qualify) {
  Layout l;
  l.insn_bits_ = spec.instruction_width;
  for (const OpcodeSpec& o : spec.opcodes) l.opcode_values_[static_cast<int>(o.id)] = o.value;
  for (const MemTypeSpec& m : spec.memory_types) l.mem_values_[static_cast<int>(m.id)] = m.value;
  for (const AluOpSpec& a : spec.alu_ops) l.alu_values_[static_cast<int>(a.id)] = a.value;

  for (const FormatSpec& fs : spec.formats) {
    Format format;
    format.name = fs.name;
    std::vector<const FieldSpec*> specs;
    for (const FieldSpec& f : spec.header) specs.push_back(&f);
    for (const FieldSpec& f : fs.fields) specs.push_back(&f);
    int lsb = 0;
    for (const FieldSpec* f : specs) {
      int id = static_cast<int>(*names::lookup<InsnField>(names::kInsnFields, f->name));
      format.fields.push_back(makeField(*f, id, lsb, values, "the " + fs.name + " format"));
      lsb += format.fields.back().width;
    }
    format.bits = lsb;
    if (format.bits > l.insn_bits_)
      throw Error("the " + fs.name + " instruction format needs " + std::to_string(format.bits) +
                  " bits but an instruction has " + std::to_string(l.insn_bits_) + " (" +
                  variableFields(format.fields) + ")" + paramsToShrink(spec, specs, qualify));
    // Enumerations must fit their fields.
    for (const Field& f : format.fields) {
      auto id = static_cast<InsnField>(f.id);
      int64_t widest = 0;
      if (id == InsnField::kOpcode)
        for (int64_t v : l.opcode_values_) widest = std::max(widest, v);
      if (id == InsnField::kMemoryType)
        for (int64_t v : l.mem_values_) widest = std::max(widest, v);
      if (id == InsnField::kAluOp)
        for (int64_t v : l.alu_values_) widest = std::max(widest, v);
      if (widest > f.maxValue())
        throw Error("the " + fs.name + " format's " + f.name + " field has " +
                    std::to_string(f.width) + " bits, too few for the value " +
                    std::to_string(widest));
    }
    l.formats_.push_back(std::move(format));
  }
  for (const OpcodeSpec& o : spec.opcodes) {
    auto it = std::find_if(l.formats_.begin(), l.formats_.end(),
                           [&](const Format& f) { return f.name == o.format; });
    l.format_of_[static_cast<int>(o.id)] = static_cast<int>(it - l.formats_.begin());
  }

  int64_t uop_width = spec.micro_op_width.eval(values);
  if (uop_width < 8 || uop_width > 64 || uop_width % 8 != 0)
    throw Error("a micro-op is " + std::to_string(uop_width) + " bits (" +
                spec.micro_op_width.text() + "); it must be 8 to 64 bits, whole bytes");
  l.uop_bits_ = static_cast<int>(uop_width);
  l.uop_.name = "micro_op";
  std::vector<const FieldSpec*> uop_specs;
  int lsb = 0;
  for (const FieldSpec& f : spec.micro_op_fields) {
    uop_specs.push_back(&f);
    int id = static_cast<int>(*names::lookup<UopField>(names::kUopFields, f.name));
    l.uop_.fields.push_back(makeField(f, id, lsb, values, "the micro-op"));
    lsb += l.uop_.fields.back().width;
  }
  l.uop_.bits = lsb;
  if (lsb > l.uop_bits_) {
    std::string widths;
    for (const Field& f : l.uop_.fields)
      widths += (widths.empty() ? "" : " + ") + f.name + " " + std::to_string(f.width);
    throw Error(qualify(spec.micro_op_width.text()) + ": a micro-op needs " + std::to_string(lsb) +
                " bits (" + widths + ") but is " + std::to_string(l.uop_bits_) +
                paramsToShrink(spec, uop_specs, qualify) + ", or widen the micro-op");
  }
  return l;
}

std::optional<Opcode> Layout::opcodeOf(int64_t value) const {
  for (int i = 0; i < kNumOpcodes; ++i)
    if (opcode_values_[i] == value) return static_cast<Opcode>(i);
  return std::nullopt;
}

std::optional<MemType> Layout::memTypeOf(int64_t value) const {
  for (int i = 0; i < kNumMemTypes; ++i)
    if (mem_values_[i] == value) return static_cast<MemType>(i);
  return std::nullopt;
}

std::optional<AluOp> Layout::aluOpOf(int64_t value) const {
  for (int i = 0; i < kNumAluOps; ++i)
    if (alu_values_[i] == value) return static_cast<AluOp>(i);
  return std::nullopt;
}

}  // namespace kiln::accel
