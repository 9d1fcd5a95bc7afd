// Loop IR -> LLVM IR. One IRVisitor walks a lowered kernel and emits its function:
//   - `void name(ptr args)` loads one buffer pointer per parameter and calls
//     `name.impl(ptr noalias, ...)`, so LLVM knows kernel buffers never overlap;
//   - serial loops are plain counted loops; vector expressions (made by lowering's
//     vectorization pass, tir/vectorize.cpp) are LLVM vectors of as many lanes: a load or
//     store at a ramp of stride 1 is one vector load or store, a load at a ramp of stride
//     2 to 4 a few dense loads and a shuffle, another vector index a gather or scatter; a loop
//     still marked vectorized (one the pass could not turn into vector statements) carries
//     llvm.loop.vectorize.enable for LLVM's loop vectorizer;
//   - a parallel loop's body is outlined into `void f(i64 begin, i64 end, ptr closure)`,
//     its free variables and buffers packed into a closure of 8-byte slots, and run through
//     the runtime's kiln_parallel_for; f unpacks them and calls the body with noalias
//     buffer parameters;
//   - element-index arithmetic is nsw (it addresses memory and cannot overflow), which
//     lets alias analysis tell rows of one buffer apart and keep sums in registers;
//   - float arithmetic carries the `contract` flag, so a multiply feeding an add becomes an
//     FMA where the target has one;
//   - Allocate is aligned_alloc/free around its body, except a small one (a tile computed
//     inside a loop, kSmallAllocation bytes at most), which is a 64-byte aligned alloca in
//     the function's entry block (no allocator call per iteration; LLVM may keep it in
//     registers); math intrinsics are LLVM intrinsics (libm for tanh and erf).
// Integer Div/Mod follow the IR's floor semantics.
#include "codegen_llvm.h"

#include <llvm/Passes/PassBuilder.h>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "kiln/runtime/error.h"
#include "kiln/tir/ir_visitor.h"
#include "kiln/tir/printer.h"

namespace kiln::codegen {

namespace {

using namespace tir;  // NOLINT

// The variables and buffers a statement uses (for closures of outlined parallel loops).
class UsedSymbols : public IRVisitor {
 public:
  std::set<const ExprNode*> vars;
  std::set<const BufferNode*> buffers;
  using IRVisitor::visit;
  void visit(const VarNode* op) override { vars.insert(op); }
  void visit(const Load* op) override {
    buffers.insert(op->buffer.get());
    IRVisitor::visit(op);
  }
  void visit(const Store* op) override {
    buffers.insert(op->buffer.get());
    IRVisitor::visit(op);
  }
};

class CodeGenLLVM : public IRVisitor {
 public:
  CodeGenLLVM(llvm::LLVMContext& ctx, llvm::Module& mod, llvm::TargetMachine& tm)
      : ctx_(ctx), mod_(mod), tm_(tm), b_(ctx) {
    // a * b + c may become one fused multiply-add (one rounding instead of two).
    llvm::FastMathFlags fmf;
    fmf.setAllowContract(true);
    b_.setFastMathFlags(fmf);
  }

  void emitKernel(const Kernel& k) {
    name_ = k.name;
    llvm::Type* ptrTy = b_.getPtrTy();
    std::vector<llvm::Type*> params(k.params.size(), ptrTy);
    llvm::Function* impl =
        llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), params, false),
                               llvm::Function::InternalLinkage, k.name + ".impl", mod_);
    setAttributes(impl);
    for (size_t i = 0; i < k.params.size(); ++i) {
      impl->addParamAttr(static_cast<unsigned>(i), llvm::Attribute::NoAlias);
      impl->getArg(static_cast<unsigned>(i))->setName(k.params[i]->name);
      buffers_[k.params[i].get()] = impl->getArg(static_cast<unsigned>(i));
    }
    fn_ = impl;
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", impl));
    visitStmt(k.body);
    b_.CreateRetVoid();
    buffers_.clear();

    // The entry point: unpack the argument array.
    llvm::Function* entry =
        llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), {ptrTy}, false),
                               llvm::Function::ExternalLinkage, k.name, mod_);
    setAttributes(entry);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", entry));
    std::vector<llvm::Value*> args;
    for (size_t i = 0; i < k.params.size(); ++i) {
      llvm::Value* slot = b_.CreateConstInBoundsGEP1_64(ptrTy, entry->getArg(0), i);
      args.push_back(b_.CreateLoad(ptrTy, slot, k.params[i]->name));
    }
    b_.CreateCall(impl, args);
    b_.CreateRetVoid();

    for (llvm::Function* f : {impl, entry}) verify(*f);
    for (llvm::Function* f : outlined_) verify(*f);
    outlined_.clear();
  }

  // ---- expressions ----
  using IRVisitor::visit;

  void visit(const IntImm* op) override {
    value_ = op->type == DType::Bool
                 ? b_.getInt1(op->value != 0)
                 : llvm::ConstantInt::get(typeOf(op->type), static_cast<uint64_t>(op->value), true);
  }
  void visit(const FloatImm* op) override {
    value_ = llvm::ConstantFP::get(typeOf(op->type), op->value);
  }
  void visit(const VarNode* op) override {
    auto it = vars_.find(op);
    if (it == vars_.end())
      throw Error("codegen llvm: kernel '" + name_ + "' uses unbound variable '" + op->name + "'");
    value_ = it->second;
  }

  void visit(const Binary* op) override {
    llvm::Value* a = codegen(op->a);
    llvm::Value* c = codegen(op->b);
    const DType t = op->a.type();
    const bool f = isFloat(t), u = t == DType::U8 || t == DType::Bool;
    switch (op->op) {
      case BinOp::Add:
        value_ = f ? b_.CreateFAdd(a, c) : b_.CreateAdd(a, c, "", false, index_);
        return;
      case BinOp::Sub:
        value_ = f ? b_.CreateFSub(a, c) : b_.CreateSub(a, c, "", false, index_);
        return;
      case BinOp::Mul:
        value_ = f ? b_.CreateFMul(a, c) : b_.CreateMul(a, c, "", false, index_);
        return;
      case BinOp::Div:
        value_ = f ? b_.CreateFDiv(a, c) : u ? b_.CreateUDiv(a, c) : floorDiv(a, c);
        return;
      case BinOp::Mod:
        value_ = f ? b_.CreateFRem(a, c) : u ? b_.CreateURem(a, c) : floorMod(a, c);
        return;
      case BinOp::Min:
        value_ = f ? b_.CreateMinNum(a, c)
                   : b_.CreateSelect(u ? b_.CreateICmpULT(a, c) : b_.CreateICmpSLT(a, c), a, c);
        return;
      case BinOp::Max:
        value_ = f ? b_.CreateMaxNum(a, c)
                   : b_.CreateSelect(u ? b_.CreateICmpUGT(a, c) : b_.CreateICmpSGT(a, c), a, c);
        return;
      case BinOp::EQ:
        value_ = f ? b_.CreateFCmpOEQ(a, c) : b_.CreateICmpEQ(a, c);
        return;
      case BinOp::NE:
        value_ = f ? b_.CreateFCmpUNE(a, c) : b_.CreateICmpNE(a, c);
        return;
      case BinOp::LT:
        value_ = f ? b_.CreateFCmpOLT(a, c) : u ? b_.CreateICmpULT(a, c) : b_.CreateICmpSLT(a, c);
        return;
      case BinOp::LE:
        value_ = f ? b_.CreateFCmpOLE(a, c) : u ? b_.CreateICmpULE(a, c) : b_.CreateICmpSLE(a, c);
        return;
      case BinOp::GT:
        value_ = f ? b_.CreateFCmpOGT(a, c) : u ? b_.CreateICmpUGT(a, c) : b_.CreateICmpSGT(a, c);
        return;
      case BinOp::GE:
        value_ = f ? b_.CreateFCmpOGE(a, c) : u ? b_.CreateICmpUGE(a, c) : b_.CreateICmpSGE(a, c);
        return;
      case BinOp::And:
        value_ = b_.CreateAnd(a, c);
        return;
      case BinOp::Or:
        value_ = b_.CreateOr(a, c);
        return;
    }
  }

  void visit(const Not* op) override { value_ = b_.CreateNot(codegen(op->a)); }
  void visit(const Select* op) override {
    llvm::Value* c = codegen(op->cond);
    llvm::Value* t = codegen(op->t);
    llvm::Value* f = codegen(op->f);
    value_ = b_.CreateSelect(c, t, f);
  }

  void visit(const Cast* op) override {
    llvm::Value* v = codegen(op->a);
    const DType from = op->a.type(), to = op->type;
    llvm::Type* ty = vectorOf(typeOf(to), op->lanes);
    const bool fromU = from == DType::U8 || from == DType::Bool;
    if (to == DType::Bool) {
      value_ = isFloat(from) ? b_.CreateFCmpUNE(v, llvm::ConstantFP::get(v->getType(), 0.0))
                             : b_.CreateICmpNE(v, llvm::ConstantInt::get(v->getType(), 0));
    } else if (isFloat(from) && isFloat(to)) {
      value_ = b_.CreateFPCast(v, ty);
    } else if (isFloat(to)) {
      value_ = fromU ? b_.CreateUIToFP(v, ty) : b_.CreateSIToFP(v, ty);
    } else if (isFloat(from)) {
      // Through int64, then wrap to the narrower type, as a C cast from int64 (ONNX Cast).
      value_ = b_.CreateIntCast(b_.CreateFPToSI(v, vectorOf(b_.getInt64Ty(), op->lanes)), ty, true);
    } else {
      value_ = b_.CreateIntCast(v, ty, !fromU);
    }
  }

  void visit(const Call* op) override {
    std::vector<llvm::Value*> args;
    for (const Expr& a : op->args) args.push_back(codegen(a));
    static const std::map<std::string, llvm::Intrinsic::ID> intrinsics = {
        {"exp", llvm::Intrinsic::exp},   {"log", llvm::Intrinsic::log},
        {"sqrt", llvm::Intrinsic::sqrt}, {"floor", llvm::Intrinsic::floor},
        {"ceil", llvm::Intrinsic::ceil}, {"fabs", llvm::Intrinsic::fabs},
        {"pow", llvm::Intrinsic::pow}};
    if (auto it = intrinsics.find(op->name); it != intrinsics.end()) {
      value_ = args.size() == 2 ? b_.CreateBinaryIntrinsic(it->second, args[0], args[1])
                                : b_.CreateUnaryIntrinsic(it->second, args[0]);
      return;
    }
    if (op->type != DType::F32)
      throw Error("codegen llvm: intrinsic '" + op->name + "' is only available for f32 (kernel '" +
                  name_ + "')");
    // No LLVM intrinsic: call libm's float version, declared pure so it can be hoisted.
    llvm::FunctionCallee fc = mod_.getOrInsertFunction(
        op->name + "f", llvm::FunctionType::get(b_.getFloatTy(), {b_.getFloatTy()}, false));
    if (auto* f = llvm::dyn_cast<llvm::Function>(fc.getCallee())) {
      f->setDoesNotAccessMemory();
      f->setDoesNotThrow();
      f->setWillReturn();
    }
    value_ = perLane(fc, args[0]);
  }

  void visit(const TensorRead* op) override {
    throw Error("codegen llvm: kernel '" + name_ + "' still reads tensor '" + op->tensor->name +
                "'; run storage flattening first");
  }
  void visit(const Reduce*) override {
    throw Error("codegen llvm: a reduction was not lowered in '" + name_ + "'");
  }

  void visit(const Ramp* op) override { value_ = rampValue(op); }
  void visit(const Broadcast* op) override {
    value_ = b_.CreateVectorSplat(static_cast<unsigned>(op->lanes), codegen(op->value));
  }

  void visit(const Load* op) override {
    if (op->lanes > 1) {
      value_ = vectorLoad(op);
      return;
    }
    llvm::Type* st = storageType(op->buffer->dtype);
    llvm::Value* ptr = b_.CreateInBoundsGEP(st, bufferPtr(op->buffer), indexValue(op->index));
    llvm::Value* v = b_.CreateAlignedLoad(st, ptr, llvm::Align(dtypeSize(op->buffer->dtype)));
    value_ = op->buffer->dtype == DType::Bool ? b_.CreateICmpNE(v, b_.getInt8(0)) : v;
  }

  // ---- statements ----

  void visit(const Store* op) override {
    llvm::Type* st = storageType(op->buffer->dtype);
    llvm::Value* v = codegen(op->value);
    if (op->value.lanes() > 1) {
      vectorStore(op, v);
      return;
    }
    if (op->buffer->dtype == DType::Bool) v = b_.CreateZExt(v, st);
    llvm::Value* ptr = b_.CreateInBoundsGEP(st, bufferPtr(op->buffer), indexValue(op->index));
    b_.CreateAlignedStore(v, ptr, llvm::Align(dtypeSize(op->buffer->dtype)));
  }
  void visit(const Provide* op) override {
    throw Error("codegen llvm: kernel '" + name_ + "' still writes tensor '" + op->tensor->name +
                "'; run storage flattening first");
  }
  void visit(const Realize* op) override {
    throw Error("codegen llvm: kernel '" + name_ + "' still realizes '" + op->tensor->name + "'");
  }

  void visit(const LetStmt* op) override {
    vars_[op->var.get()] = codegen(op->value);
    visitStmt(op->body);
    vars_.erase(op->var.get());
  }

  void visit(const Evaluate* op) override { codegen(op->value); }

  void visit(const IfThenElse* op) override {
    llvm::Value* c = codegen(op->cond);
    auto* thenBB = llvm::BasicBlock::Create(ctx_, "then", fn_);
    auto* elseBB = op->elseCase.defined() ? llvm::BasicBlock::Create(ctx_, "else", fn_) : nullptr;
    auto* endBB = llvm::BasicBlock::Create(ctx_, "endif", fn_);
    b_.CreateCondBr(c, thenBB, elseBB ? elseBB : endBB);
    b_.SetInsertPoint(thenBB);
    visitStmt(op->thenCase);
    b_.CreateBr(endBB);
    if (elseBB) {
      b_.SetInsertPoint(elseBB);
      visitStmt(op->elseCase);
      b_.CreateBr(endBB);
    }
    b_.SetInsertPoint(endBB);
  }

  void visit(const Allocate* op) override {
    const uint64_t bytes =
        (static_cast<uint64_t>(op->buffer->numel) * dtypeSize(op->buffer->dtype) + 63) / 64 * 64;
    constexpr uint64_t kSmallAllocation = 16 * 1024;
    if (bytes <= kSmallAllocation) {
      llvm::Function* fn = b_.GetInsertBlock()->getParent();
      llvm::IRBuilder<> entry(&fn->getEntryBlock(), fn->getEntryBlock().begin());
      llvm::AllocaInst* a = entry.CreateAlloca(llvm::ArrayType::get(b_.getInt8Ty(), bytes), nullptr,
                                               op->buffer->name);
      a->setAlignment(llvm::Align(64));
      buffers_[op->buffer.get()] = a;
      visitStmt(op->body);
      buffers_.erase(op->buffer.get());
      return;
    }
    // aligned_alloc(size_t alignment, size_t size): size_t is the target's pointer width
    // (32 bits on armv7).
    llvm::IntegerType* sizeTy = mod_.getDataLayout().getIntPtrType(ctx_);
    llvm::FunctionCallee alloc = mod_.getOrInsertFunction(
        "aligned_alloc", llvm::FunctionType::get(b_.getPtrTy(), {sizeTy, sizeTy}, false));
    llvm::FunctionCallee release = mod_.getOrInsertFunction(
        "free", llvm::FunctionType::get(b_.getVoidTy(), {b_.getPtrTy()}, false));
    llvm::CallInst* p = b_.CreateCall(
        alloc, {llvm::ConstantInt::get(sizeTy, 64), llvm::ConstantInt::get(sizeTy, bytes)},
        op->buffer->name);
    p->addRetAttr(llvm::Attribute::NoAlias);
    buffers_[op->buffer.get()] = p;
    visitStmt(op->body);
    b_.CreateCall(release, {p});
    buffers_.erase(op->buffer.get());
  }

  void visit(const For* op) override {
    if (op->forKind == ForKind::ThreadBinding)
      throw Error("codegen llvm: kernel '" + name_ + "': loop '" + op->var.as<VarNode>()->name +
                  "' is bound to " + op->threadTag +
                  ", a GPU index; the CPU back end cannot run a GPU schedule (compile it for "
                  "cuda or opencl, or schedule it for the CPU)");
    if (op->forKind == ForKind::Parallel) {
      emitParallel(op);
      return;
    }
    llvm::Value* mn = codegen(op->min);
    llvm::Value* end = b_.CreateAdd(mn, codegen(op->extent));
    emitLoop(op->var, mn, end, op->body, op->forKind == ForKind::Vectorized);
  }

 private:
  // Vectors: ramps and broadcasts, loads and stores of several lanes, scalar libm calls per lane.
  llvm::Value* rampValue(const Ramp* op) {
    llvm::Value* base = b_.CreateVectorSplat(op->lanes, codegen(op->base));
    llvm::Value* stride = b_.CreateVectorSplat(op->lanes, codegen(op->stride));
    std::vector<llvm::Constant*> steps;
    for (int i = 0; i < op->lanes; ++i)
      steps.push_back(llvm::ConstantInt::get(typeOf(op->type), static_cast<uint64_t>(i)));
    llvm::Value* offsets = b_.CreateMul(stride, llvm::ConstantVector::get(steps), "", false, true);
    return b_.CreateAdd(base, offsets, "", false, true);
  }
  // The ramp of stride 1 an index is, or nullptr.
  static const Ramp* denseRamp(const Expr& index) {
    const Ramp* r = index.as<Ramp>();
    const int64_t* s = r ? asConstInt(r->stride) : nullptr;
    return s && *s == 1 ? r : nullptr;
  }
  // The constant stride (2 to 4) of a ramp index of at least 4 lanes, or 0: such a load is
  // read as dense loads and a shuffle (stridedLoad).
  static int64_t shuffledStride(const Expr& index) {
    const Ramp* r = index.as<Ramp>();
    const int64_t* s = r ? asConstInt(r->stride) : nullptr;
    return s && *s >= 2 && *s <= 4 && r->lanes >= 4 ? *s : 0;
  }
  // A load at ramp(base, stride, L) with a small constant stride (the stride-phase split of a
  // strided convolution's input): the span it touches, (L - 1) * stride + 1 elements, is read
  // as L-lane dense loads, the last one moved back to end at the span's last element so that
  // nothing outside the span is read, and one shuffle of the joined loads picks every
  // stride-th element. A gather costs about one memory access per lane; this is `stride`
  // vector loads and a few permutes.
  llvm::Value* stridedLoad(const Load* op, const Ramp* r, int64_t stride, llvm::Type* st,
                           llvm::Align align) {
    const int64_t lanes = r->lanes;
    const int64_t span = (lanes - 1) * stride + 1;
    const int64_t pieces = (span + lanes - 1) / lanes;
    auto* vt = llvm::FixedVectorType::get(st, static_cast<unsigned>(lanes));
    llvm::Value* first = b_.CreateInBoundsGEP(st, bufferPtr(op->buffer), indexValue(r->base));
    std::vector<int64_t> starts;
    std::vector<llvm::Value*> parts;
    for (int64_t p = 0; p < pieces; ++p) {
      starts.push_back(std::min(p * lanes, span - lanes));
      llvm::Value* ptr = b_.CreateInBoundsGEP(st, first, b_.getInt64(starts.back()));
      parts.push_back(b_.CreateAlignedLoad(vt, ptr, align));
    }
    // Join the pieces pairwise into one vector of (a power of two) x L lanes.
    while (parts.size() > 1) {
      std::vector<llvm::Value*> joined;
      for (size_t i = 0; i < parts.size(); i += 2) {
        llvm::Value* a = parts[i];
        llvm::Value* b = i + 1 < parts.size() ? parts[i + 1] : llvm::PoisonValue::get(a->getType());
        const unsigned n = llvm::cast<llvm::FixedVectorType>(a->getType())->getNumElements();
        std::vector<int> mask(2 * n);
        for (unsigned k = 0; k < 2 * n; ++k) mask[k] = static_cast<int>(k);
        joined.push_back(b_.CreateShuffleVector(a, b, mask));
      }
      parts = std::move(joined);
    }
    std::vector<int> mask(static_cast<size_t>(lanes));
    for (int64_t i = 0; i < lanes; ++i) {
      const int64_t e = i * stride;  // element of the span; the first piece holding it
      int64_t p = 0;
      while (e >= starts[p] + lanes) ++p;
      mask[i] = static_cast<int>(p * lanes + e - starts[p]);
    }
    return b_.CreateShuffleVector(parts[0], mask);
  }
  llvm::Value* vectorLoad(const Load* op) {
    const DType dt = op->buffer->dtype;
    llvm::Type* st = storageType(dt);
    llvm::Type* vt = llvm::FixedVectorType::get(st, static_cast<unsigned>(op->lanes));
    const llvm::Align align(dtypeSize(dt));
    llvm::Value* v;
    if (const Ramp* r = denseRamp(op->index)) {
      llvm::Value* ptr = b_.CreateInBoundsGEP(st, bufferPtr(op->buffer), indexValue(r->base));
      v = b_.CreateAlignedLoad(vt, ptr, align);
    } else if (const int64_t stride = shuffledStride(op->index)) {
      v = stridedLoad(op, op->index.as<Ramp>(), stride, st, align);
    } else if (const Broadcast* bc = op->index.as<Broadcast>()) {
      llvm::Value* ptr = b_.CreateInBoundsGEP(st, bufferPtr(op->buffer), indexValue(bc->value));
      v = b_.CreateVectorSplat(static_cast<unsigned>(op->lanes),
                               b_.CreateAlignedLoad(st, ptr, align));
    } else {
      llvm::Value* ptrs = b_.CreateInBoundsGEP(st, bufferPtr(op->buffer), indexValue(op->index));
      v = b_.CreateMaskedGather(vt, ptrs, align);
    }
    return dt == DType::Bool ? b_.CreateICmpNE(v, llvm::ConstantInt::get(vt, 0)) : v;
  }
  void vectorStore(const Store* op, llvm::Value* v) {
    const DType dt = op->buffer->dtype;
    llvm::Type* st = storageType(dt);
    const llvm::Align align(dtypeSize(dt));
    if (dt == DType::Bool)
      v = b_.CreateZExt(v,
                        llvm::FixedVectorType::get(st, static_cast<unsigned>(op->value.lanes())));
    if (const Ramp* r = denseRamp(op->index)) {
      b_.CreateAlignedStore(v, b_.CreateInBoundsGEP(st, bufferPtr(op->buffer), indexValue(r->base)),
                            align);
    } else {
      llvm::Value* ptrs = b_.CreateInBoundsGEP(st, bufferPtr(op->buffer), indexValue(op->index));
      b_.CreateMaskedScatter(v, ptrs, align);
    }
  }
  // A libm function of one float, once per lane of a vector argument.
  llvm::Value* perLane(llvm::FunctionCallee fn, llvm::Value* arg) {
    auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(arg->getType());
    if (!vt) return b_.CreateCall(fn, {arg});
    llvm::Value* out = llvm::PoisonValue::get(vt);
    for (unsigned i = 0; i < vt->getNumElements(); ++i)
      out = b_.CreateInsertElement(out, b_.CreateCall(fn, {b_.CreateExtractElement(arg, i)}), i);
    return out;
  }

  // An element index: its arithmetic cannot overflow (it addresses a buffer in memory), so
  // it is marked nsw, which lets LLVM's alias analysis tell rows of one buffer apart and
  // keep a register tile's sums in registers.
  //
  // A scalar index is emitted in linear form, its terms (loop variables, divisions and
  // remainders of fused loops, ...) times their coefficients summed in a fixed order and the
  // constant added last: two accesses of a register tile then differ only in that constant,
  // the one thing LLVM's alias analysis can compare, so it keeps every accumulator of a tile
  // in a register (however the schedule nested the index: ((a * 2 + 1) * 56 + b) * 16 is
  // a * 1792 + b * 16 + 896).
  llvm::Value* indexValue(const Expr& e) {
    const bool saved = index_;
    index_ = true;
    llvm::Value* v = e.lanes() == 1 && e.type() == DType::I64 ? linearIndex(e) : codegen(e);
    index_ = saved;
    return v;
  }
  struct LinearForm {
    std::vector<std::pair<Expr, int64_t>> terms;  // (term, coefficient), in first-seen order
    int64_t constant = 0;
  };
  void linearize(const Expr& e, int64_t scale, LinearForm* f) {
    if (const int64_t* c = asConstInt(e)) {
      f->constant += scale * *c;
      return;
    }
    if (const Binary* b = e.as<Binary>()) {
      if (b->op == BinOp::Add || b->op == BinOp::Sub) {
        linearize(b->a, scale, f);
        linearize(b->b, b->op == BinOp::Add ? scale : -scale, f);
        return;
      }
      if (b->op == BinOp::Mul) {
        if (const int64_t* c = asConstInt(b->b)) return linearize(b->a, scale * *c, f);
        if (const int64_t* c = asConstInt(b->a)) return linearize(b->b, scale * *c, f);
      }
    }
    const std::string key = printExpr(e);
    for (auto& [t, k] : f->terms)
      if (t.same(e) || printExpr(t) == key) {
        k += scale;
        return;
      }
    f->terms.emplace_back(e, scale);
  }
  llvm::Value* linearIndex(const Expr& e) {
    LinearForm f;
    linearize(e, 1, &f);
    llvm::Value* sum = nullptr;
    for (const auto& [t, k] : f.terms) {
      if (k == 0) continue;
      llvm::Value* v = codegen(t);
      if (k != 1) v = b_.CreateMul(v, b_.getInt64(static_cast<uint64_t>(k)), "", false, true);
      sum = sum ? b_.CreateAdd(sum, v, "", false, true) : v;
    }
    if (!sum) return b_.getInt64(static_cast<uint64_t>(f.constant));
    return f.constant
               ? b_.CreateAdd(sum, b_.getInt64(static_cast<uint64_t>(f.constant)), "", false, true)
               : sum;
  }

  llvm::Value* codegen(const Expr& e) {
    value_ = nullptr;
    visitExpr(e);
    if (!value_) throw Error("codegen llvm: an expression produced no value in '" + name_ + "'");
    return value_;
  }

  llvm::Type* typeOf(DType t) {
    switch (t) {
      case DType::F32:
        return b_.getFloatTy();
      case DType::F16:
        return b_.getHalfTy();
      case DType::I8:
      case DType::U8:
        return b_.getInt8Ty();
      case DType::I32:
        return b_.getInt32Ty();
      case DType::I64:
        return b_.getInt64Ty();
      case DType::Bool:
        return b_.getInt1Ty();
    }
    return b_.getInt64Ty();
  }
  llvm::Type* vectorOf(llvm::Type* t, int lanes) {
    return lanes > 1 ? llvm::FixedVectorType::get(t, static_cast<unsigned>(lanes)) : t;
  }
  llvm::Type* storageType(DType t) { return t == DType::Bool ? b_.getInt8Ty() : typeOf(t); }

  llvm::Value* bufferPtr(const Buffer& buf) {
    auto it = buffers_.find(buf.get());
    if (it == buffers_.end())
      throw Error("codegen llvm: kernel '" + name_ + "' uses unknown buffer '" + buf->name + "'");
    return it->second;
  }

  // Floor division and modulo on signed integers.
  llvm::Value* floorDiv(llvm::Value* a, llvm::Value* c) {
    llvm::Value* q = b_.CreateSDiv(a, c);
    llvm::Value* r = b_.CreateSRem(a, c);
    llvm::Value* zero = llvm::ConstantInt::get(a->getType(), 0);
    llvm::Value* adjust =
        b_.CreateAnd(b_.CreateICmpNE(r, zero), b_.CreateICmpSLT(b_.CreateXor(r, c), zero));
    return b_.CreateSub(q, b_.CreateZExt(adjust, a->getType()));
  }
  llvm::Value* floorMod(llvm::Value* a, llvm::Value* c) {
    llvm::Value* r = b_.CreateSRem(a, c);
    llvm::Value* zero = llvm::ConstantInt::get(a->getType(), 0);
    llvm::Value* adjust =
        b_.CreateAnd(b_.CreateICmpNE(r, zero), b_.CreateICmpSLT(b_.CreateXor(r, c), zero));
    return b_.CreateSelect(adjust, b_.CreateAdd(r, c), r);
  }

  void setAttributes(llvm::Function* f) {
    f->addFnAttr("target-cpu", tm_.getTargetCPU());
    f->addFnAttr("target-features", tm_.getTargetFeatureString());
    f->addFnAttr(llvm::Attribute::NoUnwind);
  }

  void verify(llvm::Function& f) {
    std::string msg;
    llvm::raw_string_ostream os(msg);
    if (llvm::verifyFunction(f, &os))
      throw Error("codegen llvm: invalid LLVM IR for '" + std::string(f.getName()) +
                  "': " + os.str());
  }

  // for (var = begin; var < end; ++var) body
  void emitLoop(const Var& var, llvm::Value* begin, llvm::Value* end, const Stmt& body,
                bool vectorize) {
    llvm::BasicBlock* pre = b_.GetInsertBlock();
    auto* header = llvm::BasicBlock::Create(ctx_, "for.header", fn_);
    auto* bodyBB = llvm::BasicBlock::Create(ctx_, "for.body", fn_);
    auto* exitBB = llvm::BasicBlock::Create(ctx_, "for.end", fn_);
    b_.CreateBr(header);
    b_.SetInsertPoint(header);
    llvm::PHINode* phi = b_.CreatePHI(b_.getInt64Ty(), 2, var.as<VarNode>()->name);
    phi->addIncoming(begin, pre);
    b_.CreateCondBr(b_.CreateICmpSLT(phi, end), bodyBB, exitBB);
    b_.SetInsertPoint(bodyBB);
    vars_[var.get()] = phi;
    visitStmt(body);
    vars_.erase(var.get());
    llvm::Value* next = b_.CreateAdd(phi, b_.getInt64(1), "", true, true);
    llvm::BranchInst* back = b_.CreateBr(header);
    phi->addIncoming(next, b_.GetInsertBlock());
    if (vectorize) {
      llvm::Metadata* enable[] = {llvm::MDString::get(ctx_, "llvm.loop.vectorize.enable"),
                                  llvm::ConstantAsMetadata::get(b_.getTrue())};
      llvm::Metadata* ops[] = {nullptr, llvm::MDNode::get(ctx_, enable)};
      llvm::MDNode* md = llvm::MDNode::getDistinct(ctx_, ops);
      md->replaceOperandWith(0, md);
      back->setMetadata(llvm::LLVMContext::MD_loop, md);
    } else {
      // The schedule decided what to unroll; LLVM unrolling a tap loop around a register
      // tile would keep each tap's broadcast inputs live at once and spill the tile.
      llvm::Metadata* disable[] = {llvm::MDString::get(ctx_, "llvm.loop.unroll.disable")};
      llvm::Metadata* ops[] = {nullptr, llvm::MDNode::get(ctx_, disable)};
      llvm::MDNode* md = llvm::MDNode::getDistinct(ctx_, ops);
      md->replaceOperandWith(0, md);
      back->setMetadata(llvm::LLVMContext::MD_loop, md);
    }
    b_.SetInsertPoint(exitBB);
  }

  // Outlines the loop body into f(begin, end, closure) and calls kiln_parallel_for.
  void emitParallel(const For* op) {
    UsedSymbols used;
    used.visitStmt(op->body);
    std::vector<const ExprNode*> capturedVars;
    for (const ExprNode* v : used.vars)
      if (vars_.count(v) && v != op->var.get()) capturedVars.push_back(v);
    std::vector<const BufferNode*> capturedBufs;
    for (const BufferNode* bnode : used.buffers)
      if (buffers_.count(bnode)) capturedBufs.push_back(bnode);
    const size_t slots = 1 + capturedVars.size() + capturedBufs.size();  // slot 0: the loop's min

    // Pack the closure (an alloca in the entry block, so a loop around us reuses it).
    llvm::IRBuilder<> entryB(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
    llvm::AllocaInst* closure =
        entryB.CreateAlloca(llvm::ArrayType::get(b_.getInt64Ty(), slots), nullptr, "closure");
    auto slotPtr = [&](llvm::IRBuilder<>& bb, llvm::Value* base, size_t i) {
      return bb.CreateConstInBoundsGEP1_64(bb.getInt64Ty(), base, i);
    };
    b_.CreateStore(codegen(op->min), slotPtr(b_, closure, 0));
    for (size_t i = 0; i < capturedVars.size(); ++i) {
      llvm::Value* v = vars_[capturedVars[i]];
      if (!v->getType()->isIntegerTy(64))
        throw Error("codegen llvm: a parallel loop in '" + name_ +
                    "' captures a non-index variable");
      b_.CreateStore(v, slotPtr(b_, closure, 1 + i));
    }
    for (size_t i = 0; i < capturedBufs.size(); ++i)
      b_.CreateStore(buffers_[capturedBufs[i]], slotPtr(b_, closure, 1 + capturedVars.size() + i));

    // The outlined task unpacks the closure and calls the loop's body function, whose buffer
    // parameters are noalias like the kernel's own (inlined, LLVM keeps that as scoped
    // noalias metadata), so loads and stores in a parallel loop vectorize and promote to
    // registers as they do in a serial one.
    auto* taskTy = llvm::FunctionType::get(
        b_.getVoidTy(), {b_.getInt64Ty(), b_.getInt64Ty(), b_.getPtrTy()}, false);
    const std::string taskName = name_ + ".par" + std::to_string(parallelCount_++);
    llvm::Function* task =
        llvm::Function::Create(taskTy, llvm::Function::InternalLinkage, taskName, mod_);
    setAttributes(task);
    outlined_.push_back(task);
    std::vector<llvm::Type*> bodyParams(3 + capturedVars.size(), b_.getInt64Ty());
    bodyParams.insert(bodyParams.end(), capturedBufs.size(), b_.getPtrTy());
    llvm::Function* bodyFn =
        llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), bodyParams, false),
                               llvm::Function::InternalLinkage, taskName + ".body", mod_);
    setAttributes(bodyFn);
    bodyFn->addFnAttr(llvm::Attribute::AlwaysInline);
    outlined_.push_back(bodyFn);
    llvm::Function* savedFn = fn_;
    llvm::IRBuilderBase::InsertPoint savedIP = b_.saveIP();
    auto savedVars = vars_;
    auto savedBufs = buffers_;

    fn_ = task;
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", task));
    llvm::Value* cl = task->getArg(2);
    std::vector<llvm::Value*> callArgs = {task->getArg(0), task->getArg(1),
                                          b_.CreateLoad(b_.getInt64Ty(), slotPtr(b_, cl, 0))};
    for (size_t i = 0; i < capturedVars.size(); ++i)
      callArgs.push_back(b_.CreateLoad(b_.getInt64Ty(), slotPtr(b_, cl, 1 + i)));
    for (size_t i = 0; i < capturedBufs.size(); ++i)
      callArgs.push_back(
          b_.CreateLoad(b_.getPtrTy(), slotPtr(b_, cl, 1 + capturedVars.size() + i)));
    b_.CreateCall(bodyFn, callArgs);
    b_.CreateRetVoid();

    fn_ = bodyFn;
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", bodyFn));
    for (size_t i = 0; i < capturedVars.size(); ++i)
      vars_[capturedVars[i]] = bodyFn->getArg(static_cast<unsigned>(3 + i));
    for (size_t i = 0; i < capturedBufs.size(); ++i) {
      const auto arg = static_cast<unsigned>(3 + capturedVars.size() + i);
      bodyFn->addParamAttr(arg, llvm::Attribute::NoAlias);
      buffers_[capturedBufs[i]] = bodyFn->getArg(arg);
    }
    // Iterate i in [begin, end) with var = min + i.
    emitLoopWithOffset(bodyFn->getArg(0), bodyFn->getArg(1), bodyFn->getArg(2), op->var, op->body);
    b_.CreateRetVoid();
    fn_ = savedFn;
    b_.restoreIP(savedIP);
    vars_ = std::move(savedVars);
    buffers_ = std::move(savedBufs);

    llvm::FunctionCallee pf = mod_.getOrInsertFunction(
        "kiln_parallel_for",
        llvm::FunctionType::get(b_.getVoidTy(), {b_.getInt64Ty(), b_.getPtrTy(), b_.getPtrTy()},
                                false));
    b_.CreateCall(pf, {codegen(op->extent), task, closure});
  }

  // for (i = begin; i < end; ++i) { var = min + i; body }
  void emitLoopWithOffset(llvm::Value* begin, llvm::Value* end, llvm::Value* mn, const Var& var,
                          const Stmt& body) {
    llvm::BasicBlock* pre = b_.GetInsertBlock();
    auto* header = llvm::BasicBlock::Create(ctx_, "par.header", fn_);
    auto* bodyBB = llvm::BasicBlock::Create(ctx_, "par.body", fn_);
    auto* exitBB = llvm::BasicBlock::Create(ctx_, "par.end", fn_);
    b_.CreateBr(header);
    b_.SetInsertPoint(header);
    llvm::PHINode* phi = b_.CreatePHI(b_.getInt64Ty(), 2, "i");
    phi->addIncoming(begin, pre);
    b_.CreateCondBr(b_.CreateICmpSLT(phi, end), bodyBB, exitBB);
    b_.SetInsertPoint(bodyBB);
    vars_[var.get()] = b_.CreateAdd(mn, phi, var.as<VarNode>()->name);
    visitStmt(body);
    vars_.erase(var.get());
    llvm::Value* next = b_.CreateAdd(phi, b_.getInt64(1), "", true, true);
    b_.CreateBr(header);
    phi->addIncoming(next, b_.GetInsertBlock());
    b_.SetInsertPoint(exitBB);
  }

  llvm::LLVMContext& ctx_;
  llvm::Module& mod_;
  llvm::TargetMachine& tm_;
  llvm::IRBuilder<> b_;
  llvm::Function* fn_ = nullptr;
  llvm::Value* value_ = nullptr;
  bool index_ = false;  // generating an element index (see indexValue)
  std::string name_;
  std::map<const ExprNode*, llvm::Value*> vars_;
  std::map<const BufferNode*, llvm::Value*> buffers_;
  std::vector<llvm::Function*> outlined_;
  int parallelCount_ = 0;
};

}  // namespace

std::unique_ptr<llvm::Module> emitModule(llvm::LLVMContext& ctx,
                                         const std::vector<tir::Kernel>& kernels,
                                         llvm::TargetMachine& tm) {
  auto mod = std::make_unique<llvm::Module>("kiln", ctx);
  mod->setDataLayout(tm.createDataLayout());
  mod->setTargetTriple(tm.getTargetTriple().str());
  for (const tir::Kernel& k : kernels) {
    CodeGenLLVM cg(ctx, *mod, tm);
    cg.emitKernel(k);
  }
  return mod;
}

// LLVM's limits on how far LICM and MemorySSA look when promoting memory to registers are
// tuned for C code; a convolution tile keeps up to 28 vector accumulators (each a load and
// a store per tap, beside the input and weight loads), more than the default limits let
// LICM prove apart, so the sums would go through memory at every FMA. The limits are
// process-wide options of LLVM, raised once.
void raisePromotionLimits() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto& opts = llvm::cl::getRegisteredOptions();
    auto raise = [&](const char* name, unsigned value) {
      auto it = opts.find(name);
      if (it == opts.end()) return;
      if (auto* o = static_cast<llvm::cl::opt<unsigned>*>(it->second)) o->setValue(value);
    };
    raise("memssa-check-limit", 1000);
    raise("licm-mssa-optimization-cap", 1000);
    raise("licm-mssa-max-acc-promotion", 1000);
    raise("alias-set-saturation-threshold", 1000);
  });
}

void optimizeModule(llvm::Module& mod, llvm::TargetMachine& tm, int level) {
  raisePromotionLimits();
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions pto;
  pto.LoopVectorization = level >= 2;
  pto.SLPVectorization = level >= 2;
  llvm::PassBuilder pb(&tm, pto);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel ol = level <= 0   ? llvm::OptimizationLevel::O0
                               : level == 1 ? llvm::OptimizationLevel::O1
                               : level == 2 ? llvm::OptimizationLevel::O2
                                            : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager mpm =
      level <= 0 ? pb.buildO0DefaultPipeline(ol) : pb.buildPerModuleDefaultPipeline(ol);
  mpm.run(mod, mam);
}

}  // namespace kiln::codegen
