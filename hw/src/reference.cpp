// The bit-exact reference: executes an instruction stream the way the hardware's modules
// would, checking it as it goes.
//
// Fetch dispatches instructions in order into bounded command queues; load, compute and
// store each execute theirs in order, popping and pushing tokens on bounded queues. Modules
// take turns running whatever is ready; since every module blocks only on its own queues
// (a Kahn network), the results and whether the stream deadlocks do not depend on the turn
// order. Vector clocks carried by the tokens give the happens-before order between modules,
// against which every buffer entry and DRAM granule's last writer and readers are checked.
#include "kiln/accel/reference.h"

#include <algorithm>
#include <cstring>
#include <deque>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "kiln/runtime/error.h"
#include "util.h"

namespace kiln::accel {

namespace {

constexpr int kExec = 3;  // load, compute, store: the modules that execute instructions

int execIndex(Module m) {
  return static_cast<int>(m) - 1;
}
Module execModule(int i) {
  return static_cast<Module>(i + 1);
}

using Clock = std::array<uint32_t, kExec>;

// Who last wrote and read a buffer entry or DRAM granule in this run (epochs from 1).
struct Access {
  uint32_t write_epoch = 0;
  uint8_t writer = 0;
  std::array<uint32_t, kExec> read_epoch{};
};

struct Token {
  Clock clock;
  size_t insn;
};

struct FaultThrown {
  Fault fault;
};

[[noreturn]] void raise(FaultKind kind, std::optional<size_t> insn, const std::string& what) {
  throw FaultThrown{Fault{kind, insn, what}};
}

// The token flags in the order the tables below use.
constexpr std::array<InsnField, 4> kFlags = {InsnField::kPopPrev, InsnField::kPopNext,
                                             InsnField::kPushPrev, InsnField::kPushNext};

uint32_t loadLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// The multiply-adds of one GEMM micro-op: out = acc + inp x wgt^T for a batch x block_in
// input tile and a block_out x block_in weight tile. A dot product of at most 128 int8 pairs
// fits an int, so only the accumulation wraps. This is the hot loop of every simulation, so
// on x86-64 with AVX2 (checked at run time) tiles of whole 16-element rows take a vector path
// that gives the same integers.
void gemmTilePortable(const int8_t* inp, const int8_t* wgt, const int32_t* acc, int32_t* out,
                      int batch, int bi, int bo) {
  for (int b = 0; b < batch; ++b) {
    for (int o = 0; o < bo; ++o) {
      int dot = 0;
      for (int i = 0; i < bi; ++i) dot += inp[b * bi + i] * wgt[o * bi + i];
      out[b * bo + o] =
          static_cast<int32_t>(static_cast<uint32_t>(acc[b * bo + o]) + static_cast<uint32_t>(dot));
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// Eight outputs at a time: per output, 16-element slices of the input row and the weight row
// are widened to int16 and multiplied pairwise into eight int32 partial sums (vpmaddwd); the
// eight outputs' partial sums are then reduced together by horizontal adds.
__attribute__((target("avx2"))) void gemmTileAvx2(const int8_t* inp, const int8_t* wgt,
                                                  const int32_t* acc, int32_t* out, int batch,
                                                  int bi, int bo) {
  for (int b = 0; b < batch; ++b) {
    const int8_t* x = inp + b * bi;
    for (int o0 = 0; o0 < bo; o0 += 8) {
      __m256i part[8];
      for (int k = 0; k < 8; ++k) {
        const int8_t* w = wgt + (o0 + k) * bi;
        __m256i sum = _mm256_setzero_si256();
        for (int i = 0; i < bi; i += 16) {
          __m256i xv =
              _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
          __m256i wv =
              _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i)));
          sum = _mm256_add_epi32(sum, _mm256_madd_epi16(xv, wv));
        }
        part[k] = sum;
      }
      __m256i h01 = _mm256_hadd_epi32(part[0], part[1]);
      __m256i h23 = _mm256_hadd_epi32(part[2], part[3]);
      __m256i h45 = _mm256_hadd_epi32(part[4], part[5]);
      __m256i h67 = _mm256_hadd_epi32(part[6], part[7]);
      __m256i h0123 = _mm256_hadd_epi32(h01, h23);  // lanes: o0..3 (low half), o0..3 (high)
      __m256i h4567 = _mm256_hadd_epi32(h45, h67);
      __m256i dots = _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20),
                                      _mm256_permute2x128_si256(h0123, h4567, 0x31));
      __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + b * bo + o0));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + b * bo + o0), _mm256_add_epi32(a, dots));
    }
  }
}
#endif

void gemmTile(const int8_t* inp, const int8_t* wgt, const int32_t* acc, int32_t* out, int batch,
              int bi, int bo) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool kAvx2 = __builtin_cpu_supports("avx2");
  if (kAvx2 && bi % 16 == 0 && bo % 8 == 0) return gemmTileAvx2(inp, wgt, acc, out, batch, bi, bo);
#endif
  gemmTilePortable(inp, wgt, acc, out, batch, bi, bo);
}

}  // namespace

std::string_view Fault::errorCode() const {
  switch (kind) {
    case FaultKind::kBadInsn:
      return "BAD_INSN";
    case FaultKind::kSramRange:
      return "SRAM_RANGE";
    case FaultKind::kDramRange:
      return "DRAM_RANGE";
    case FaultKind::kTokenFlag:
      return "TOKEN_FLAG";
    case FaultKind::kDeadlock:
      return "WATCHDOG";
    case FaultKind::kRace:
    case FaultKind::kStream:
      return "";
  }
  return "";
}

int32_t requantize(int32_t x, int32_t multiplier, int shift, int out_width) {
  int64_t p = static_cast<int64_t>(x) * multiplier;
  int64_t r = shift == 0 ? p : ((p >> (shift - 1)) + 1) >> 1;
  int64_t hi = (int64_t{1} << (out_width - 1)) - 1;
  return static_cast<int32_t>(std::clamp(r, -hi - 1, hi));
}

int32_t applyAlu(AluOp op, int32_t dst, int32_t src, int32_t aux, bool use_imm, int32_t imm,
                 int out_width) {
  auto wrap = [](uint32_t v) { return static_cast<int32_t>(v); };
  int32_t b = use_imm ? imm : src;
  int32_t c = use_imm ? imm : aux;
  switch (op) {
    case AluOp::kMin:
      return std::min(dst, b);
    case AluOp::kMax:
      return std::max(dst, b);
    case AluOp::kAdd:
      return wrap(static_cast<uint32_t>(dst) + static_cast<uint32_t>(b));
    case AluOp::kShr: {
      int s = static_cast<int>(static_cast<uint32_t>(b) & 63);
      if (s >= 32) s -= 64;  // the low six bits, sign-extended: -32 .. 31
      if (s >= 0) return dst >> s;
      return s == -32 ? 0 : wrap(static_cast<uint32_t>(dst) << -s);
    }
    case AluOp::kMul:
      return wrap(static_cast<uint32_t>(dst) * static_cast<uint32_t>(b));
    case AluOp::kMac:
      return wrap(static_cast<uint32_t>(dst) +
                  static_cast<uint32_t>(src) * static_cast<uint32_t>(c));
    case AluOp::kRequant:
      return requantize(dst, src, static_cast<int>(static_cast<uint32_t>(c) & 63), out_width);
  }
  return dst;
}

// One run of a stream: the scheduler, the semantics of every instruction and the checks.
struct Machine::Execution {
  Machine& m;
  const Config& config;
  const Params& p;
  std::span<const Insn> stream;

  std::vector<Module> module_of;                           // per instruction
  std::array<std::array<int, 4>, kNumModules> queue_of{};  // [module][flag] -> token queue
  std::vector<std::deque<Token>> tokens;
  std::array<std::deque<size_t>, kExec> commands;
  std::array<Clock, kExec> clock{};
  std::array<std::vector<size_t>, kExec> insn_at_epoch;  // epoch - 1 -> instruction
  std::array<size_t, kExec> total{};                     // instructions per module
  RunStats stats;

  // Who touched what, for the race checks.
  std::vector<Access> inp_access, wgt_access, acc_access, out_access, uop_access;
  static constexpr size_t kPageGranules = 4096;
  size_t granule = 0;  // bytes per DRAM granule: the smallest element
  std::vector<std::unique_ptr<Access[]>> dram_pages;

  // The instruction executing now.
  size_t cur = 0;
  int cur_exec = 0;
  uint32_t cur_epoch = 0;

  Execution(Machine& machine, std::span<const Insn> s)
      : m(machine), config(machine.config_), p(machine.config_.params()), stream(s) {
    const Spec& spec = config.spec();
    for (auto& row : queue_of) row.fill(-1);
    for (size_t q = 0; q < spec.token_queues.size(); ++q) {
      const TokenQueueSpec& tq = spec.token_queues[q];
      for (int f = 0; f < 4; ++f) {
        if (kFlags[f] == tq.push) queue_of[static_cast<int>(tq.from)][f] = static_cast<int>(q);
        if (kFlags[f] == tq.pop) queue_of[static_cast<int>(tq.to)][f] = static_cast<int>(q);
      }
    }
    tokens.resize(spec.token_queues.size());
    inp_access.resize(p.inp_depth);
    wgt_access.resize(p.wgt_depth);
    acc_access.resize(p.acc_depth);
    out_access.resize(p.acc_depth);
    uop_access.resize(p.uop_depth);
    granule = SIZE_MAX;
    for (int t = 0; t < kNumMemTypes; ++t)
      granule =
          std::min(granule, static_cast<size_t>(config.elementBytes(static_cast<MemType>(t))));
    dram_pages.resize((m.dram_.size() / granule + kPageGranules - 1) / kPageGranules);
  }

  std::string at(size_t i) const {
    return "instruction " + std::to_string(i) + " (" + describe(stream[i]) + ")";
  }
  [[noreturn]] void fail(FaultKind kind, size_t i, const std::string& what) const {
    raise(kind, i, at(i) + ": " + what);
  }

  bool flag(const Insn& in, int f) const { return getField(in, kFlags[f]) != 0; }

  // Checks that need no execution: encodability, where each instruction runs, its flags,
  // STORE's fixed fields, micro-op ranges and the place of FINISH.
  void checkStatically() {
    if (stream.empty()) raise(FaultKind::kStream, std::nullopt, "the stream is empty");
    const Spec& spec = config.spec();
    module_of.resize(stream.size());
    for (size_t i = 0; i < stream.size(); ++i) {
      const Insn& in = stream[i];
      std::string problem = encodingProblem(config.layout(), in);
      if (!problem.empty()) fail(FaultKind::kBadInsn, i, problem);
      if (in.opcode == Opcode::kLoad || in.opcode == Opcode::kStore) {
        const MemTypeSpec& mt = spec.memType(in.memory_type);
        std::optional<Module> mod = in.opcode == Opcode::kLoad ? mt.load_module : mt.store_module;
        if (!mod)
          fail(FaultKind::kBadInsn, i,
               std::string(name(in.opcode)) + " cannot move memory type " + mt.name);
        module_of[i] = *mod;
      } else {
        module_of[i] = *spec.opcode(in.opcode).module;
      }
      for (int f = 0; f < 4; ++f)
        if (flag(in, f) && queue_of[static_cast<int>(module_of[i])][f] < 0)
          fail(FaultKind::kTokenFlag, i,
               std::string(name(kFlags[f])) + " is set, but no token queue of the " +
                   std::string(name(module_of[i])) + " module goes with it");
      if (in.opcode == Opcode::kStore && (in.y_pad_0 || in.y_pad_1 || in.x_pad_0 || in.x_pad_1))
        fail(FaultKind::kBadInsn, i, "STORE takes no padding");
      if (in.opcode == Opcode::kGemm || in.opcode == Opcode::kAlu) {
        if (in.uop_begin > in.uop_end)
          fail(FaultKind::kBadInsn, i,
               "uop_begin " + std::to_string(in.uop_begin) + " is after uop_end " +
                   std::to_string(in.uop_end));
        if (in.uop_end > p.uop_depth)
          fail(FaultKind::kSramRange, i,
               "uop_end " + std::to_string(in.uop_end) + " is past the uop buffer (" +
                   std::to_string(p.uop_depth) + " micro-ops)");
      }
      if (in.opcode == Opcode::kFinish && i + 1 < stream.size())
        fail(FaultKind::kStream, i + 1,
             "follows FINISH (instruction " + std::to_string(i) + "), which must be last");
      total[execIndex(module_of[i])]++;
    }
    if (stream.back().opcode != Opcode::kFinish)
      fail(FaultKind::kStream, stream.size() - 1,
           "the stream ends here without FINISH, so the accelerator would never be done");
  }

  // --- Race checks --------------------------------------------------------------------

  std::string insnAt(int exec, uint32_t epoch) const { return at(insn_at_epoch[exec][epoch - 1]); }

  template <typename Describe>
  void read(Access& a, const Describe& what) {
    if (a.write_epoch && a.writer != cur_exec && clock[cur_exec][a.writer] < a.write_epoch)
      race(what(), a.writer, a.write_epoch, "writes", "reads");
    a.read_epoch[cur_exec] = cur_epoch;
  }

  template <typename Describe>
  void write(Access& a, const Describe& what) {
    if (a.write_epoch && a.writer != cur_exec && clock[cur_exec][a.writer] < a.write_epoch)
      race(what(), a.writer, a.write_epoch, "writes", "writes");
    for (int o = 0; o < kExec; ++o)
      if (o != cur_exec && a.read_epoch[o] > clock[cur_exec][o])
        race(what(), o, a.read_epoch[o], "reads", "writes");
    a.writer = static_cast<uint8_t>(cur_exec);
    a.write_epoch = cur_epoch;
  }

  [[noreturn]] void race(const std::string& what, int other, uint32_t epoch, const char* other_does,
                         const char* this_does) const {
    fail(FaultKind::kRace, cur,
         "race on " + what + ": " + insnAt(other, epoch) + " " + other_does +
             " it and this instruction " + this_does +
             " it, but no chain of dependency tokens orders the two");
  }

  Access& dramAccess(size_t g) {
    auto& page = dram_pages[g / kPageGranules];
    if (!page) page = std::make_unique<Access[]>(kPageGranules);
    return page[g % kPageGranules];
  }

  void touchDram(uint64_t byte, uint64_t bytes, bool is_write) {
    auto what = [&] { return "DRAM bytes " + hex(byte) + ".." + hex(byte + bytes - 1); };
    for (uint64_t g = byte / granule; g < (byte + bytes) / granule; ++g) {
      if (is_write)
        write(dramAccess(g), what);
      else
        read(dramAccess(g), what);
    }
  }

  static auto entry(const char* buffer, int64_t index) {
    return [=] { return std::string(buffer) + "[" + std::to_string(index) + "]"; };
  }

  // --- Instructions ------------------------------------------------------------------

  void checkDram(const Insn& in, int64_t elem_bytes, const char* verb) const {
    if (in.y_size == 0 || in.x_size == 0) return;
    uint64_t first = in.dram_base;
    uint64_t last = first + uint64_t{in.y_size - 1} * in.x_stride + in.x_size - 1;
    uint64_t end = (last + 1) * static_cast<uint64_t>(elem_bytes);
    if (end > m.dram_.size())
      fail(FaultKind::kDramRange, cur,
           std::string(verb) + " DRAM bytes " + hex(first * elem_bytes) + ".." + hex(end - 1) +
               " (elements " + std::to_string(first) + ".." + std::to_string(last) + " of " +
               std::to_string(elem_bytes) + " bytes), but DRAM has " +
               std::to_string(m.dram_.size()) + " bytes");
  }

  void writeAcc(int64_t index, const int32_t* values) {
    int n = p.batch * p.block_out;
    write(acc_access[index], entry("acc", index));
    write(out_access[index], entry("out", index));
    for (int e = 0; e < n; ++e) {
      int32_t v = values ? values[e] : 0;
      m.acc_[index * n + e] = v;
      m.out_[index * n + e] = static_cast<int8_t>(v);
    }
  }

  void load(const Insn& in) {
    MemType mt = in.memory_type;
    const std::string& buffer = config.spec().memType(mt).buffer;
    int64_t elem = config.elementBytes(mt);
    int64_t cols = int64_t{in.x_pad_0} + in.x_size + in.x_pad_1;
    int64_t rows = int64_t{in.y_pad_0} + in.y_size + in.y_pad_1;
    int64_t end = in.sram_base + rows * cols;
    int64_t depth = config.bufferDepth(mt);
    if (end > depth)
      fail(FaultKind::kSramRange, cur,
           "writes " + buffer + " entries " + std::to_string(in.sram_base) + ".." +
               std::to_string(end - 1) + " (" + std::to_string(rows) + " x " +
               std::to_string(cols) + " with padding), but the " + buffer + " buffer has " +
               std::to_string(depth));
    checkDram(in, elem, "reads");
    int acc_elems = p.batch * p.block_out;
    std::vector<int32_t> widened(acc_elems);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        int64_t index = in.sram_base + r * cols + c;
        int64_t y = r - in.y_pad_0, x = c - in.x_pad_0;
        const uint8_t* src = nullptr;
        if (y >= 0 && y < in.y_size && x >= 0 && x < in.x_size) {
          uint64_t byte = (uint64_t{in.dram_base} + y * in.x_stride + x) * elem;
          touchDram(byte, elem, false);
          src = &m.dram_[byte];
        }
        switch (mt) {
          case MemType::kUop: {
            uint64_t word = 0;
            for (int64_t b = 0; src && b < elem; ++b) word |= uint64_t{src[b]} << (8 * b);
            write(uop_access[index], entry("uop", index));
            try {
              m.uop_[index] = decodeUop(config.layout(), word);
            } catch (const Error& e) {
              fail(FaultKind::kBadInsn, cur, std::string("loads a bad ") + e.what());
            }
            break;
          }
          case MemType::kInp:
          case MemType::kWgt: {
            auto& data = mt == MemType::kInp ? m.inp_ : m.wgt_;
            auto& access = mt == MemType::kInp ? inp_access : wgt_access;
            write(access[index], entry(buffer.c_str(), index));
            if (src)
              std::memcpy(&data[index * elem], src, elem);
            else
              std::memset(&data[index * elem], 0, elem);
            break;
          }
          case MemType::kAcc:
          case MemType::kAcc8:
            for (int e = 0; src && e < acc_elems; ++e)
              widened[e] = mt == MemType::kAcc
                               ? static_cast<int32_t>(loadLe32(src + 4 * static_cast<size_t>(e)))
                               : static_cast<int8_t>(src[e]);
            writeAcc(index, src ? widened.data() : nullptr);
            break;
          case MemType::kOut:
            break;  // refused by checkStatically
        }
      }
    }
    stats.modules[static_cast<int>(module_of[cur])].dma_read_bytes +=
        uint64_t{in.y_size} * in.x_size * elem;
  }

  void store(const Insn& in) {
    int64_t elem = config.elementBytes(in.memory_type);
    int64_t end = in.sram_base + int64_t{in.y_size} * in.x_size;
    if (end > p.acc_depth)
      fail(FaultKind::kSramRange, cur,
           "reads out entries " + std::to_string(in.sram_base) + ".." + std::to_string(end - 1) +
               ", but the out buffer has " + std::to_string(p.acc_depth));
    checkDram(in, elem, "writes");
    for (int64_t y = 0; y < in.y_size; ++y) {
      for (int64_t x = 0; x < in.x_size; ++x) {
        int64_t index = in.sram_base + y * in.x_size + x;
        read(out_access[index], entry("out", index));
        uint64_t byte = (uint64_t{in.dram_base} + y * in.x_stride + x) * elem;
        touchDram(byte, elem, true);
        std::memcpy(&m.dram_[byte], &m.out_[index * elem], elem);
      }
    }
    stats.modules[static_cast<int>(module_of[cur])].dma_write_bytes +=
        uint64_t{in.y_size} * in.x_size * elem;
  }

  int64_t checkIndex(int64_t index, int64_t depth, const char* buffer, uint32_t u, uint32_t i0,
                     uint32_t i1) const {
    if (index >= depth)
      fail(FaultKind::kSramRange, cur,
           "micro-op " + std::to_string(u) + " at iteration (" + std::to_string(i0) + ", " +
               std::to_string(i1) + ") addresses " + buffer + "[" + std::to_string(index) +
               "], outside the " + buffer + " buffer (" + std::to_string(depth) + " entries)");
    return index;
  }

  void gemm(const Insn& in) {
    const int bi = p.block_in, bo = p.block_out, acc_elems = p.batch * bo;
    std::vector<int32_t> tile(acc_elems);
    for (uint32_t i0 = 0; i0 < in.iter_out; ++i0) {
      for (uint32_t i1 = 0; i1 < in.iter_in; ++i1) {
        for (uint32_t u = in.uop_begin; u < in.uop_end; ++u) {
          read(uop_access[u], entry("uop", u));
          const Uop& op = m.uop_[u];
          int64_t a = checkIndex(
              op.acc_idx + int64_t{i0} * in.acc_factor_out + int64_t{i1} * in.acc_factor_in,
              p.acc_depth, "acc", u, i0, i1);
          stats.gemm_uops++;
          if (in.reset) {
            writeAcc(a, nullptr);
            continue;
          }
          int64_t x = checkIndex(
              op.inp_idx + int64_t{i0} * in.inp_factor_out + int64_t{i1} * in.inp_factor_in,
              p.inp_depth, "inp", u, i0, i1);
          int64_t w = checkIndex(
              op.wgt_idx + int64_t{i0} * in.wgt_factor_out + int64_t{i1} * in.wgt_factor_in,
              p.wgt_depth, "wgt", u, i0, i1);
          read(inp_access[x], entry("inp", x));
          read(wgt_access[w], entry("wgt", w));
          read(acc_access[a], entry("acc", a));
          const int8_t* inp = &m.inp_[x * p.batch * bi];
          const int8_t* wgt = &m.wgt_[w * bo * bi];
          gemmTile(inp, wgt, &m.acc_[a * acc_elems], tile.data(), p.batch, bi, bo);
          writeAcc(a, tile.data());
        }
      }
    }
  }

  void alu(const Insn& in) {
    const int acc_elems = p.batch * p.block_out;
    const bool binary = in.alu_op != AluOp::kMac && in.alu_op != AluOp::kRequant;
    const bool reads_src = !binary || !in.use_imm;
    const bool reads_aux = !binary && !in.use_imm;
    std::vector<int32_t> tile(acc_elems);
    for (uint32_t i0 = 0; i0 < in.iter_out; ++i0) {
      for (uint32_t i1 = 0; i1 < in.iter_in; ++i1) {
        for (uint32_t u = in.uop_begin; u < in.uop_end; ++u) {
          read(uop_access[u], entry("uop", u));
          const Uop& op = m.uop_[u];
          int64_t d = checkIndex(
              op.acc_idx + int64_t{i0} * in.acc_factor_out + int64_t{i1} * in.acc_factor_in,
              p.acc_depth, "acc", u, i0, i1);
          stats.alu_uops++;
          if (in.reset) {
            writeAcc(d, nullptr);
            continue;
          }
          int64_t s = d, x = d;
          if (reads_src) {
            s = checkIndex(
                op.inp_idx + int64_t{i0} * in.inp_factor_out + int64_t{i1} * in.inp_factor_in,
                p.acc_depth, "acc", u, i0, i1);
            read(acc_access[s], entry("acc", s));
          }
          if (reads_aux) {
            x = checkIndex(op.wgt_idx, p.acc_depth, "acc", u, i0, i1);
            read(acc_access[x], entry("acc", x));
          }
          read(acc_access[d], entry("acc", d));
          const int32_t* dst = &m.acc_[d * acc_elems];
          const int32_t* src = &m.acc_[s * acc_elems];
          const int32_t* aux = &m.acc_[x * acc_elems];
          for (int e = 0; e < acc_elems; ++e)
            tile[e] = applyAlu(in.alu_op, dst[e], src[e], aux[e], in.use_imm, in.imm, p.out_width);
          writeAcc(d, tile.data());
        }
      }
    }
  }

  void finish() {
    for (int e : {execIndex(Module::kLoad), execIndex(Module::kStore)}) {
      if (clock[cur_exec][e] < total[e]) {
        size_t pending = 0, seen = 0;
        for (size_t i = 0; i < stream.size(); ++i)
          if (execIndex(module_of[i]) == e && seen++ == clock[cur_exec][e]) pending = i;
        fail(FaultKind::kRace, cur,
             "is not ordered after " + at(pending) +
                 " by dependency tokens, so DONE could rise before it completes");
      }
    }
  }

  // --- Scheduling ----------------------------------------------------------------------

  // Why the instruction at the head of a module cannot start now, or "" if it can.
  std::string blockedReason(size_t i) const {
    const Insn& in = stream[i];
    int mod = static_cast<int>(module_of[i]);
    for (int f = 0; f < 4; ++f) {
      if (!flag(in, f)) continue;
      const std::deque<Token>& q = tokens[queue_of[mod][f]];
      const std::string& qname = config.spec().token_queues[queue_of[mod][f]].name;
      bool is_pop = f < 2;
      if (is_pop && q.empty()) return "to pop a token from " + qname + ", which is empty";
      if (!is_pop && static_cast<int64_t>(q.size()) >= p.token_queue_depth)
        return "for room to push to " + qname + ", which is full (" +
               std::to_string(p.token_queue_depth) + " tokens)";
    }
    return "";
  }

  void execute(size_t i) {
    const Insn& in = stream[i];
    cur = i;
    cur_exec = execIndex(module_of[i]);
    int mod = static_cast<int>(module_of[i]);
    Clock& vc = clock[cur_exec];
    for (int f = 0; f < 2; ++f) {
      if (!flag(in, f)) continue;
      std::deque<Token>& q = tokens[queue_of[mod][f]];
      for (int k = 0; k < kExec; ++k) vc[k] = std::max(vc[k], q.front().clock[k]);
      q.pop_front();
    }
    cur_epoch = ++vc[cur_exec];
    insn_at_epoch[cur_exec].push_back(i);
    switch (in.opcode) {
      case Opcode::kLoad:
        load(in);
        break;
      case Opcode::kStore:
        store(in);
        break;
      case Opcode::kGemm:
        gemm(in);
        break;
      case Opcode::kAlu:
        alu(in);
        break;
      case Opcode::kFinish:
        finish();
        break;
    }
    stats.modules[mod].insns++;
    for (int f = 2; f < 4; ++f)
      if (flag(in, f)) tokens[queue_of[mod][f]].push_back({vc, i});
  }

  void run() {
    checkStatically();
    size_t fetched = 0;
    for (;;) {
      bool progress = false;
      while (fetched < stream.size()) {
        auto& queue = commands[execIndex(module_of[fetched])];
        if (static_cast<int64_t>(queue.size()) >= p.insn_queue_depth) break;
        queue.push_back(fetched++);
        progress = true;
      }
      for (auto& queue : commands) {
        while (!queue.empty() && blockedReason(queue.front()).empty()) {
          execute(queue.front());
          queue.pop_front();
          progress = true;
        }
      }
      bool idle =
          std::all_of(commands.begin(), commands.end(), [](const auto& q) { return q.empty(); });
      if (idle && fetched == stream.size()) break;
      if (!progress) deadlock(fetched);
    }
    finishRun();
  }

  // The checks and statistics at the end of a run.
  void finishRun() {
    for (size_t q = 0; q < tokens.size(); ++q)
      if (!tokens[q].empty())
        fail(FaultKind::kStream, tokens[q].front().insn,
             "pushes a token to " + config.spec().token_queues[q].name +
                 " that no instruction pops; it would be left for the next run");
    stats.modules[static_cast<int>(Module::kFetch)].insns = stream.size();
    stats.modules[static_cast<int>(Module::kFetch)].dma_read_bytes =
        stream.size() * config.layout().insnBytes();
  }

  [[noreturn]] void deadlock(size_t fetched) const {
    std::vector<std::string> waits;
    size_t first = SIZE_MAX;
    for (int e = 0; e < kExec; ++e) {
      if (commands[e].empty()) continue;
      size_t i = commands[e].front();
      first = std::min(first, i);
      waits.push_back(std::string(name(execModule(e))) + " waits at " + at(i) + " " +
                      blockedReason(i));
    }
    if (fetched < stream.size())
      waits.push_back("fetch waits to dispatch " + at(fetched) + " because the " +
                      std::string(name(module_of[fetched])) + " command queue is full (" +
                      std::to_string(p.insn_queue_depth) + " instructions)");
    fail(FaultKind::kDeadlock, first, "deadlock, no module can proceed: " + join(waits, "; "));
  }
};

Machine::Machine(Config config, size_t dram_bytes) : config_(std::move(config)), dram_(dram_bytes) {
  const Params& p = config_.params();
  if (p.inp_width != 8 || p.wgt_width != 8 || p.acc_width != 32 || p.out_width != 8)
    throw Error("config " + config_.name() +
                ": the reference implements int8 x int8 -> int32 "
                "with int8 outputs only");
  inp_.resize(p.inp_depth * p.batch * p.block_in);
  wgt_.resize(p.wgt_depth * p.block_out * p.block_in);
  acc_.resize(p.acc_depth * p.batch * p.block_out);
  out_.resize(p.acc_depth * p.batch * p.block_out);
  uop_.resize(p.uop_depth);
}

Machine::~Machine() = default;
Machine::Machine(Machine&&) noexcept = default;
Machine& Machine::operator=(Machine&&) noexcept = default;

Expected<RunStats> Machine::run(std::span<const Insn> stream) {
  fault_.reset();
  try {
    Execution e(*this, stream);
    e.run();
    return e.stats;
  } catch (const FaultThrown& f) {
    fault_ = f.fault;
    return Error(f.fault.message);
  }
}

Machine::Stepper::Stepper(Machine& machine, std::span<const Insn> stream)
    : m_(machine), e_(std::make_unique<Execution>(machine, stream)) {
  m_.fault_.reset();
}

Machine::Stepper::~Stepper() = default;

// Runs one step of the execution, recording a fault it raises.
template <typename Fn>
static bool step(std::optional<Fault>& fault, Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const FaultThrown& f) {
    fault = f.fault;
    return false;
  }
}

bool Machine::Stepper::check() {
  return step(m_.fault_, [&] { e_->checkStatically(); });
}

Module Machine::Stepper::moduleOf(size_t i) const {
  return e_->module_of[i];
}

void Machine::Stepper::dispatch(size_t i) {
  e_->commands[execIndex(e_->module_of[i])].push_back(i);
  fetched_ = i + 1;
}

bool Machine::Stepper::execute(size_t i) {
  return step(m_.fault_, [&] {
    e_->execute(i);
    e_->commands[execIndex(e_->module_of[i])].pop_front();
  });
}

void Machine::Stepper::deadlock() {
  step(m_.fault_, [&] { e_->deadlock(fetched_); });
}

Expected<RunStats> Machine::Stepper::finish() {
  if (!step(m_.fault_, [&] { e_->finishRun(); })) return error();
  return e_->stats;
}

Error Machine::Stepper::error() const {
  return Error(m_.fault_ ? m_.fault_->message : "no fault");
}

Expected<RunStats> Machine::run(std::span<const uint8_t> stream) {
  fault_.reset();
  const Layout& layout = config_.layout();
  size_t n = static_cast<size_t>(layout.insnBytes());
  std::vector<Insn> insns;
  for (size_t i = 0; i * n < stream.size(); ++i) {
    if (stream.size() - i * n < n) {
      fault_ = Fault{FaultKind::kBadInsn, i,
                     "instruction " + std::to_string(i) + " is cut short: the stream is " +
                         std::to_string(stream.size()) + " bytes, not a multiple of " +
                         std::to_string(n)};
      return Error(fault_->message);
    }
    try {
      insns.push_back(decode(layout, stream.subspan(i * n, n)));
    } catch (const Error& e) {
      fault_ = Fault{FaultKind::kBadInsn, i, "instruction " + std::to_string(i) + ": " + e.what()};
      return Error(fault_->message);
    }
  }
  return run(std::span<const Insn>(insns));
}

}  // namespace kiln::accel
