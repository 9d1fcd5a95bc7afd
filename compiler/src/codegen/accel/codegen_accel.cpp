// The accelerator code generator: a lowered kernel (loop IR) -> an instruction stream.
//
// It runs the loop IR at compile time, as the host would run a program: loops that hold
// buffers or several statements are iterated, and each perfect loop nest at the bottom
// becomes instructions:
//   - a copy nest into a buffer scope (a cache_read stage)    -> LOAD (2-D DMA; a padding
//     guard in the copied expression becomes the LOAD's zero padding)
//   - a copy nest out of the acc scope (a cache_write's copy) -> STORE
//   - a nest around a tensor-intrinsic call (tensorize)      -> one GEMM or ALU instruction:
//     two of its loops become the instruction's iter_out / iter_in loops (those with the
//     most iterations whose strides fit the factor fields), the others are unrolled into
//     the micro-op list. GEMM accumulates with wrapping int32 adds and ALU operations touch
//     each tile once, so any loop order computes the same bytes.
// Buffers (Allocate in a scope) get entries of the inp, wgt and acc buffers; one allocated
// inside a loop gets two copies used alternately (double buffering), so the load of the
// next tile overlaps the compute of this one and the store of the last. The ALU works in
// place, so an ALU stage's output shares the storage of its first operand (which only it
// may read).
//
// Dependency tokens come from the buffers: every instruction records which entries it
// reads and writes, and where an instruction of another module touched the same entries
// before (read after write, write after read or write), the last such instruction pushes a
// token that this one pops, unless an earlier token already orders them.
// FINISH waits for the last load and the last store. The functional reference checks the
// result for races and deadlocks under every timing.
#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "kiln/codegen/accel.h"
#include "kiln/runtime/error.h"
#include "kiln/tir/eval.h"
#include "kiln/tir/printer.h"

namespace kiln::codegen {

namespace {

using accel::Insn;
using accel::InsnField;
using accel::MemType;
using accel::Opcode;
using accel::Uop;
using te::BufferNode;
using te::Expr;
using tir::Stmt;

enum Mod { kLoadM = 0, kComputeM = 1, kStoreM = 2 };
enum Buf { kInpB = 0, kWgtB = 1, kAccB = 2 };

struct LoopInfo {
  Expr var;
  int64_t min = 0, extent = 1;
};

struct Access {
  Buf buf;
  int64_t lo, hi;
  bool write;
};

constexpr uint64_t kAlign = 4096;
uint64_t alignUp(uint64_t v) {
  return (v + kAlign - 1) / kAlign * kAlign;
}

class Generator {
 public:
  Generator(const tir::Kernel& k, const accel::Config& c, std::vector<AccelRegion> regions)
      : kernel_(k), config_(c), p_(c.params()), regions_(std::move(regions)) {
    if (regions_.size() != k.params.size())
      throw Error("accel codegen: kernel '" + k.name + "' has " + std::to_string(k.params.size()) +
                  " parameters but " + std::to_string(regions_.size()) + " regions");
    uint64_t off = 0;
    for (size_t i = 0; i < regions_.size(); ++i) {
      regions_[i].offset = off;
      regions_[i].bytes = static_cast<uint64_t>(k.params[i]->numel) * dtypeSize(k.params[i]->dtype);
      off = alignUp(off + regions_[i].bytes);
      param_[k.params[i].get()] = i;
    }
    uopOffset_ = off;
    depth_ = {p_.inp_depth, p_.wgt_depth, p_.acc_depth};
    perEntry_ = {int64_t{p_.batch} * p_.block_in, int64_t{p_.block_out} * p_.block_in,
                 int64_t{p_.batch} * p_.block_out};
    for (int b = 0; b < 3; ++b)
      for (int m = 0; m < 3; ++m) {
        lastW_[b][m].assign(static_cast<size_t>(depth_[b]), -1);
        lastR_[b][m].assign(static_cast<size_t>(depth_[b]), -1);
      }
  }

  AccelKernel run() {
    findAliases(kernel_.body);
    // An ALU operation's aux operand (REQUANT's shifts) is named by the micro-op's wgt_idx
    // field, which reaches only the first 2^width acc entries: those buffers come first.
    for (const auto& [b, inLoop] : auxFirst_) {
      depthOfLoops_ = inLoop ? 1 : 0;
      reserve(b);
      --res_.at(b).count;  // its Allocate counts the first use
    }
    depthOfLoops_ = 0;
    visit(kernel_.body);
    Insn fin;
    fin.opcode = Opcode::kFinish;
    if (last_[kLoadM] >= 0) order(last_[kLoadM], kLoadM, kComputeM, fin);
    if (last_[kStoreM] >= 0) order(last_[kStoreM], kStoreM, kComputeM, fin);
    push(fin, kComputeM);
    AccelKernel k;
    k.name = kernel_.name;
    k.insns = std::move(insns_);
    k.constants = regions_;
    AccelRegion u;
    u.name = "uops";
    u.offset = uopOffset_;
    u.bytes = uopImage_.size();
    u.data = uopImage_;
    k.constants.push_back(u);
    k.arenaBytes = alignUp(uopOffset_ + uopImage_.size());
    k.gemmUops = gemmUops_;
    k.aluUops = aluUops_;
    return k;
  }

 private:
  // ---- buffers -------------------------------------------------------------------------
  struct Reservation {
    Buf buf;
    std::array<int64_t, 2> base{};
    int slots = 1;
    int64_t count = 0;
  };

  static Buf bufOfScope(const std::string& scope, const std::string& name) {
    if (scope == "accel.inp") return kInpB;
    if (scope == "accel.wgt") return kWgtB;
    if (scope == "accel.acc") return kAccB;
    throw Error("accel codegen: buffer '" + name + "' is in scope '" + scope +
                "', which the accelerator does not have (accel.inp, accel.wgt, accel.acc)");
  }
  static const char* bufName(Buf b) { return b == kInpB ? "inp" : b == kWgtB ? "wgt" : "acc"; }

  const BufferNode* root(const BufferNode* b) const {
    auto it = alias_.find(b);
    return it == alias_.end() ? b : root(it->second);
  }

  void reserve(const BufferNode* b) {
    const BufferNode* r = root(b);
    if (r != b) return;  // shares its first operand's storage
    auto it = res_.find(b);
    if (it != res_.end()) {
      ++it->second.count;
      return;
    }
    Reservation rv;
    rv.buf = bufOfScope(b->scope, b->name);
    const int64_t n = (b->numel + perEntry_[rv.buf] - 1) / perEntry_[rv.buf];
    rv.slots = depthOfLoops_ > 0 ? 2 : 1;
    for (int s = 0; s < rv.slots; ++s) {
      rv.base[s] = top_[rv.buf];
      top_[rv.buf] += n;
    }
    if (top_[rv.buf] > depth_[rv.buf])
      throw Error("accel codegen: kernel '" + kernel_.name + "' needs " +
                  std::to_string(top_[rv.buf]) + " entries of the " + bufName(rv.buf) +
                  " buffer (buffer '" + b->name + "' takes " + std::to_string(n) +
                  (rv.slots == 2 ? " twice, double-buffered" : "") + ") but config '" +
                  config_.name() + "' has " + std::to_string(depth_[rv.buf]) +
                  "; the schedule must choose smaller tiles");
    res_[b] = rv;
  }

  // The buffer entry an element index of a scoped buffer falls in (its first element).
  int64_t entryOf(const BufferNode* b, int64_t index) const {
    const Reservation& r = res_.at(root(b));
    if (index % perEntry_[r.buf] != 0)
      throw Error("accel codegen: an access to '" + b->name + "' at element " +
                  std::to_string(index) + " does not start a buffer entry");
    return r.base[static_cast<size_t>(r.count % r.slots)] + index / perEntry_[r.buf];
  }

  // ALU results take their first operand's storage.
  void findAliases(const Stmt& s) {
    std::map<const BufferNode*, int> reads;
    std::vector<std::pair<const BufferNode*, const BufferNode*>> pairs;
    std::set<const BufferNode*> auxBuffers;
    std::function<void(const Expr&)> countExpr = [&](const Expr& e) {
      if (const te::Load* l = e.as<te::Load>()) ++reads[l->buffer.get()];
      if (const te::Cast* c = e.as<te::Cast>()) countExpr(c->a);
      if (const te::Select* c = e.as<te::Select>()) countExpr(c->t);
    };
    int depth = 0;
    std::map<const BufferNode*, bool> allocInLoop;
    std::function<void(const Stmt&)> walk = [&](const Stmt& st) {
      if (const tir::For* f = st.as<tir::For>()) {
        ++depth;
        walk(f->body);
        --depth;
        return;
      }
      if (const tir::Seq* q = st.as<tir::Seq>()) {
        for (const Stmt& x : q->stmts) walk(x);
        return;
      }
      if (const tir::Allocate* a = st.as<tir::Allocate>()) {
        allocInLoop[a->buffer.get()] = depth > 0;
        return walk(a->body);
      }
      if (const tir::LetStmt* l = st.as<tir::LetStmt>()) return walk(l->body);
      if (const tir::IfThenElse* i = st.as<tir::IfThenElse>()) {
        walk(i->thenCase);
        if (i->elseCase.defined()) walk(i->elseCase);
        return;
      }
      if (const tir::Store* w = st.as<tir::Store>()) return countExpr(w->value);
      if (const tir::Evaluate* ev = st.as<tir::Evaluate>()) {
        const te::Call* c = ev->value.as<te::Call>();
        if (!c) return;
        for (size_t i = 1; i < c->args.size(); ++i) countExpr(c->args[i]);
        if (c->name == "accel.alu.requantize" && c->args.size() > 3)
          if (const te::Load* aux = c->args[3].as<te::Load>()) auxBuffers.insert(aux->buffer.get());
        if (c->name == "accel.alu.mac" && c->args.size() > 2)
          if (const te::Load* aux = c->args[2].as<te::Load>()) auxBuffers.insert(aux->buffer.get());
        // (MAC, sum and maxacc accumulate into their output; the others work in place over
        // their first operand.)
        if (c->name.rfind("accel.alu.", 0) == 0 && c->name != "accel.alu.mac" &&
            c->name != "accel.alu.sum" && c->name != "accel.alu.maxacc" && c->args.size() >= 2) {
          const te::Load* d = c->args[0].as<te::Load>();
          const te::Load* x = c->args[1].as<te::Load>();
          if (d && x && d->buffer != x->buffer)
            pairs.emplace_back(d->buffer.get(), x->buffer.get());
        }
      }
    };
    walk(s);
    for (const BufferNode* b : auxBuffers)
      if (allocInLoop.count(b)) auxFirst_.emplace_back(b, allocInLoop[b]);
    for (const auto& [d, x] : pairs) {
      if (reads[x] != 1)
        throw Error("accel codegen: '" + x->name + "' is read " + std::to_string(reads[x]) +
                    " times, but the ALU computes '" + d->name +
                    "' in place over it; only one stage may read it");
      alias_[d] = x;
    }
  }

  // ---- instructions and tokens ---------------------------------------------------------
  // Orders `in` (about to be emitted on module `to`) after instruction j of module `from`.
  // Instruction j itself pushes the token: the k-th pop on an edge waits for its k-th push,
  // and the pushers on an edge stay in program order (j is after every earlier pusher, or
  // an earlier token already orders it), so `in` waits for exactly what it needs and no
  // later work of `from` (a load of the next tile waits for the GEMM that read the last
  // one, not for the epilogue issued after it).
  void order(int64_t j, Mod from, Mod to, Insn& in) {
    if (j < 0 || j <= ordered_[from][to]) return;
    const int64_t x = j;
    Insn& px = insns_[static_cast<size_t>(x)];
    if (from == kLoadM && to == kComputeM) {
      px.push_next = true;
      in.pop_prev = true;
    } else if (from == kComputeM && to == kLoadM) {
      px.push_prev = true;
      in.pop_next = true;
    } else if (from == kComputeM && to == kStoreM) {
      px.push_next = true;
      in.pop_prev = true;
    } else if (from == kStoreM && to == kComputeM) {
      px.push_prev = true;
      in.pop_next = true;
    } else {
      throw Error("accel codegen: internal error: a dependency between load and store");
    }
    ordered_[from][to] = x;
  }

  void push(Insn in, Mod m, const std::vector<Access>& accesses = {}) {
    const int64_t idx = static_cast<int64_t>(insns_.size());
    // The last instruction of each other module this one must follow (one token per edge).
    std::array<int64_t, 3> after = {-1, -1, -1};
    for (const Access& a : accesses) {
      if (a.lo < 0 || a.hi >= depth_[a.buf] || a.hi < a.lo)
        throw Error("accel codegen: kernel '" + kernel_.name + "' addresses " + bufName(a.buf) +
                    " entries " + std::to_string(a.lo) + ".." + std::to_string(a.hi) +
                    " outside the buffer");
      for (int o = 0; o < 3; ++o) {
        if (o == m) continue;
        int64_t& j = after[static_cast<size_t>(o)];
        for (int64_t e = a.lo; e <= a.hi; ++e) {
          j = std::max(j, lastW_[a.buf][o][static_cast<size_t>(e)]);
          if (a.write) j = std::max(j, lastR_[a.buf][o][static_cast<size_t>(e)]);
        }
      }
    }
    for (int o = 0; o < 3; ++o)
      if (o != m && after[static_cast<size_t>(o)] >= 0)
        order(after[static_cast<size_t>(o)], static_cast<Mod>(o), m, in);
    for (const Access& a : accesses)
      for (int64_t e = a.lo; e <= a.hi; ++e)
        (a.write ? lastW_ : lastR_)[a.buf][m][static_cast<size_t>(e)] = idx;
    std::string problem = accel::encodingProblem(config_.layout(), in);
    if (!problem.empty()) throw Error("accel codegen: kernel '" + kernel_.name + "': " + problem);
    insns_.push_back(in);
    last_[m] = idx;
  }

  // ---- walking the loop IR -------------------------------------------------------------
  int64_t eval(const Expr& e, const char* what) const {
    auto v = tir::evalInt(e, env_);
    if (!v)
      throw Error(std::string("accel codegen: cannot evaluate ") + what + " " + tir::printExpr(e) +
                  " at compile time");
    return *v;
  }

  void visit(const Stmt& s) {
    if (const tir::Seq* q = s.as<tir::Seq>()) {
      for (const Stmt& x : q->stmts) visit(x);
    } else if (const tir::Allocate* a = s.as<tir::Allocate>()) {
      if (a->buffer->scope.empty())
        throw Error("accel codegen: kernel '" + kernel_.name + "' keeps '" + a->buffer->name +
                    "' in DRAM; every intermediate must live in an accelerator buffer scope");
      reserve(a->buffer.get());
      visit(a->body);
    } else if (const tir::LetStmt* l = s.as<tir::LetStmt>()) {
      env_[l->var.get()] = eval(l->value, "let");
      visit(l->body);
    } else if (const tir::IfThenElse* i = s.as<tir::IfThenElse>()) {
      if (eval(i->cond, "condition"))
        visit(i->thenCase);
      else if (i->elseCase.defined())
        visit(i->elseCase);
    } else if (const tir::For* f = s.as<tir::For>()) {
      std::vector<LoopInfo> loops;
      Stmt leaf = s;
      while (const tir::For* g = leaf.as<tir::For>()) {
        loops.push_back({g->var, eval(g->min, "loop start"), eval(g->extent, "loop extent")});
        leaf = g->body;
      }
      if (leaf.as<tir::Store>() || leaf.as<tir::Evaluate>()) return nest(loops, leaf);
      const int64_t lo = eval(f->min, "loop start"), n = eval(f->extent, "loop extent");
      ++depthOfLoops_;
      for (int64_t v = lo; v < lo + n; ++v) {
        env_[f->var.get()] = v;
        visit(f->body);
      }
      --depthOfLoops_;
      env_.erase(f->var.get());
    } else if (s.as<tir::Store>() || s.as<tir::Evaluate>()) {
      nest({}, s);
    } else {
      throw Error("accel codegen: kernel '" + kernel_.name + "' has a statement it cannot map");
    }
  }

  void nest(const std::vector<LoopInfo>& loops, const Stmt& leaf) {
    if (const tir::Store* st = leaf.as<tir::Store>()) return copy(loops, st);
    const te::Call* c = leaf.as<tir::Evaluate>()->value.as<te::Call>();
    if (!c || c->name.rfind("accel.", 0) != 0)
      throw Error("accel codegen: kernel '" + kernel_.name +
                  "' evaluates something that is not an accelerator intrinsic");
    compute(loops, c);
  }

  // An index expression as base + sum coef[j] * loop j (checked to be affine).
  struct Affine {
    int64_t base = 0;
    std::vector<int64_t> coef;
  };
  Affine affine(const Expr& e, const std::vector<LoopInfo>& loops, const char* what,
                bool check = true) {
    Affine a;
    for (const LoopInfo& l : loops) env_[l.var.get()] = l.min;
    a.base = eval(e, what);
    for (size_t j = 0; j < loops.size(); ++j) {
      if (loops[j].extent > 1) {
        env_[loops[j].var.get()] = loops[j].min + 1;
        a.coef.push_back(eval(e, what) - a.base);
        env_[loops[j].var.get()] = loops[j].min;
      } else {
        a.coef.push_back(0);
      }
    }
    if (!check) {
      for (const LoopInfo& l : loops) env_.erase(l.var.get());
      return a;
    }
    // Affine check at the far corner.
    int64_t want = a.base;
    for (size_t j = 0; j < loops.size(); ++j) {
      env_[loops[j].var.get()] = loops[j].min + loops[j].extent - 1;
      want += a.coef[j] * (loops[j].extent - 1);
    }
    const int64_t got = eval(e, what);
    for (const LoopInfo& l : loops) env_.erase(l.var.get());
    if (got != want)
      throw Error(std::string("accel codegen: ") + what + " " + tir::printExpr(e) +
                  " is not an affine function of its loops");
    return a;
  }

  // ---- compute: GEMM and ALU -----------------------------------------------------------
  struct Operand {
    const BufferNode* buf = nullptr;
    Affine at;  // in entries
  };
  Operand operand(const Expr& arg, const std::vector<LoopInfo>& loops, Buf want,
                  const std::string& call) {
    const te::Load* l = arg.as<te::Load>();
    if (!l || l->buffer->scope.empty() || bufOfScope(l->buffer->scope, l->buffer->name) != want)
      throw Error("accel codegen: " + call + " needs an operand in the " + bufName(want) +
                  " buffer, got " + tir::printExpr(arg));
    Operand o;
    o.buf = l->buffer.get();
    Affine e = affine(l->index, loops, "index");
    const int64_t per = perEntry_[want];
    for (int64_t c : e.coef)
      if (c % per != 0)
        throw Error("accel codegen: " + call + " steps through '" + o.buf->name +
                    "' by part of a buffer entry");
    o.at.base = entryOf(o.buf, e.base);
    for (int64_t c : e.coef) o.at.coef.push_back(c / per);
    return o;
  }

  void compute(const std::vector<LoopInfo>& loops, const te::Call* c) {
    const std::string& n = c->name;
    Insn base;
    std::vector<Operand> ops;  // dst, src (inp or acc), wgt or aux
    std::vector<Buf> bufs;
    if (n == "accel.gemm.reset") {
      base.opcode = Opcode::kGemm;
      base.reset = true;
      ops = {operand(c->args[0], loops, kAccB, n)};
      bufs = {kAccB};
    } else if (n == "accel.gemm") {
      base.opcode = Opcode::kGemm;
      ops = {operand(c->args[0], loops, kAccB, n), operand(c->args[1], loops, kInpB, n),
             operand(c->args[2], loops, kWgtB, n)};
      bufs = {kAccB, kInpB, kWgtB};
    } else if (n == "accel.alu.mac") {
      base.opcode = Opcode::kAlu;
      base.alu_op = accel::AluOp::kMac;
      ops = {operand(c->args[0], loops, kAccB, n), operand(c->args[1], loops, kAccB, n),
             operand(c->args[2], loops, kAccB, n)};
      bufs = {kAccB, kAccB, kAccB};
    } else if (n == "accel.alu.sum" || n == "accel.alu.maxacc") {
      // Pooling: accumulate a tile into the output (ADD, MAX with the tile as operand).
      base.opcode = Opcode::kAlu;
      base.alu_op = n == "accel.alu.sum" ? accel::AluOp::kAdd : accel::AluOp::kMax;
      ops = {operand(c->args[0], loops, kAccB, n), operand(c->args[1], loops, kAccB, n)};
      bufs = {kAccB, kAccB};
    } else if (n == "accel.alu.max.reset") {
      // Max's identity, INT32_MIN, which no ALU immediate holds: zero, add 1, shift left 31.
      ops = {operand(c->args[0], loops, kAccB, n)};
      bufs = {kAccB};
      base.opcode = Opcode::kAlu;
      base.reset = true;
      issue(loops, base, ops, bufs);
      base.reset = false;
      base.use_imm = true;
      base.alu_op = accel::AluOp::kAdd;
      base.imm = 1;
      issue(loops, base, ops, bufs);
      base.alu_op = accel::AluOp::kShr;
      base.imm = -31;
      return issue(loops, base, ops, bufs);
    } else {
      base.opcode = Opcode::kAlu;
      Operand dst = operand(c->args[0], loops, kAccB, n);
      Operand x = operand(c->args[1], loops, kAccB, n);
      if (dst.at.base != x.at.base || dst.at.coef != x.at.coef)
        throw Error("accel codegen: " + n + " writes '" + dst.buf->name + "' but its operand '" +
                    x.buf->name + "' lies elsewhere; the ALU works in place");
      ops = {dst};
      bufs = {kAccB};
      auto imm = [&](size_t i) { return eval(c->args.at(i), "immediate"); };
      if (n == "accel.alu.add") {
        base.alu_op = accel::AluOp::kAdd;
        ops.push_back(operand(c->args[2], loops, kAccB, n));
        bufs.push_back(kAccB);
      } else if (n == "accel.alu.mul") {
        base.alu_op = accel::AluOp::kMul;
        base.use_imm = true;
        base.imm = static_cast<int32_t>(imm(2));
      } else if (n == "accel.alu.max" || n == "accel.alu.min") {
        base.alu_op = n == "accel.alu.max" ? accel::AluOp::kMax : accel::AluOp::kMin;
        base.use_imm = true;
        base.imm = static_cast<int32_t>(imm(2));
      } else if (n == "accel.alu.muladd") {
        base.alu_op = accel::AluOp::kMac;
        base.use_imm = true;
        base.imm = static_cast<int32_t>(imm(3));
        ops.push_back(operand(c->args[2], loops, kAccB, n));
        bufs.push_back(kAccB);
      } else if (n == "accel.alu.requantize_imm") {
        base.alu_op = accel::AluOp::kRequant;
        base.use_imm = true;
        base.imm = static_cast<int32_t>(imm(3));
        ops.push_back(operand(c->args[2], loops, kAccB, n));
        bufs.push_back(kAccB);
      } else if (n == "accel.alu.requantize") {
        base.alu_op = accel::AluOp::kRequant;
        ops.push_back(operand(c->args[2], loops, kAccB, n));
        ops.push_back(operand(c->args[3], loops, kAccB, n));
        bufs.push_back(kAccB);
        bufs.push_back(kAccB);
      } else {
        throw Error("accel codegen: unknown accelerator intrinsic '" + n + "'");
      }
    }
    issue(loops, base, ops, bufs);
  }

  // One GEMM or ALU operation over the loop nest `loops`: instructions and micro-ops.
  void issue(const std::vector<LoopInfo>& loops, const Insn& base, const std::vector<Operand>& ops,
             const std::vector<Buf>& bufs) {
    const bool gemm = base.opcode == Opcode::kGemm;
    // Which loops can be the instruction's own two loops: factors that fit their fields
    // (an ALU's aux operand has none, so it must stay put).
    const accel::Format& fmt = config_.layout().format(base.opcode);
    auto fieldMax = [&](InsnField f) { return fmt.find(f)->maxValue(); };
    const int64_t iterMax = fieldMax(InsnField::kIterOut);
    std::vector<size_t> cands;
    for (size_t j = 0; j < loops.size(); ++j) {
      if (loops[j].extent <= 1 || loops[j].extent > iterMax) continue;
      bool ok = true;
      for (size_t k = 0; k < ops.size(); ++k) {
        const int64_t cf = ops[k].at.coef[j];
        if (cf < 0) ok = false;
        InsnField f = k == 0   ? InsnField::kAccFactorOut
                      : k == 1 ? InsnField::kInpFactorOut
                               : InsnField::kWgtFactorOut;
        if (!gemm && k == 2)
          ok = ok && cf == 0;  // aux
        else if (cf > fieldMax(f))
          ok = false;
      }
      if (ok) cands.push_back(j);
    }
    int64_t best = 1;
    std::vector<size_t> iters;
    for (size_t a = 0; a < cands.size(); ++a) {
      if (loops[cands[a]].extent > best) {
        best = loops[cands[a]].extent;
        iters = {cands[a]};
      }
      for (size_t b = a + 1; b < cands.size(); ++b)
        if (loops[cands[a]].extent * loops[cands[b]].extent > best) {
          best = loops[cands[a]].extent * loops[cands[b]].extent;
          iters = {cands[a], cands[b]};
        }
    }
    std::vector<size_t> rest;
    for (size_t j = 0; j < loops.size(); ++j)
      if (std::find(iters.begin(), iters.end(), j) == iters.end()) rest.push_back(j);
    Insn in = base;
    in.iter_out = iters.size() > 0 ? static_cast<uint32_t>(loops[iters[0]].extent) : 1;
    in.iter_in = iters.size() > 1 ? static_cast<uint32_t>(loops[iters[1]].extent) : 1;
    auto setFactors = [&](size_t k, InsnField fo, InsnField fi) {
      if (iters.size() > 0) accel::setField(in, fo, ops[k].at.coef[iters[0]]);
      if (iters.size() > 1) accel::setField(in, fi, ops[k].at.coef[iters[1]]);
    };
    setFactors(0, InsnField::kAccFactorOut, InsnField::kAccFactorIn);
    if (ops.size() > 1) setFactors(1, InsnField::kInpFactorOut, InsnField::kInpFactorIn);
    if (gemm && ops.size() > 2) setFactors(2, InsnField::kWgtFactorOut, InsnField::kWgtFactorIn);

    // The micro-ops: the other loops, unrolled; chunked to fit the uop buffer.
    const int64_t maxUops = std::max<int64_t>(1, p_.uop_depth / 2);
    std::vector<int64_t> value(loops.size(), 0);
    for (size_t j = 0; j < loops.size(); ++j) value[j] = 0;
    std::function<void(size_t)> chunk = [&](size_t k) {
      int64_t count = 1;
      for (size_t r = k; r < rest.size(); ++r) count *= loops[rest[r]].extent;
      if (count > maxUops) {
        for (int64_t v = 0; v < loops[rest[k]].extent; ++v) {
          value[rest[k]] = v;
          chunk(k + 1);
        }
        value[rest[k]] = 0;
        return;
      }
      std::vector<Uop> uops;
      std::vector<int64_t> lo(ops.size(), INT64_MAX), hi(ops.size(), -1);
      std::function<void(size_t)> enumerate = [&](size_t r) {
        if (r == rest.size()) {
          std::array<int64_t, 3> e{};
          for (size_t q = 0; q < ops.size(); ++q) {
            e[q] = ops[q].at.base;
            for (size_t j = 0; j < loops.size(); ++j) e[q] += ops[q].at.coef[j] * value[j];
            lo[q] = std::min(lo[q], e[q]);
            hi[q] = std::max(hi[q], e[q]);
          }
          Uop u;
          u.acc_idx = static_cast<uint32_t>(e[0]);
          if (ops.size() > 1) u.inp_idx = static_cast<uint32_t>(e[1]);
          if (ops.size() > 2) u.wgt_idx = static_cast<uint32_t>(e[2]);
          uops.push_back(u);
          return;
        }
        for (int64_t v = 0; v < loops[rest[r]].extent; ++v) {
          value[rest[r]] = v;
          enumerate(r + 1);
        }
        value[rest[r]] = 0;
      };
      enumerate(k);
      const uint32_t at = residentUops(uops);
      Insn ins = in;
      ins.uop_begin = at;
      ins.uop_end = at + static_cast<uint32_t>(uops.size());
      std::vector<Access> acc;
      for (size_t q = 0; q < ops.size(); ++q) {
        int64_t span = 0;
        for (size_t t = 0; t < iters.size(); ++t)
          span += ops[q].at.coef[iters[t]] * (loops[iters[t]].extent - 1);
        acc.push_back({bufs[q], lo[q], hi[q] + span, q == 0});
        if (q == 0 && !base.reset && base.opcode == Opcode::kGemm)
          acc.push_back({bufs[q], lo[q], hi[q] + span, false});
        if (q == 0 && base.opcode == Opcode::kAlu)
          acc.push_back({bufs[q], lo[q], hi[q] + span, false});
      }
      const uint64_t n = uint64_t{ins.iter_out} * ins.iter_in * uops.size();
      (base.opcode == Opcode::kGemm && !base.reset ? gemmUops_ : aluUops_) += n;
      push(ins, kComputeM, acc);
    };
    chunk(0);
  }

  // The micro-ops in the uop buffer (loaded if not resident); returns their first entry.
  uint32_t residentUops(const std::vector<Uop>& uops) {
    std::vector<uint64_t> key;
    for (const Uop& u : uops) key.push_back(accel::encodeUop(config_.layout(), u));
    if (auto it = resident_.find(key); it != resident_.end()) return it->second;
    if (uopTop_ + static_cast<int64_t>(key.size()) > p_.uop_depth) {
      resident_.clear();
      uopTop_ = 0;
    }
    // The image holds each distinct list once.
    uint64_t imageAt;
    if (auto it = image_.find(key); it != image_.end()) {
      imageAt = it->second;
    } else {
      imageAt = uopImage_.size();
      const int ub = config_.layout().uopBytes();
      for (uint64_t w : key)
        for (int b = 0; b < ub; ++b) uopImage_.push_back(static_cast<uint8_t>(w >> (8 * b)));
      image_[key] = imageAt;
    }
    const uint64_t ub = static_cast<uint64_t>(config_.elementBytes(MemType::kUop));
    Insn ld;
    ld.opcode = Opcode::kLoad;
    ld.memory_type = MemType::kUop;
    ld.sram_base = static_cast<uint32_t>(uopTop_);
    ld.dram_base = static_cast<uint32_t>((uopOffset_ + imageAt) / ub);
    ld.y_size = 1;
    ld.x_size = static_cast<uint32_t>(key.size());
    ld.x_stride = ld.x_size;
    push(ld, kComputeM);
    const uint32_t at = static_cast<uint32_t>(uopTop_);
    resident_[key] = at;
    uopTop_ += static_cast<int64_t>(key.size());
    return at;
  }

  // ---- skipping reloads ----------------------------------------------------------------
  // Only LOADs write the inp and wgt buffers, and DRAM inputs do not change during a kernel,
  // so a LOAD identical to the one that last filled the same entries (weights across spatial
  // tiles, an input tile across output-channel tiles, alternating between the two copies of a
  // double buffer) is dropped; the readers stay ordered after the original by its tokens.
  bool stillLoaded(Buf buf, const Insn& in, int64_t lo, int64_t hi) {
    auto it = loaded_[buf].find(lo);
    if (it == loaded_[buf].end() || !(it->second.first == in)) return false;
    for (int64_t e = lo; e <= hi; ++e)
      if (writer_[buf][static_cast<size_t>(e)] != it->second.second) return false;
    return true;
  }
  void recordLoad(Buf buf, const Insn& in, int64_t lo, int64_t hi) {
    const int64_t id = static_cast<int64_t>(insns_.size()) - 1;
    if (writer_[buf].empty()) writer_[buf].assign(static_cast<size_t>(depth_[buf]), -1);
    for (int64_t e = lo; e <= hi; ++e) writer_[buf][static_cast<size_t>(e)] = id;
    Insn key = in;
    key.pop_prev = key.pop_next = key.push_prev = key.push_next = false;
    loaded_[buf][lo] = {key, id};
  }

  // ---- copies: LOAD and STORE ----------------------------------------------------------
  void copy(const std::vector<LoopInfo>& loops0, const tir::Store* st) {
    const BufferNode* dst = st->buffer.get();
    Expr v = st->value, cond;
    if (const te::Select* s = v.as<te::Select>()) {
      auto f = tir::evalInt(s->f, {});
      if (!f || *f != 0)
        throw Error("accel codegen: a guarded copy into '" + dst->name +
                    "' pads with something other than zero");
      cond = s->cond;
      v = s->t;
    }
    while (const te::Cast* c = v.as<te::Cast>()) v = c->a;
    const te::Load* ld = v.as<te::Load>();
    if (!ld)
      throw Error("accel codegen: '" + dst->name + "' is computed by " + tir::printExpr(st->value) +
                  ", which is neither a copy nor an accelerator intrinsic (tensorize it)");
    const BufferNode* src = ld->buffer.get();
    const bool isLoad = !dst->scope.empty();
    if (isLoad != src->scope.empty())
      throw Error("accel codegen: a copy from '" + src->name + "' to '" + dst->name +
                  "' must move data between DRAM and an accelerator buffer");
    const BufferNode* dram = isLoad ? src : dst;
    const BufferNode* sram = isLoad ? dst : src;
    if (!param_.count(dram))
      throw Error("accel codegen: '" + dram->name + "' is not a parameter of the kernel");
    Buf buf = bufOfScope(sram->scope, sram->name);
    MemType mt;
    Mod mod;
    if (!isLoad) {
      if (buf != kAccB) throw Error("accel codegen: a STORE must read the acc buffer");
      mt = MemType::kOut;
      mod = kStoreM;
    } else if (buf == kInpB) {
      mt = MemType::kInp;
      mod = kLoadM;
    } else if (buf == kWgtB) {
      mt = MemType::kWgt;
      mod = kLoadM;
    } else {
      mt = src->dtype == DType::I32 ? MemType::kAcc : MemType::kAcc8;
      mod = kComputeM;
    }
    const int64_t per = perEntry_[buf];
    const int64_t E = config_.elementBytes(mt);
    const int64_t eb = static_cast<int64_t>(dtypeSize(dram->dtype));
    if (per * eb != E)
      throw Error("accel codegen: '" + dram->name + "' has " + std::string(dtypeName(dram->dtype)) +
                  " elements, which do not fill a DRAM element of " + std::string(accel::name(mt)));
    const Expr& sIdx = isLoad ? st->index : ld->index;  // the sram side's index
    const Expr& dIdx = isLoad ? ld->index : st->index;  // the dram side's index
    Affine sa = affine(sIdx, loops0, "buffer index");
    // The DRAM side of a guarded copy clamps its indices outside the guard: it is affine only
    // inside, so there its addresses are evaluated per transfer (below), and here only the
    // steps of the loops within one entry are taken.
    Affine da = cond.defined() ? affine(dIdx, loops0, "DRAM index", false)
                               : affine(dIdx, loops0, "DRAM index");
    // The innermost loops cover exactly one buffer entry, contiguously on both sides.
    size_t inner = loops0.size();
    int64_t covered = 1;
    while (covered < per && inner > 0) {
      const size_t j = inner - 1;
      if (loops0[j].extent > 1 && (sa.coef[j] != covered || da.coef[j] != covered)) break;
      covered *= loops0[j].extent;
      --inner;
    }
    if (covered != per)
      throw Error("accel codegen: the copy between '" + src->name + "' and '" + dst->name +
                  "' does not move whole buffer entries (" + std::to_string(per) + " elements)");
    std::vector<LoopInfo> loops(loops0.begin(), loops0.begin() + static_cast<long>(inner));
    std::vector<int64_t> sc, dc;
    for (size_t j = 0; j < inner; ++j) {
      if (sa.coef[j] % per || da.coef[j] % per)
        throw Error("accel codegen: the copy between '" + src->name + "' and '" + dst->name +
                    "' steps by part of a buffer entry");
      sc.push_back(sa.coef[j] / per);
      dc.push_back(da.coef[j] / per);
    }
    std::vector<int64_t> ext;
    for (const LoopInfo& l : loops) ext.push_back(l.extent);
    // Without a padding guard, loops of one iteration go and loops contiguous on both sides
    // merge (a whole block of weights is one transfer).
    if (!cond.defined()) {
      for (size_t j = ext.size(); j-- > 0;)
        if (ext[j] == 1) {
          ext.erase(ext.begin() + static_cast<long>(j));
          sc.erase(sc.begin() + static_cast<long>(j));
          dc.erase(dc.begin() + static_cast<long>(j));
        }
      for (size_t j = ext.size(); j-- > 1;)
        if (sc[j - 1] == sc[j] * ext[j] && dc[j - 1] == dc[j] * ext[j]) {
          ext[j] *= ext[j - 1];
          ext.erase(ext.begin() + static_cast<long>(j - 1));
          sc.erase(sc.begin() + static_cast<long>(j - 1));
          dc.erase(dc.begin() + static_cast<long>(j - 1));
        }
    }
    // Rows x columns: x is the innermost loop (one entry apart on both sides), y the next if
    // its rows are back to back in the buffer; the others are iterated here.
    int x = -1, y = -1;
    for (int j = static_cast<int>(ext.size()) - 1; j >= 0; --j)
      if (ext[static_cast<size_t>(j)] > 1) {
        x = j;
        break;
      }
    if (x >= 0 &&
        (sc[static_cast<size_t>(x)] != 1 || (!cond.defined() && dc[static_cast<size_t>(x)] != 1)))
      x = -1;
    if (x >= 0)
      for (int j = x - 1; j >= 0; --j)
        if (ext[static_cast<size_t>(j)] > 1) {
          if (sc[static_cast<size_t>(j)] == ext[static_cast<size_t>(x)] &&
              (cond.defined() || dc[static_cast<size_t>(j)] > 0))
            y = j;
          break;
        }
    std::vector<size_t> outer;
    for (size_t j = 0; j < ext.size(); ++j)
      if (static_cast<int>(j) != x && static_cast<int>(j) != y && ext[j] > 1) outer.push_back(j);
    const int64_t X = x >= 0 ? ext[static_cast<size_t>(x)] : 1;
    const int64_t Y = y >= 0 ? ext[static_cast<size_t>(y)] : 1;
    std::vector<int64_t> val(ext.size(), 0);
    const uint64_t regionOff = regions_[param_.at(dram)].offset;
    std::function<void(size_t)> each = [&](size_t k) {
      if (k < outer.size()) {
        for (int64_t v = 0; v < ext[outer[k]]; ++v) {
          val[outer[k]] = v;
          each(k + 1);
        }
        val[outer[k]] = 0;
        return;
      }
      auto at = [&](const Affine& a, const std::vector<int64_t>& c, int64_t yy, int64_t xx) {
        int64_t r = a.base / per;
        for (size_t j = 0; j < ext.size(); ++j) r += c[j] * val[j];
        if (y >= 0) r += c[static_cast<size_t>(y)] * yy;
        if (x >= 0) r += c[static_cast<size_t>(x)] * xx;
        return r;
      };
      // The padding: the rows and columns where the guard holds.
      int64_t y0 = 0, y1 = Y - 1, x0 = 0, x1 = X - 1;
      if (cond.defined()) {
        y0 = Y, y1 = -1, x0 = X, x1 = -1;
        std::vector<std::vector<char>> ok(static_cast<size_t>(Y), std::vector<char>(X, 0));
        for (size_t j = 0; j < loops0.size(); ++j)
          env_[loops0[j].var.get()] = loops0[j].min + (j < loops.size() ? val[j] : 0);
        for (int64_t yy = 0; yy < Y; ++yy)
          for (int64_t xx = 0; xx < X; ++xx) {
            if (y >= 0)
              env_[loops[static_cast<size_t>(y)].var.get()] =
                  loops[static_cast<size_t>(y)].min + yy;
            if (x >= 0)
              env_[loops[static_cast<size_t>(x)].var.get()] =
                  loops[static_cast<size_t>(x)].min + xx;
            if (eval(cond, "padding guard")) {
              ok[static_cast<size_t>(yy)][static_cast<size_t>(xx)] = 1;
              y0 = std::min(y0, yy), y1 = std::max(y1, yy);
              x0 = std::min(x0, xx), x1 = std::max(x1, xx);
            }
          }
        for (const LoopInfo& l : loops0) env_.erase(l.var.get());
        if (y1 < 0) {
          // All padding (a chunk of kernel rows above the image): zero rows, no data.
          if (Y > 15)
            throw Error("accel codegen: a block of '" + dst->name + "' is " + std::to_string(Y) +
                        " rows of padding, more than a LOAD pads (15)");
          Insn in;
          in.opcode = Opcode::kLoad;
          in.memory_type = mt;
          in.sram_base = static_cast<uint32_t>(entryOf(sram, 0) + at(sa, sc, 0, 0));
          in.dram_base = static_cast<uint32_t>(regionOff / static_cast<uint64_t>(E));
          in.x_size = static_cast<uint32_t>(X);
          in.x_stride = static_cast<uint32_t>(X);
          in.y_pad_0 = static_cast<uint32_t>(Y);
          const int64_t lo = in.sram_base, hi = lo + Y * X - 1;
          if (mod == kLoadM && stillLoaded(buf, in, lo, hi)) return;
          push(in, mod, {{buf, lo, hi, true}});
          if (mod == kLoadM) recordLoad(buf, in, lo, hi);
          return;
        }
        for (int64_t yy = 0; yy < Y; ++yy)
          for (int64_t xx = 0; xx < X; ++xx)
            if (ok[static_cast<size_t>(yy)][static_cast<size_t>(xx)] !=
                (yy >= y0 && yy <= y1 && xx >= x0 && xx <= x1))
              throw Error("accel codegen: the padding of '" + dst->name +
                          "' is not a border around a rectangle");
      }
      Insn in;
      in.opcode = isLoad ? Opcode::kLoad : Opcode::kStore;
      in.memory_type = mt;
      const int64_t sBase = entryOf(sram, 0) + at(sa, sc, 0, 0);
      int64_t dElem = at(da, dc, y0, x0);  // in entries of the dram tensor
      int64_t xStride = y >= 0 ? dc[static_cast<size_t>(y)] : x1 - x0 + 1;
      if (cond.defined()) {
        // Inside the guard: the address of (y0, x0), the row step, checked at (y1, x1).
        auto dramAt = [&](int64_t yy, int64_t xx) {
          for (size_t j = 0; j < loops0.size(); ++j)
            env_[loops0[j].var.get()] = loops0[j].min + (j < loops.size() ? val[j] : 0);
          if (y >= 0)
            env_[loops[static_cast<size_t>(y)].var.get()] = loops[static_cast<size_t>(y)].min + yy;
          if (x >= 0)
            env_[loops[static_cast<size_t>(x)].var.get()] = loops[static_cast<size_t>(x)].min + xx;
          const int64_t v = eval(dIdx, "DRAM index");
          for (const LoopInfo& l : loops0) env_.erase(l.var.get());
          if (v % per)
            throw Error("accel codegen: the copy from '" + src->name +
                        "' does not start at a whole DRAM element");
          return v / per;
        };
        dElem = dramAt(y0, x0);
        const int64_t xs = x1 > x0 ? dramAt(y0, x0 + 1) - dElem : 1;
        if (y1 > y0) xStride = dramAt(y0 + 1, x0) - dElem;
        if (xs != 1 || dramAt(y1, x1) != dElem + (y1 - y0) * xStride + (x1 - x0))
          throw Error("accel codegen: the guarded copy into '" + dst->name +
                      "' is not a 2-D block of DRAM inside its guard");
      }
      const uint64_t byteAt = regionOff + static_cast<uint64_t>(dElem) * static_cast<uint64_t>(E);
      in.sram_base = static_cast<uint32_t>(sBase);
      in.dram_base = static_cast<uint32_t>(byteAt / static_cast<uint64_t>(E));
      in.y_size = static_cast<uint32_t>(y1 - y0 + 1);
      in.x_size = static_cast<uint32_t>(x1 - x0 + 1);
      in.x_stride = static_cast<uint32_t>(xStride);
      if (isLoad) {
        in.y_pad_0 = static_cast<uint32_t>(y0);
        in.y_pad_1 = static_cast<uint32_t>(Y - 1 - y1);
        in.x_pad_0 = static_cast<uint32_t>(x0);
        in.x_pad_1 = static_cast<uint32_t>(X - 1 - x1);
      }
      const int64_t last = sBase + Y * X - 1;
      if (isLoad && mod == kLoadM && stillLoaded(buf, in, sBase, last)) return;
      push(in, mod, {{buf, sBase, last, isLoad}});
      if (isLoad && mod == kLoadM) recordLoad(buf, in, sBase, last);
    };
    each(0);
  }

  const tir::Kernel& kernel_;
  const accel::Config& config_;
  accel::Params p_;
  std::vector<AccelRegion> regions_;
  std::map<const BufferNode*, size_t> param_;
  std::map<const BufferNode*, Reservation> res_;
  std::map<const BufferNode*, const BufferNode*> alias_;
  std::vector<std::pair<const BufferNode*, bool>> auxFirst_;  // buffer, allocated in a loop
  std::array<int64_t, 3> depth_{}, perEntry_{}, top_{};
  int depthOfLoops_ = 0;
  tir::VarValues env_;
  std::vector<Insn> insns_;
  std::array<int64_t, 3> last_{-1, -1, -1};
  std::array<std::array<int64_t, 3>, 3> ordered_{{{-1, -1, -1}, {-1, -1, -1}, {-1, -1, -1}}};
  std::array<std::array<std::vector<int64_t>, 3>, 3> lastW_, lastR_;
  uint64_t uopOffset_ = 0;
  std::vector<uint8_t> uopImage_;
  std::map<std::vector<uint64_t>, uint64_t> image_;
  std::array<std::map<int64_t, std::pair<Insn, int64_t>>, 3> loaded_;
  std::array<std::vector<int64_t>, 3> writer_;
  std::map<std::vector<uint64_t>, uint32_t> resident_;
  int64_t uopTop_ = 0;
  uint64_t gemmUops_ = 0, aluUops_ = 0;
};

}  // namespace

AccelKernel generateAccel(const tir::Kernel& kernel, const accel::Config& config,
                          std::vector<AccelRegion> regions) {
  return Generator(kernel, config, std::move(regions)).run();
}

}  // namespace kiln::codegen
