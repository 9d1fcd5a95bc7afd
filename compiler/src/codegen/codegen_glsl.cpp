// Loop IR -> GLSL ES 3.00 fragment shaders (see codegen_glsl.h for the model).
//
// A kernel body is a list of stage nests (kernel-level allocations are the textures between
// them). Each nest is one pass: its outermost loop, bound to "fragment" over every texel of
// the buffer it stores, is the fragment index; the rest of the nest is the fragment's code.
// Stores to the pass's buffer must be at one of the fragment's own four elements (index
// fragment * 4 + lane), and the shader keeps the texel in a register (kiln_acc, a vec4), which
// is what makes a reduction's init-then-update work without reading the render target. Loads
// from any other kernel buffer are texelFetch calls of the texel holding the element; a load
// whose index is 4 * A + c (c constant) fetches texel A as a vec4 once per scope and reads
// its component c, so the four channels of an NCHW4c texel, or the four output channels of a
// blocked weight, cost one fetch. Allocations inside the fragment are local arrays (a
// one-element one, a scalar).
//
// Integer division and modulo floor (the loop IR's semantics); GLSL's truncate and its %
// is undefined for negative operands, so both go through helpers unless the dividend is
// provably non-negative and the divisor a positive constant.
#include "kiln/codegen/codegen_glsl.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "kiln/runtime/error.h"
#include "kiln/tir/ir_visitor.h"

namespace kiln::codegen {

GLTextureShape glTextureShape(int64_t numel, const std::string& what) {
  const int64_t n = (std::max<int64_t>(numel, 1) + kGLTexelElements - 1) / kGLTexelElements;
  GLTextureShape t;
  // The narrowest power-of-two width that keeps the texture no taller than wide: a square
  // rather than one long row, because rasterizers shade 2 x 2 quads (a one-row pass leaves
  // half of each quad idle) and CPU ones split the rows between threads.
  t.width = 1;
  while (t.width < kGLMaxTextureSide && t.width * t.width < n) t.width *= 2;
  t.height = (n + t.width - 1) / t.width;
  if (t.height > kGLMaxTextureSide)
    throw Error("'" + what + "' has " + std::to_string(numel) +
                " elements, more than a 4096 x 4096 RGBA32F texture holds (67108864)");
  return t;
}

const char* glslVertexShader() {
  return "#version 300 es\n"
         "// One triangle covering the viewport: every output texel gets one fragment.\n"
         "void main() {\n"
         "  vec2 p = vec2(gl_VertexID == 1 ? 3.0 : -1.0, gl_VertexID == 2 ? 3.0 : -1.0);\n"
         "  gl_Position = vec4(p, 0.0, 1.0);\n"
         "}\n";
}

namespace {

using namespace tir;  // NOLINT

// Kernel-level allocations around the stage nests, and the nests in order.
void splitNests(const Stmt& s, std::vector<Buffer>& temps, std::vector<Stmt>& nests) {
  if (const auto* a = s.as<Allocate>()) {
    temps.push_back(a->buffer);
    splitNests(a->body, temps, nests);
  } else if (const auto* q = s.as<Seq>()) {
    for (const Stmt& c : q->stmts) splitNests(c, temps, nests);
  } else if (s.defined()) {
    nests.push_back(s);
  }
}

// The kernel buffers a nest stores into (allocations inside the nest excluded).
class StoredBuffers : public IRVisitor {
 public:
  std::vector<const BufferNode*> stored;
  std::set<const BufferNode*> local;
  using IRVisitor::visit;
  void visit(const Allocate* op) override {
    local.insert(op->buffer.get());
    IRVisitor::visit(op);
  }
  void visit(const Store* op) override {
    if (!local.count(op->buffer.get()) &&
        std::find(stored.begin(), stored.end(), op->buffer.get()) == stored.end())
      stored.push_back(op->buffer.get());
    IRVisitor::visit(op);
  }
};

std::string glslType(DType t) {
  if (t == DType::F32 || t == DType::F16) return "float";
  if (t == DType::Bool) return "bool";
  return "int";
}

std::string floatLiteral(double v) {
  if (std::isnan(v)) return "uintBitsToFloat(0x7FC00000u)";
  if (std::isinf(v)) return v > 0 ? "uintBitsToFloat(0x7F800000u)" : "uintBitsToFloat(0xFF800000u)";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", std::abs(v));
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return v < 0 || std::signbit(v) ? "(-" + s + ")" : s;
}

class ShaderWriter {
 public:
  ShaderWriter(const std::string& kernel, const std::map<const BufferNode*, size_t>& index,
               const std::vector<GLSLBuffer>& buffers)
      : kernel_(kernel), index_(index), buffers_(buffers) {}

  GLSLPass write(const Stmt& nest, const BufferNode* out) {
    out_ = out;
    const GLSLBuffer& ob = buffers_[index_.at(out)];
    Stmt body = nest;
    std::string fragIndex = "kiln_index";
    const int64_t texels = (out->numel + kGLTexelElements - 1) / kGLTexelElements;
    if (const auto* f = nest.as<For>();
        f && f->forKind == ForKind::ThreadBinding && f->threadTag == "fragment") {
      if (!(asConstInt(f->min) && *asConstInt(f->min) == 0 && asConstInt(f->extent) &&
            *asConstInt(f->extent) == texels))
        fail("the fragment loop of '" + out->name + "' does not cover its " +
             std::to_string(texels) + " texels (" + std::to_string(out->numel) +
             " elements, four per texel)");
      fragVar_ = f->var.as<VarNode>();
      names_[fragVar_] = fragIndex;
      ranges_[fragVar_] = {0, texels - 1};
      body = f->body;
    } else if (out->numel != 1) {
      fail("the nest that writes '" + out->name +
           "' has no loop bound to \"fragment\" over its texels (schedule it with glSchedule)");
    }
    indent_ = 1;
    scopes_.emplace_back();
    stmt(body);

    std::ostringstream src;
    src << "#version 300 es\n"
        // Nothing in the source names the layer (identifiers are numbered, the manifest says
        // which tensors a pass reads and writes), so layers that compute the same thing on
        // the same shapes get the same source, and one program serves them all.
        << "// Kiln: writes " << out->numel << " elements (texture " << ob.texture.width << " x "
        << ob.texture.height << ")\n"
        << "precision highp float;\nprecision highp int;\nprecision highp sampler2D;\n";
    // WebGL2 promises 16 texture units to a fragment shader, and no more.
    if (samplersUsed_.size() > 16)
      fail("the pass that writes '" + out->name + "' reads " +
           std::to_string(samplersUsed_.size()) +
           " tensors; a WebGL2 fragment shader may sample at most 16");
    GLSLPass pass;
    pass.output = index_.at(out);
    for (size_t b : samplersUsed_) {
      std::string s = "t" + std::to_string(b);
      src << "uniform highp sampler2D " << s << ";\n";
      pass.samplers.emplace_back(s, b);
    }
    src << "out vec4 kiln_out;\n";
    if (usesDiv_)
      src << "int kiln_div(int a, int b) {\n"
          << "  int q = (a >= 0 ? a : -a) / (b >= 0 ? b : -b);\n"
          << "  if ((a < 0) != (b < 0)) q = (q * (b >= 0 ? b : -b) == (a >= 0 ? a : -a)) ? -q : "
             "-q - 1;\n"
          << "  return q;\n}\n"
          << "int kiln_mod(int a, int b) { return a - kiln_div(a, b) * b; }\n";
    if (usesErf_)
      src << "// erf: Abramowitz and Stegun 7.1.26 (|error| < 1.5e-7)\n"
          << "float kiln_erf(float x) {\n"
          << "  float t = 1.0 / (1.0 + 0.3275911 * abs(x));\n"
          << "  float y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - "
             "0.284496736) * t + 0.254829592) * t * exp(-x * x);\n"
          << "  return x < 0.0 ? -y : y;\n}\n";
    for (size_t b : samplersUsed_) {
      // Rows of a power-of-two width 2^k: texel t's column by a mask, its row by a float
      // multiply by 2^-k, set once at the top of main(), not a shift: SwiftShader shifts a
      // vector lane by lane, and ResNet-18 with shifts in its fetches ran 1.4-1.7x slower.
      // 2^-k is built from its bits (GLSL ES lets 1.0 / x be 2.5 ulp off, which could put
      // float(t) * r just below a whole row), and a float multiply is correctly rounded, so
      // the row is exact for t < 2^24. Element i is component i & 3 of texel i >> 2. The
      // width's mask and k are integer literals, so glsl_uniforms.cpp can make them uniforms.
      const GLTextureShape& t = buffers_[b].texture;
      if (t.height != 1) {
        int k = 0;
        while ((int64_t{1} << k) < t.width) ++k;
        if ((int64_t{1} << k) != t.width)
          fail("a texture of several rows has a width that is not a power of two (" +
               std::to_string(t.width) + ")");
        src << "float kiln_r" << b << ";\n";
        rowScales_ += "  kiln_r" + std::to_string(b) + " = intBitsToFloat((127 - " +
                      std::to_string(k) + ") << 23);\n";
      }
      src << "vec4 kiln_texel" << b << "(int t) { return texelFetch(t" << b << ", "
          << (t.height == 1 ? std::string("ivec2(t, 0)")
                            : "ivec2(t & " + std::to_string(t.width - 1) +
                                  ", int(float(t) * kiln_r" + std::to_string(b) + "))")
          << ", 0); }\n";
      // Component i & 3 by selects: a vector indexed by a variable is very slow on
      // SwiftShader (Chromium's CPU WebGL).
      if (scalarLoads_.count(b))
        src << "float kiln_load" << b << "(int i) {\n  vec4 v = kiln_texel" << b
            << "(i >> 2);\n  int c = i & 3;\n"
            << "  return c == 0 ? v.x : c == 1 ? v.y : c == 2 ? v.z : v.w;\n}\n";
    }
    src << "void main() {\n"
        << rowScales_ << "  int kiln_index = int(gl_FragCoord.y) * " << ob.texture.width
        << " + int(gl_FragCoord.x);\n"
        << "  if (kiln_index >= " << texels << ") { kiln_out = vec4(0.0); return; }\n"
        << "  vec4 kiln_acc = vec4(0.0);\n";
    for (const std::string& h : header_) src << "  " << h << "\n";
    src << code_.str() << "  kiln_out = kiln_acc;\n}\n";
    pass.source = src.str();
    return pass;
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    throw Error("GLSL kernel " + kernel_ + ": " + msg);
  }
  void line(const std::string& s) {
    for (const std::string& d : pending_)
      code_ << std::string(size_t(indent_) * 2, ' ') << d << "\n";
    pending_.clear();
    code_ << std::string(size_t(indent_) * 2, ' ') << s << "\n";
  }
  // A nested block: texels fetched inside it are not visible after it.
  void open() {
    ++indent_;
    scopes_.emplace_back();
  }
  void close() {
    scopes_.pop_back();
    --indent_;
  }

  // An integer expression as sum(coefficient * atom) + constant, where an atom is a loop
  // variable or an expression on the fragment's position alone (named by its hoisted
  // variable); nullopt when it is not affine in those (a loop variable under a min, a
  // division).
  struct Affine {
    std::map<std::string, int64_t> frag, loop;  // atom -> coefficient, by kind of atom
    int64_t constant = 0;
  };
  std::optional<Affine> affine(const Expr& e) {
    Affine a;
    if (const int64_t* c = asConstInt(e)) {
      a.constant = *c;
      return a;
    }
    if (const auto* v = e.as<VarNode>()) {
      if (!loopVars_.count(v) && v != fragVar_) return std::nullopt;
      (v == fragVar_ ? a.frag : a.loop)[name(v)] = 1;
      return a;
    }
    const auto* b = e.as<Binary>();
    if (!b || isFloat(e.type()) || e.type() == DType::Bool) return std::nullopt;
    if (fragVar_ && onlyFragment(e)) {
      if (const auto c = constant(e)) {
        a.constant = *c;
      } else {
        a.frag[expr(e)] = 1;  // hoisted to the top of the shader
      }
      return a;
    }
    auto scaled = [](Affine x, int64_t k) {
      for (auto& [atom, c] : x.frag) c *= k;
      for (auto& [atom, c] : x.loop) c *= k;
      x.constant *= k;
      return x;
    };
    switch (b->op) {
      case BinOp::Add:
      case BinOp::Sub: {
        auto x = affine(b->a), y = affine(b->b);
        if (!x || !y) return std::nullopt;
        const int64_t sign = b->op == BinOp::Add ? 1 : -1;
        for (const auto& [atom, c] : y->frag) x->frag[atom] += sign * c;
        for (const auto& [atom, c] : y->loop) x->loop[atom] += sign * c;
        x->constant += sign * y->constant;
        return x;
      }
      case BinOp::Mul: {
        if (const int64_t* k = asConstInt(b->b))
          if (auto x = affine(b->a)) return scaled(*x, *k);
        if (const int64_t* k = asConstInt(b->a))
          if (auto x = affine(b->b)) return scaled(*x, *k);
        return std::nullopt;
      }
      default:
        return std::nullopt;
    }
  }

  // `e`, an element index affine in the loops and the fragment's position with every
  // coefficient a multiple of 4, as its texel (base + constant: the base computed once per
  // scope, its part on the fragment's position once per shader) and component. Subzero
  // neither hoists nor shares index arithmetic, so the unrolled taps of a window, which
  // differ only by a constant, would otherwise each recompute the whole index.
  bool affineTexel(const Expr& e, std::string& texel, int64_t& component) {
    const auto a = affine(e);
    if (!a) return false;
    auto sum = [](const std::map<std::string, int64_t>& terms, std::string& part) {
      for (const auto& [atom, c] : terms) {
        if (c == 0) continue;
        if (c % kGLTexelElements != 0) return false;
        const int64_t q = c / kGLTexelElements;
        const std::string term = q == 1 ? atom : "(" + atom + " * " + std::to_string(q) + ")";
        part = part.empty() ? term : "(" + part + " + " + term + ")";
      }
      return true;
    };
    std::string fragPart, loopPart;
    if (!sum(a->frag, fragPart) || !sum(a->loop, loopPart)) return false;
    component = ((a->constant % kGLTexelElements) + kGLTexelElements) % kGLTexelElements;
    const int64_t rest = (a->constant - component) / kGLTexelElements;
    if (fragPart.find(' ') != std::string::npos) fragPart = hoist("int", fragPart);  // a sum
    std::string base = fragPart;
    if (!loopPart.empty()) {
      // (the loop part once per scope too: the taps of a window share it)
      if (loopPart.find(' ') != std::string::npos) loopPart = cached("int", "b:", loopPart);
      base = fragPart.empty() ? loopPart
                              : cached("int", "b:", "(" + fragPart + " + " + loopPart + ")");
    }
    if (base.empty()) {
      texel = std::to_string(rest);
    } else if (rest == 0) {
      texel = base;
    } else {
      texel = "(" + base + (rest < 0 ? " - " : " + ") + std::to_string(std::abs(rest)) + ")";
    }
    return true;
  }

  // A header variable holding `value` (integer or bool arithmetic on the fragment's position),
  // computed once at the top of the shader.
  std::string hoist(const char* type, const std::string& value) {
    const std::string key = "i:" + value;
    if (auto f = scopes_.front().find(key); f != scopes_.front().end()) return f->second;
    const std::string n = "c" + std::to_string(header_.size());
    header_.push_back(std::string(type) + " " + n + " = " + value + ";");
    scopes_.front()[key] = n;
    return n;
  }

  // One element of buffer b whose index is affine with loop coefficients that are multiples
  // of 4 but whose part on the fragment's position is not (the taps of a window over a plain
  // NCHW input, a strided read): the texel and the component are found from the fragment's
  // position once per shader, and the component picked by selects on bools computed there
  // too. nullopt when the index is not of that form.
  std::optional<std::string> affineElement(size_t b, const Expr& index) {
    if (!fragVar_) return std::nullopt;
    const auto a = affine(index);
    if (!a) return std::nullopt;
    std::string loopPart, fragPart;
    for (const auto& [atom, c] : a->loop) {
      if (c == 0) continue;
      if (c % kGLTexelElements != 0) return std::nullopt;
      const int64_t q = c / kGLTexelElements;
      const std::string term = q == 1 ? atom : "(" + atom + " * " + std::to_string(q) + ")";
      loopPart = loopPart.empty() ? term : "(" + loopPart + " + " + term + ")";
    }
    for (const auto& [atom, c] : a->frag) {
      if (c == 0) continue;
      const std::string term = c == 1 ? atom : "(" + atom + " * " + std::to_string(c) + ")";
      fragPart = fragPart.empty() ? term : "(" + fragPart + " + " + term + ")";
    }
    if (fragPart.empty()) return std::nullopt;  // constant component: splitTexel's case
    if (a->constant != 0) fragPart = "(" + fragPart + " + " + std::to_string(a->constant) + ")";
    const std::string texel = hoist("int", "(" + fragPart + " >> 2)");
    const std::string comp = hoist("int", "(" + fragPart + " & 3)");
    const std::string v = fetch(
        b, loopPart.empty() ? texel : cached("int", "b:", "(" + texel + " + " + loopPart + ")"));
    return cached("float", "e:",
                  "(" + hoist("bool", "(" + comp + " == 0)") + " ? " + v +
                      ".x : " + hoist("bool", "(" + comp + " == 1)") + " ? " + v + ".y : " +
                      hoist("bool", "(" + comp + " == 2)") + " ? " + v + ".z : " + v + ".w)");
  }

  // `e` as a sum of terms that are multiples of 4 plus a constant: the GLSL of sum / 4 and
  // the constant in [0, 4). False when a term is not a provable multiple of 4.
  bool splitTexel(const Expr& e, std::string& texel, int64_t& component) {
    std::vector<Expr> terms;
    std::vector<Expr> todo{e};
    while (!todo.empty()) {
      Expr t = todo.back();
      todo.pop_back();
      if (const auto* b = t.as<Binary>(); b && b->op == BinOp::Add) {
        todo.push_back(b->b);
        todo.push_back(b->a);
      } else {
        terms.push_back(t);
      }
    }
    int64_t constant = 0;
    std::vector<std::string> parts;
    for (const Expr& t : terms) {
      if (const int64_t* c = asConstInt(t)) {
        constant += *c;
        continue;
      }
      const auto* m = t.as<Binary>();
      if (!m || m->op != BinOp::Mul) return false;
      const int64_t* f = asConstInt(m->b);
      Expr x = m->a;
      if (!f) {
        f = asConstInt(m->a);
        x = m->b;
      }
      if (!f || *f % kGLTexelElements != 0) return false;
      const int64_t q = *f / kGLTexelElements;
      parts.push_back(q == 1 ? expr(x) : "(" + expr(x) + " * " + std::to_string(q) + ")");
    }
    component = ((constant % kGLTexelElements) + kGLTexelElements) % kGLTexelElements;
    const int64_t rest = (constant - component) / kGLTexelElements;
    if (rest != 0 || parts.empty())
      parts.push_back(rest < 0 ? "(" + std::to_string(rest) + ")" : std::to_string(rest));
    texel = parts[0];
    for (size_t i = 1; i < parts.size(); ++i) texel = "(" + texel + " + " + parts[i] + ")";
    return true;
  }

  // The texel `texel` of buffer b as a vec4, fetched once per scope.
  std::string fetch(size_t b, const std::string& texel) {
    return cached("vec4", std::to_string(b) + ":",
                  "kiln_texel" + std::to_string(b) + "(" + texel + ")");
  }
  // `value` (a read of an input texture: the same in the whole pass) in a variable of type
  // `type`, declared before the current line the first time this scope or an enclosing one
  // needs it.
  std::string cached(const char* type, const std::string& kind, const std::string& value) {
    const std::string key = kind + value;
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it)
      if (auto f = it->find(key); f != it->end()) return f->second;
    const std::string n = "f" + std::to_string(fetches_++);
    pending_.push_back(std::string(type) + " " + n + " = " + value + ";");
    scopes_.back()[key] = n;
    return n;
  }

  std::string name(const VarNode* v) {
    auto it = names_.find(v);
    if (it != names_.end()) return it->second;
    return names_[v] = "v" + std::to_string(names_.size());
  }

  // Provably >= 0: constants, loop variables, and sums, products, quotients of them.
  bool nonNegative(const Expr& e) const {
    if (const int64_t* c = asConstInt(e)) return *c >= 0;
    if (const auto* v = e.as<VarNode>()) return loopVars_.count(v) || v == fragVar_;
    if (const auto* b = e.as<Binary>()) {
      switch (b->op) {
        case BinOp::Add:
        case BinOp::Mul:
        case BinOp::Div:
        case BinOp::Mod:
        case BinOp::Min:
          return nonNegative(b->a) && nonNegative(b->b);
        case BinOp::Max:
          return nonNegative(b->a) || nonNegative(b->b);
        default:
          return false;
      }
    }
    return false;
  }

  bool isLocal(const BufferNode* b) const { return locals_.count(b) != 0; }

  std::string load(const Load* op) {
    const BufferNode* b = op->buffer.get();
    if (isLocal(b)) return localRef(b, op->index);
    if (b == out_) return "kiln_acc" + ownLane(op->index, "reads");
    auto it = index_.find(b);
    if (it == index_.end()) fail("reads '" + b->name + "', which is not one of its buffers");
    if (std::find(samplersUsed_.begin(), samplersUsed_.end(), it->second) == samplersUsed_.end())
      samplersUsed_.push_back(it->second);
    std::string texel;
    int64_t component = 0;
    if (affineTexel(op->index, texel, component) || splitTexel(op->index, texel, component))
      return fetch(it->second, texel) + "." + "xyzw"[component];
    if (auto v = affineElement(it->second, op->index)) return *v;
    scalarLoads_.insert(it->second);
    return cached("float", "s" + std::to_string(it->second) + ":",
                  "kiln_load" + std::to_string(it->second) + "(" + expr(op->index) + ")");
  }

  std::string localRef(const BufferNode* b, const Expr& idx) {
    const std::string& n = locals_.at(b);
    if (b->numel == 1) return n;
    if (scalarized_.count(b)) return n + std::to_string(*constant(idx));
    return n + "[" + expr(idx) + "]";
  }

  // e reads no local variable and not the output's register (kiln_acc): its value cannot
  // change while the scope lasts, so it may be computed once and reused.
  bool readsNoRegister(const Expr& e) const {
    struct Check : IRVisitor {
      const ShaderWriter* w;
      bool ok = true;
      using IRVisitor::visit;
      void visit(const Load* op) override {
        if (w->isLocal(op->buffer.get()) || op->buffer.get() == w->out_) ok = false;
        IRVisitor::visit(op);
      }
    } c;
    c.w = this;
    c.visitExpr(e);
    return c.ok;
  }

  // e reads no buffer and no variable but the fragment index.
  bool onlyFragment(const Expr& e) const {
    if (asConstInt(e)) return true;
    if (const auto* v = e.as<VarNode>()) return v == fragVar_;
    if (const auto* b = e.as<Binary>()) return onlyFragment(b->a) && onlyFragment(b->b);
    return false;
  }

  // The interval an integer expression lies in, from the fragment's and the loops' ranges;
  // nullopt when unknown.
  using Interval = std::pair<int64_t, int64_t>;
  std::optional<Interval> range(const Expr& e) const {
    if (const int64_t* c = asConstInt(e)) return Interval{*c, *c};
    if (const auto* v = e.as<VarNode>()) {
      auto it = ranges_.find(v);
      if (it == ranges_.end()) return std::nullopt;
      return it->second;
    }
    const auto* b = e.as<Binary>();
    if (!b || isFloat(e.type()) || e.type() == DType::Bool) return std::nullopt;
    const auto x = range(b->a), y = range(b->b);
    if (!x || !y) return std::nullopt;
    const bool cy = y->first == y->second;
    switch (b->op) {
      case BinOp::Add:
        return Interval{x->first + y->first, x->second + y->second};
      case BinOp::Sub:
        return Interval{x->first - y->second, x->second - y->first};
      case BinOp::Mul:
        if (!cy || y->first < 0) return std::nullopt;
        return Interval{x->first * y->first, x->second * y->first};
      case BinOp::Div:
        if (!cy || y->first <= 0 || x->first < 0) return std::nullopt;
        return Interval{x->first / y->first, x->second / y->first};
      case BinOp::Mod:
        if (!cy || y->first <= 0 || x->first < 0) return std::nullopt;
        if (x->first / y->first == x->second / y->first)
          return Interval{x->first % y->first, x->second % y->first};
        return Interval{0, y->first - 1};
      case BinOp::Min:
        return Interval{std::min(x->first, y->first), std::min(x->second, y->second)};
      case BinOp::Max:
        return Interval{std::max(x->first, y->first), std::max(x->second, y->second)};
      default:
        return std::nullopt;
    }
  }
  std::optional<int64_t> constant(const Expr& e) const {
    const auto r = range(e);
    if (r && r->first == r->second) return r->first;
    return std::nullopt;
  }

  // Whether every access to local buffer b in s has an index known at compile time: then
  // its elements are separate variables (registers), not an array in memory.
  bool constantAccesses(const Stmt& s, const BufferNode* b) const {
    struct Check : IRVisitor {
      const ShaderWriter* w;
      const BufferNode* b;
      bool ok = true;
      using IRVisitor::visit;
      void visit(const Load* op) override {
        if (op->buffer.get() == b && !w->constant(op->index)) ok = false;
        IRVisitor::visit(op);
      }
      void visit(const Store* op) override {
        if (op->buffer.get() == b && !w->constant(op->index)) ok = false;
        IRVisitor::visit(op);
      }
    } c;
    c.w = this;
    c.b = b;
    c.visitStmt(s);
    return c.ok;
  }

  // The component of kiln_acc that index `idx` of the output is (".x" ... ".w", or "[lane]"):
  // idx must be fragment * 4 + lane, lane a constant in [0, 4) or a loop of the fragment.
  std::string ownLane(const Expr& idx, const char* what) {
    auto bad = [&]() -> std::string {  // does not return: fail() throws
      fail(std::string(what) + " '" + out_->name +
           "' away from the fragment's own four elements (a fragment writes only its own texel)");
    };
    if (!fragVar_) {
      const int64_t* c = asConstInt(idx);
      if (!c || *c < 0 || *c >= kGLTexelElements) bad();
      return std::string(".") + "xyzw"[*c];
    }
    // fragment * 4 (+ lane)
    Expr base = idx, lane;
    if (const auto* a = idx.as<Binary>(); a && a->op == BinOp::Add) {
      base = a->a;
      lane = a->b;
      if (asConstInt(base) || base.as<VarNode>()) std::swap(base, lane);
    }
    // (a tensor of at most four elements has one fragment, 0: fragment alone is lane 0)
    if (base.as<VarNode>() == fragVar_ && out_->numel <= kGLTexelElements)
      base = Binary::make(BinOp::Mul, base, IntImm::make(kGLTexelElements, base.type()));
    const auto* m = base.as<Binary>();
    if (!m || m->op != BinOp::Mul) bad();
    Expr v = m->a, f = m->b;
    if (asConstInt(v)) std::swap(v, f);
    // (a tensor of at most four elements has one fragment, 0, whatever its multiplier)
    if (v.as<VarNode>() != fragVar_ || !asConstInt(f) ||
        (*asConstInt(f) != kGLTexelElements && out_->numel > kGLTexelElements))
      bad();
    if (!lane.defined()) return ".x";
    if (const int64_t* c = asConstInt(lane)) {
      if (*c < 0 || *c >= kGLTexelElements) bad();
      return std::string(".") + "xyzw"[*c];
    }
    if (const auto* lv = lane.as<VarNode>(); lv && loopVars_.count(lv))
      return "[" + expr(lane) + "]";
    return bad();
  }

  std::string expr(const Expr& e) {
    switch (e->kind) {
      case ExprKind::IntImm: {
        const int64_t v = e.as<IntImm>()->value;
        if (e.type() == DType::Bool) return v ? "true" : "false";
        if (v > std::numeric_limits<int32_t>::max() || v < std::numeric_limits<int32_t>::min())
          fail("integer constant " + std::to_string(v) + " does not fit GLSL's 32-bit int");
        return v < 0 ? "(" + std::to_string(v) + ")" : std::to_string(v);
      }
      case ExprKind::FloatImm:
        return floatLiteral(e.as<FloatImm>()->value);
      case ExprKind::Var:
        return name(e.as<VarNode>());
      case ExprKind::Binary:
        // An index known here (the batch coordinate of a one-image tensor) is a literal.
        if (e.type() != DType::Bool && !isFloat(e.type()))
          if (const auto c = constant(e))
            return *c < 0 ? "(" + std::to_string(*c) + ")" : std::to_string(*c);
        // Index arithmetic on the fragment's position alone (its coordinates: divisions, which
        // a CPU rasterizer runs lane by lane), and conditions on it (whether a window tap
        // falls in the padding), are computed once, at the top of the shader.
        if (fragVar_ && (e.type() == DType::I64 || e.type() == DType::Bool) && onlyFragment(e)) {
          return hoist(e.type() == DType::Bool ? "bool" : "int", binary(e.as<Binary>()));
        }
        return binary(e.as<Binary>());
      case ExprKind::Not:
        return "(!" + expr(e.as<Not>()->a) + ")";
      case ExprKind::Select: {
        const auto* s = e.as<Select>();
        const std::string value =
            "(" + expr(s->cond) + " ? " + expr(s->t) + " : " + expr(s->f) + ")";
        // A guarded read (an input element or zero in the padding) feeds one multiply-add per
        // output lane: selected once per scope, not once per use (SwiftShader's JIT does not
        // eliminate the repeats).
        if (isFloat(e.type()) && readsNoRegister(e)) return cached("float", "?:", value);
        return value;
      }
      case ExprKind::Cast: {
        const auto* c = e.as<Cast>();
        const std::string to = glslType(c->type), from = glslType(c->a.type());
        return to == from ? expr(c->a) : to + "(" + expr(c->a) + ")";
      }
      case ExprKind::Call: {
        const auto* c = e.as<Call>();
        if (c->name == "erf") usesErf_ = true;
        const std::string fn = c->name == "fabs" ? "abs" : c->name == "erf" ? "kiln_erf" : c->name;
        std::string s = fn + "(";
        for (size_t i = 0; i < c->args.size(); ++i) s += (i ? ", " : "") + expr(c->args[i]);
        return s + ")";
      }
      case ExprKind::Load:
        return load(e.as<Load>());
      case ExprKind::TensorRead:
      case ExprKind::Reduce:
        fail("unlowered tensor expression (lower() the kernel first)");
      case ExprKind::Ramp:
      case ExprKind::Broadcast:
        fail(
            "a vectorized loop: the GLSL back end takes one element per fragment (a GL "
            "schedule does not vectorize)");
    }
    fail("unknown expression");
  }

  std::string binary(const Binary* b) {
    const std::string x = expr(b->a), y = expr(b->b);
    const bool f = isFloat(b->a.type());
    auto infix = [&](const char* op) { return "(" + x + " " + op + " " + y + ")"; };
    switch (b->op) {
      case BinOp::Add:
        return infix("+");
      case BinOp::Sub:
        return infix("-");
      case BinOp::Mul:
        return infix("*");
      case BinOp::Div:
      case BinOp::Mod: {
        const bool div = b->op == BinOp::Div;
        if (f) return div ? infix("/") : "(" + x + " - " + y + " * trunc(" + x + " / " + y + "))";
        const int64_t* c = asConstInt(b->b);
        if (c && *c > 0 && nonNegative(b->a)) return infix(div ? "/" : "%");
        usesDiv_ = true;
        return std::string(div ? "kiln_div(" : "kiln_mod(") + x + ", " + y + ")";
      }
      case BinOp::Min:
        return "min(" + x + ", " + y + ")";
      case BinOp::Max:
        return "max(" + x + ", " + y + ")";
      case BinOp::EQ:
        return infix("==");
      case BinOp::NE:
        return infix("!=");
      case BinOp::LT:
        return infix("<");
      case BinOp::LE:
        return infix("<=");
      case BinOp::GT:
        return infix(">");
      case BinOp::GE:
        return infix(">=");
      case BinOp::And:
        return infix("&&");
      case BinOp::Or:
        return infix("||");
    }
    fail("unknown operator");
  }

  void stmt(const Stmt& s) {
    if (!s.defined()) return;
    switch (s->kind) {
      case StmtKind::For: {
        const auto* f = s.as<For>();
        if (f->forKind == ForKind::ThreadBinding)
          fail("loop '" + f->var.as<VarNode>()->name + "' is bound to " + f->threadTag +
               " inside a fragment; a shader has one fragment loop, outermost");
        const std::string v = name(f->var.as<VarNode>());
        loopVars_.insert(f->var.as<VarNode>());
        if (const auto lo = range(f->min), ext = range(f->extent); lo && ext && ext->first >= 1)
          ranges_[f->var.as<VarNode>()] = {lo->first, lo->second + ext->second - 1};
        const std::string lo = expr(f->min);
        const std::string hi = asConstInt(f->min) && *asConstInt(f->min) == 0
                                   ? expr(f->extent)
                                   : "(" + lo + " + " + expr(f->extent) + ")";
        if (!nonNegative(f->min)) loopVars_.erase(f->var.as<VarNode>());
        line("for (int " + v + " = " + lo + "; " + v + " < " + hi + "; ++" + v + ") {");
        open();
        stmt(f->body);
        close();
        line("}");
        return;
      }
      case StmtKind::LetStmt: {
        const auto* l = s.as<LetStmt>();
        line("{");
        open();
        line(glslType(l->value.type()) + " " + name(l->var.as<VarNode>()) + " = " + expr(l->value) +
             ";");
        stmt(l->body);
        close();
        line("}");
        return;
      }
      case StmtKind::Store: {
        const auto* st = s.as<Store>();
        const BufferNode* b = st->buffer.get();
        if (isLocal(b)) {
          const std::string lhs = localRef(b, st->index);
          line(lhs + " = " + expr(st->value) + ";");
        } else if (b == out_) {
          const std::string lane = ownLane(st->index, "writes");
          line("kiln_acc" + lane + " = " + expr(st->value) + ";");
        } else {
          fail("one pass writes both '" + out_->name + "' and '" + b->name + "'");
        }
        return;
      }
      case StmtKind::Allocate: {
        const auto* a = s.as<Allocate>();
        const BufferNode* b = a->buffer.get();
        if (b->numel > 256)
          fail("'" + b->name + "' (" + std::to_string(b->numel) +
               " elements) is too large for a fragment's registers");
        std::string n = "l" + std::to_string(locals_.size()) + "_";
        locals_[b] = n;
        // In a block of its own: an unrolled loop allocates it once per copy.
        line("{");
        open();
        if (b->numel > 1 && b->numel <= 16 && constantAccesses(a->body, b)) {
          scalarized_.insert(b);
          std::string decl = glslType(b->dtype) + " ";
          for (int64_t i = 0; i < b->numel; ++i) decl += (i ? ", " : "") + n + std::to_string(i);
          line(decl + ";");
        } else {
          scalarized_.erase(b);
          line(glslType(b->dtype) + " " + n +
               (b->numel == 1 ? "" : "[" + std::to_string(b->numel) + "]") + ";");
        }
        stmt(a->body);
        close();
        line("}");
        return;
      }
      case StmtKind::IfThenElse: {
        const auto* i = s.as<IfThenElse>();
        line("if (" + expr(i->cond) + ") {");
        open();
        stmt(i->thenCase);
        close();
        if (i->elseCase.defined()) {
          line("} else {");
          open();
          stmt(i->elseCase);
          close();
        }
        line("}");
        return;
      }
      case StmtKind::Seq:
        for (const Stmt& c : s.as<Seq>()->stmts) stmt(c);
        return;
      case StmtKind::Evaluate:
        return;  // pure expressions have no effect
      case StmtKind::Provide:
      case StmtKind::Realize:
        fail("unlowered tensor statement (lower() the kernel first)");
    }
  }

  std::string kernel_;
  const std::map<const BufferNode*, size_t>& index_;
  const std::vector<GLSLBuffer>& buffers_;
  const BufferNode* out_ = nullptr;
  const VarNode* fragVar_ = nullptr;
  std::map<const VarNode*, std::string> names_;
  std::set<const VarNode*> loopVars_;
  std::map<const BufferNode*, std::string> locals_;
  std::set<const BufferNode*> scalarized_;  // local arrays emitted as one variable per element
  std::map<const VarNode*, std::pair<int64_t, int64_t>> ranges_;  // fragment and loop variables
  std::vector<size_t> samplersUsed_;
  std::set<size_t> scalarLoads_;  // buffers read through kiln_load (index not split by texel)
  std::vector<std::map<std::string, std::string>> scopes_;  // fetched texels per open block
  std::vector<std::string> pending_;
  std::vector<std::string> header_;  // int temporaries on the fragment index alone  // their
                                     // declarations, written before the next line
  int fetches_ = 0;
  bool usesDiv_ = false, usesErf_ = false;
  std::string rowScales_;  // main()'s first lines: each sampled texture's 1 / width
  std::ostringstream code_;
  int indent_ = 0;
};

}  // namespace

GLSLKernel codegenGLSL(const tir::Kernel& kernel) {
  GLSLKernel k;
  k.name = kernel.name;
  std::vector<Buffer> temps;
  std::vector<Stmt> nests;
  splitNests(kernel.body, temps, nests);
  std::map<const BufferNode*, size_t> index;
  auto add = [&](const Buffer& b) {
    if (b->dtype != DType::F32)
      throw Error("GLSL kernel " + kernel.name + ": '" + b->name + "' is " +
                  std::string(dtypeName(b->dtype)) +
                  "; the OpenGL/WebGL back end stores float32 tensors only");
    index[b.get()] = k.buffers.size();
    k.buffers.push_back({b->name, b->numel, glTextureShape(b->numel, b->name)});
  };
  for (const Buffer& b : kernel.params) add(b);
  k.paramCount = k.buffers.size();
  for (const Buffer& b : temps) add(b);
  for (const Stmt& nest : nests) {
    StoredBuffers sb;
    sb.visitStmt(nest);
    if (sb.stored.size() != 1)
      throw Error("GLSL kernel " + kernel.name + ": a stage nest stores " +
                  std::to_string(sb.stored.size()) +
                  " buffers; a fragment shader writes exactly one");
    ShaderWriter w(kernel.name, index, k.buffers);
    k.passes.push_back(w.write(nest, sb.stored[0]));
  }
  return k;
}

}  // namespace kiln::codegen
