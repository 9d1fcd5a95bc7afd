// The cycle-level model's SystemC processes: fetch, load, compute and store, their command
// and token queues, the DRAM port and the GEMM and ALU pipelines (see cycle_model.h).
//
// One SystemC module (Engine) is elaborated once per process; each run hands it a Job and
// calls sc_start() until no event is left. Every process waits on events or for computed
// durations only (no clock), so a run costs a few context switches per instruction. Each
// instruction is executed functionally by the reference's Stepper at the moment its module
// starts it; tokens order those moments exactly as they order the hardware's accesses.
#include "kiln/sim/cycle_model.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <systemc>

namespace kiln::sim {

using accel::AluOp;
using accel::Insn;
using accel::MemType;
using accel::Module;
using accel::Opcode;

namespace {

enum Counter : int {
  kCycles,
  kFetchInsns,
  kFetchStallQueue,
  kFetchDmaBytes,
  kLoadInsns,
  kLoadBusy,
  kLoadStallToken,
  kLoadStallPush,
  kLoadStallCmd,
  kLoadStallDram,
  kLoadDmaBytes,
  kComputeInsns,
  kComputeBusyGemm,
  kComputeBusyAlu,
  kComputeBusyLoad,
  kComputeStallLoadToken,
  kComputeStallStoreToken,
  kComputeStallPush,
  kComputeStallCmd,
  kComputeStallDram,
  kComputeGemmUops,
  kComputeAluUops,
  kComputeDmaBytes,
  kStoreInsns,
  kStoreBusy,
  kStoreStallToken,
  kStoreStallPush,
  kStoreStallCmd,
  kStoreStallDram,
  kStoreDmaBytes,
  kNumCounters
};

constexpr std::array<std::string_view, kNumCounters> kCounterNames = {
    "CYCLES",
    "FETCH_INSNS",
    "FETCH_STALL_QUEUE",
    "FETCH_DMA_BYTES",
    "LOAD_INSNS",
    "LOAD_BUSY",
    "LOAD_STALL_TOKEN",
    "LOAD_STALL_PUSH",
    "LOAD_STALL_CMD",
    "LOAD_STALL_DRAM",
    "LOAD_DMA_BYTES",
    "COMPUTE_INSNS",
    "COMPUTE_BUSY_GEMM",
    "COMPUTE_BUSY_ALU",
    "COMPUTE_BUSY_LOAD",
    "COMPUTE_STALL_LOAD_TOKEN",
    "COMPUTE_STALL_STORE_TOKEN",
    "COMPUTE_STALL_PUSH",
    "COMPUTE_STALL_CMD",
    "COMPUTE_STALL_DRAM",
    "COMPUTE_GEMM_UOPS",
    "COMPUTE_ALU_UOPS",
    "COMPUTE_DMA_BYTES",
    "STORE_INSNS",
    "STORE_BUSY",
    "STORE_STALL_TOKEN",
    "STORE_STALL_PUSH",
    "STORE_STALL_CMD",
    "STORE_STALL_DRAM",
    "STORE_DMA_BYTES",
};

// Per executing module (load, compute, store): the counters its events go to.
struct ModuleCounters {
  Counter insns, stall_cmd, stall_push, stall_dram, dma_bytes;
  Counter stall_pop_prev, stall_pop_next;  // waiting on the queue that pop_prev / pop_next name
};
ModuleCounters countersOf(Module m) {
  switch (m) {
    case Module::kLoad:
      return {kLoadInsns,    kLoadStallCmd,   kLoadStallPush, kLoadStallDram,
              kLoadDmaBytes, kLoadStallToken, kLoadStallToken};
    case Module::kCompute:
      return {kComputeInsns,    kComputeStallCmd,       kComputeStallPush,      kComputeStallDram,
              kComputeDmaBytes, kComputeStallLoadToken, kComputeStallStoreToken};
    default:
      return {kStoreInsns,    kStoreStallCmd,   kStoreStallPush, kStoreStallDram,
              kStoreDmaBytes, kStoreStallToken, kStoreStallToken};
  }
}

// The spec's timing values (hw/spec/accel.yaml, `timing`), read once per run.
struct Timing {
  uint64_t issue, token, gemm_ii, gemm_depth, alu_read, alu_depth, sram_write, sram_read;
  uint64_t fetch_burst, watchdog;

  explicit Timing(const accel::Spec& s)
      : issue(s.timingValue("issue_cycles")),
        token(s.timingValue("token_cycles")),
        gemm_ii(s.timingValue("gemm_ii")),
        gemm_depth(s.timingValue("gemm_depth")),
        alu_read(s.timingValue("alu_read_cycles")),
        alu_depth(s.timingValue("alu_depth")),
        sram_write(s.timingValue("sram_write_cycles")),
        sram_read(s.timingValue("sram_read_cycles")),
        fetch_burst(std::max<int64_t>(1, s.timingValue("fetch_burst"))),
        watchdog(s.timingValue("watchdog_cycles")) {}
};

// The token flags, indexed as the tables below: pop_prev, pop_next, push_prev, push_next.
bool flag(const Insn& in, int f) {
  switch (f) {
    case 0:
      return in.pop_prev;
    case 1:
      return in.pop_next;
    case 2:
      return in.push_prev;
    default:
      return in.push_next;
  }
}
constexpr std::array<accel::InsnField, 4> kFlagFields = {
    accel::InsnField::kPopPrev, accel::InsnField::kPopNext, accel::InsnField::kPushPrev,
    accel::InsnField::kPushNext};

// Everything one run needs.
struct Job {
  accel::Machine::Stepper* stepper = nullptr;
  std::span<const Insn> stream;
  const accel::Config* config = nullptr;
  Timing timing;
  uint64_t latency = 0, bytes_per_cycle = 1;
  std::vector<CycleModel::TraceEvent>* trace = nullptr;
  std::array<std::array<int, 4>, accel::kNumModules> queue_of{};  // [module][flag]
  std::array<size_t, accel::kNumModules> insns_of{};              // instructions per module
};

struct Abort {};  // unwinds a process when the run stops on a fault

struct CommandQueue {
  std::deque<std::pair<size_t, uint64_t>> entries;  // instruction, cycle it becomes visible
  sc_core::sc_event pushed, popped;
};

struct TokenQueue {
  std::deque<uint64_t> visible;  // the cycle each token can be popped from
  sc_core::sc_event pushed, popped;
};

// The AXI port: one read and one write data channel shared by every module. A transfer
// waits for the latency and for the channel; its rows are bursts of whole beats.
struct Channel {
  uint64_t free = 0;  // the cycle the data channel is next free
};

class Engine : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Engine);

  explicit Engine(const sc_core::sc_module_name& n) : sc_core::sc_module(n) {
    unit_ = sc_core::sc_time(1, sc_core::SC_NS).value();
    SC_THREAD(fetchThread);
    set_stack_size(kStackBytes);
    SC_THREAD(loadThread);
    set_stack_size(kStackBytes);
    SC_THREAD(computeThread);
    set_stack_size(kStackBytes);
    SC_THREAD(storeThread);
    set_stack_size(kStackBytes);
  }

  struct Outcome {
    bool finished = false;  // FINISH executed
    bool faulted = false;   // the stepper recorded a fault
    uint64_t last_progress = 0;
    std::array<uint64_t, kNumCounters> counters{};
  };

  Outcome run(Job& job) {
    job_ = &job;
    out_ = Outcome{};
    aborted_ = false;
    rd_ = wr_ = Channel{};
    drain_at_ = 0;
    pipe_ = Opcode::kFinish;
    for (auto& q : commands_) q.entries.clear();
    for (auto& q : tokens_) q.visible.clear();
    t0_ = sc_core::sc_time_stamp().value() / unit_;
    running_ = 4;
    ++generation_;
    start_.notify(sc_core::SC_ZERO_TIME);
    sc_core::sc_start();
    if (running_ > 0) {
      // Deadlocked: every process waits on an event nobody will notify. Unwind them.
      abortAll();
      sc_core::sc_start();
    }
    job_ = nullptr;
    return out_;
  }

 private:
  static constexpr size_t kStackBytes = 1 << 20;

  // --- Time and waiting ----------------------------------------------------------------

  uint64_t now() const { return sc_core::sc_time_stamp().value() / unit_ - t0_; }
  sc_core::sc_time cycles(uint64_t n) const {
    return sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(n * unit_));
  }
  void check() const {
    if (aborted_) throw Abort{};
  }
  void sleepUntil(uint64_t t) {
    uint64_t n = now();
    if (t > n) wait(cycles(t - n));
    check();
  }
  void waitOn(sc_core::sc_event& e) {
    wait(e);
    check();
  }
  void progress() { out_.last_progress = now(); }

  void abortAll() {
    aborted_ = true;
    for (auto& q : commands_) {
      q.pushed.notify(sc_core::SC_ZERO_TIME);
      q.popped.notify(sc_core::SC_ZERO_TIME);
    }
    for (auto& q : tokens_) {
      q.pushed.notify(sc_core::SC_ZERO_TIME);
      q.popped.notify(sc_core::SC_ZERO_TIME);
    }
  }

  [[noreturn]] void fault() {
    out_.faulted = true;
    abortAll();
    throw Abort{};
  }

  void add(Counter c, uint64_t v) { out_.counters[c] += v; }

  void traceEvent(Module m, std::string name, uint64_t start, uint64_t end, bool stall) {
    if (job_->trace && end > start)
      job_->trace->push_back({static_cast<int>(m), std::move(name), start, end - start, stall});
  }

  // --- DRAM ----------------------------------------------------------------------------

  uint64_t beats(uint64_t rows, uint64_t row_bytes) const {
    return rows * ((row_bytes + job_->bytes_per_cycle - 1) / job_->bytes_per_cycle);
  }
  // Reads `rows` bursts of row_bytes requested at cycle t; returns when the last data beat
  // has arrived.
  uint64_t dramRead(uint64_t t, uint64_t rows, uint64_t row_bytes) {
    if (rows == 0 || row_bytes == 0) return t;
    uint64_t start = std::max(t + job_->latency, rd_.free);
    rd_.free = start + beats(rows, row_bytes);
    return rd_.free;
  }
  // Writes bursts whose data is ready from cycle t; returns when the write is acknowledged.
  uint64_t dramWrite(uint64_t t, uint64_t rows, uint64_t row_bytes) {
    if (rows == 0 || row_bytes == 0) return t;
    uint64_t start = std::max(t, wr_.free);
    wr_.free = start + beats(rows, row_bytes);
    return wr_.free + job_->latency;
  }

  // --- Processes -----------------------------------------------------------------------

  // Waits for the next run; each process body returns (or unwinds) when its part is done.
  template <typename Body>
  void serve(Body body) {
    uint64_t seen = 0;
    for (;;) {
      while (generation_ == seen) wait(start_);
      seen = generation_;
      try {
        body();
      } catch (const Abort&) {
      }
      --running_;
    }
  }

  void fetchThread() {
    serve([this] { fetch(); });
  }
  void loadThread() {
    serve([this] { execute(Module::kLoad); });
  }
  void computeThread() {
    serve([this] { execute(Module::kCompute); });
  }
  void storeThread() {
    serve([this] { execute(Module::kStore); });
  }

  CommandQueue& commandQueue(Module m) { return commands_[static_cast<int>(m)]; }

  void fetch() {
    const Job& j = *job_;
    const size_t n = j.stream.size();
    const uint64_t insn_bytes = static_cast<uint64_t>(j.config->layout().insnBytes());
    const auto depth = static_cast<size_t>(j.config->params().insn_queue_depth);
    auto burstEnd = [&](size_t first) { return std::min<size_t>(first + j.timing.fetch_burst, n); };
    add(kFetchDmaBytes, n * insn_bytes);
    size_t next = 0;
    uint64_t arrival = dramRead(now() + j.timing.issue, 1, (burstEnd(0) - 0) * insn_bytes);
    while (next < n) {
      sleepUntil(arrival);
      size_t end = burstEnd(next);
      if (end < n) arrival = dramRead(now(), 1, (burstEnd(end) - end) * insn_bytes);
      uint64_t cursor = now();
      for (size_t i = next; i < end; ++i) {
        Module m = j.stepper->moduleOf(i);
        CommandQueue& q = commandQueue(m);
        if (q.entries.size() >= depth) {
          sleepUntil(cursor);
          uint64_t t = now();
          while (q.entries.size() >= depth) waitOn(q.popped);
          add(kFetchStallQueue, now() - t);
          traceEvent(Module::kFetch, "wait: " + std::string(accel::name(m)) + " command queue full",
                     t, now(), true);
          cursor = now();
        }
        q.entries.emplace_back(i, cursor);
        j.stepper->dispatch(i);
        q.pushed.notify();
        ++cursor;
        add(kFetchInsns, 1);
      }
      sleepUntil(cursor);
      progress();
      next = end;
    }
  }

  // Waits until instruction `in` may start: its tokens to pop are visible and the queues it
  // pushes to have room (the room is then reserved: this module is their only producer).
  void waitTokens(Module m, const Insn& in, const ModuleCounters& c) {
    const Job& j = *job_;
    const auto depth = static_cast<size_t>(j.config->params().token_queue_depth);
    for (;;) {
      bool ready = true;
      for (int f = 0; f < 4 && ready; ++f) {
        if (!flag(in, f)) continue;
        int qi = j.queue_of[static_cast<int>(m)][f];
        TokenQueue& q = tokens_[qi];
        uint64_t t = now();
        bool pop = f < 2;
        if (pop && q.visible.empty()) {
          waitOn(q.pushed);
        } else if (pop && q.visible.front() > t) {
          sleepUntil(q.visible.front());
        } else if (!pop && q.visible.size() >= depth) {
          waitOn(q.popped);
        } else {
          continue;
        }
        ready = false;
        add(pop ? (f == 0 ? c.stall_pop_prev : c.stall_pop_next) : c.stall_push, now() - t);
        traceEvent(m,
                   "wait: " + std::string(pop ? "pop " : "room in ") +
                       j.config->spec().token_queues[qi].name,
                   t, now(), true);
      }
      if (ready) return;
    }
  }

  void execute(Module m) {
    const Job& j = *job_;
    const ModuleCounters c = countersOf(m);
    CommandQueue& cq = commandQueue(m);
    for (size_t k = 0; k < j.insns_of[static_cast<int>(m)]; ++k) {
      uint64_t t = now();
      for (;;) {
        if (cq.entries.empty()) {
          waitOn(cq.pushed);
        } else if (cq.entries.front().second > now()) {
          sleepUntil(cq.entries.front().second);
        } else {
          break;
        }
      }
      add(c.stall_cmd, now() - t);
      size_t i = cq.entries.front().first;
      const Insn& in = j.stream[i];
      waitTokens(m, in, c);

      // Start: take the command and the tokens, and apply the instruction.
      cq.entries.pop_front();
      cq.popped.notify();
      for (int f = 0; f < 2; ++f) {
        if (!flag(in, f)) continue;
        TokenQueue& q = tokens_[j.queue_of[static_cast<int>(m)][f]];
        q.visible.pop_front();
        q.popped.notify();
      }
      progress();
      if (!j.stepper->execute(i)) fault();
      uint64_t start = now();
      uint64_t end = timeOf(m, in, start, c);
      sleepUntil(end);
      add(c.insns, 1);
      if (j.trace)
        traceEvent(m, "#" + std::to_string(i) + " " + accel::describe(in), start, end, false);

      // Complete: push the tokens.
      for (int f = 2; f < 4; ++f) {
        if (!flag(in, f)) continue;
        TokenQueue& q = tokens_[j.queue_of[static_cast<int>(m)][f]];
        q.visible.push_back(end + j.timing.token);
        q.pushed.notify();
      }
      progress();
      if (in.opcode == Opcode::kFinish) {
        out_.finished = true;
        out_.counters[kCycles] = end;
      }
    }
  }

  // The cycle instruction `in`, started at `start`, completes; adds its busy and DRAM cycles.
  uint64_t timeOf(Module m, const Insn& in, uint64_t start, const ModuleCounters& c) {
    const Job& j = *job_;
    const Timing& tm = j.timing;
    const bool pushes = in.push_prev || in.push_next;
    uint64_t end = start;
    switch (in.opcode) {
      case Opcode::kLoad: {
        uint64_t t = start;
        if (m == Module::kCompute) t = std::max(t, drainPipe());
        uint64_t elem = static_cast<uint64_t>(j.config->elementBytes(in.memory_type));
        uint64_t issued = t + tm.issue;
        uint64_t data = dramRead(issued, in.y_size, uint64_t{in.x_size} * elem);
        uint64_t entries = (uint64_t{in.y_pad_0} + in.y_size + in.y_pad_1) *
                           (uint64_t{in.x_pad_0} + in.x_size + in.x_pad_1);
        uint64_t written = issued + entries * tm.sram_write;
        end = std::max(data, written);
        add(c.stall_dram, end - written);
        add(c.dma_bytes, uint64_t{in.y_size} * in.x_size * elem);
        add(m == Module::kCompute ? kComputeBusyLoad : kLoadBusy, end - start);
        break;
      }
      case Opcode::kStore: {
        uint64_t elem = static_cast<uint64_t>(j.config->elementBytes(in.memory_type));
        uint64_t issued = start + tm.issue;
        uint64_t read = issued + uint64_t{in.y_size} * in.x_size * tm.sram_read;
        uint64_t acked = dramWrite(issued + tm.sram_read, in.y_size, uint64_t{in.x_size} * elem);
        end = std::max(read, acked);
        add(c.stall_dram, end - read);
        add(c.dma_bytes, uint64_t{in.y_size} * in.x_size * elem);
        add(kStoreBusy, end - start);
        break;
      }
      case Opcode::kGemm:
      case Opcode::kAlu: {
        bool gemm = in.opcode == Opcode::kGemm;
        uint64_t t = start;
        if (pipe_ != in.opcode) t = std::max(t, drainPipe());
        uint64_t iterations = uint64_t{in.iter_out} * in.iter_in * (in.uop_end - in.uop_begin);
        uint64_t ii = tm.gemm_ii, depth = tm.gemm_depth;
        if (!gemm) {
          bool binary = in.alu_op != AluOp::kMac && in.alu_op != AluOp::kRequant;
          uint64_t reads = in.reset ? 1 : 1 + (binary ? !in.use_imm : 1) + (!binary && !in.use_imm);
          ii = std::max<uint64_t>(1, reads * tm.alu_read);
          depth = tm.alu_depth;
        }
        uint64_t issued = t + tm.issue + iterations * ii;
        pipe_ = in.opcode;
        drain_at_ = issued + depth;
        end = pushes ? drain_at_ : issued;
        add(gemm ? kComputeBusyGemm : kComputeBusyAlu, end - start);
        add(gemm ? kComputeGemmUops : kComputeAluUops, iterations);
        break;
      }
      case Opcode::kFinish:
        end = std::max(start, drainPipe()) + tm.issue;
        break;
    }
    return end;
  }

  // The cycle the compute pipeline has written its last result; it is then empty.
  uint64_t drainPipe() {
    pipe_ = Opcode::kFinish;
    return drain_at_;
  }

  Job* job_ = nullptr;
  Outcome out_;
  uint64_t unit_ = 1;  // sc_time value of one cycle
  uint64_t t0_ = 0;    // the run's first cycle
  uint64_t generation_ = 0;
  int running_ = 0;
  bool aborted_ = false;
  sc_core::sc_event start_;
  std::array<CommandQueue, accel::kNumModules> commands_;
  std::array<TokenQueue, 4> tokens_;
  Channel rd_, wr_;
  uint64_t drain_at_ = 0;
  Opcode pipe_ = Opcode::kFinish;  // the pipeline in use (kFinish: none)
};

std::mutex& engineMutex() {
  static std::mutex m;
  return m;
}

Engine& engine() {
  static Engine* e = [] {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return new Engine("kiln_accel");  // lives as long as the process, as SystemC requires
  }();
  return *e;
}

}  // namespace

uint64_t Stats::counter(std::string_view name) const {
  for (const auto& [n, v] : counters)
    if (n == name) return v;
  throw Error("no performance counter named " + std::string(name));
}

double Stats::gemmUtilization() const {
  return cycles ? static_cast<double>(functional.gemm_uops) / static_cast<double>(cycles) : 0.0;
}

CycleModel::CycleModel(accel::Config config, size_t dram_bytes, Options options)
    : machine_(std::move(config), dram_bytes), options_(options) {
  if (options_.dram_latency < 0) throw Error("the DRAM latency must not be negative");
  if (options_.dram_bytes_per_cycle < 0)
    throw Error("the DRAM bandwidth must be positive (or 0 for the config's AXI width)");
}

CycleModel::~CycleModel() = default;
CycleModel::CycleModel(CycleModel&&) noexcept = default;
CycleModel& CycleModel::operator=(CycleModel&&) noexcept = default;

Expected<Stats> CycleModel::run(std::span<const Insn> stream) {
  std::lock_guard<std::mutex> lock(engineMutex());
  trace_.clear();
  const accel::Config& config = machine_.config();
  accel::Machine::Stepper stepper(machine_, stream);
  if (!stepper.check()) return stepper.error();

  Job job{.stepper = &stepper,
          .stream = stream,
          .config = &config,
          .timing = Timing(config.spec()),
          .latency = static_cast<uint64_t>(options_.dram_latency),
          .bytes_per_cycle =
              static_cast<uint64_t>(options_.dram_bytes_per_cycle ? options_.dram_bytes_per_cycle
                                                                  : config.params().axi_width / 8),
          .trace = options_.trace ? &trace_ : nullptr};
  for (auto& row : job.queue_of) row.fill(-1);
  const auto& queues = config.spec().token_queues;
  for (size_t q = 0; q < queues.size(); ++q)
    for (int f = 0; f < 4; ++f) {
      if (kFlagFields[f] == queues[q].push) job.queue_of[static_cast<int>(queues[q].from)][f] = q;
      if (kFlagFields[f] == queues[q].pop) job.queue_of[static_cast<int>(queues[q].to)][f] = q;
    }
  for (size_t i = 0; i < stream.size(); ++i) job.insns_of[static_cast<int>(stepper.moduleOf(i))]++;

  Engine::Outcome out = engine().run(job);
  if (out.faulted) return stepper.error();
  if (!out.finished) {
    // Every module waits on another: the watchdog fires watchdog_cycles after the last
    // progress, and the run stops with the reference's account of the deadlock.
    stepper.deadlock();
    return stepper.error();
  }
  Expected<accel::RunStats> functional = stepper.finish();
  if (!functional) return functional.error();

  Stats stats;
  stats.cycles = out.counters[kCycles];
  stats.functional = *functional;
  stats.macs_per_cycle = static_cast<uint64_t>(config.value("macs_per_cycle"));
  stats.clock_mhz = config.value("clock_mhz");
  for (const accel::CounterSpec& c : config.spec().counters) {
    auto it = std::find(kCounterNames.begin(), kCounterNames.end(), c.name);
    if (it == kCounterNames.end())
      return Error("the spec's performance counter " + c.name +
                   " is not modelled; add it to sim/src/cycle_model.cpp");
    stats.counters.emplace_back(c.name, out.counters[it - kCounterNames.begin()]);
  }
  return stats;
}

}  // namespace kiln::sim

// libsystemc's main() calls sc_main; the model is driven through CycleModel instead, but the
// symbol must exist to link. A program with its own sc_main overrides this one.
extern "C" __attribute__((weak)) int sc_main(int, char**) {
  return 1;
}
