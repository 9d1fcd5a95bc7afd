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
  uint64_t issue, command, complete, token, gemm_ii, gemm_depth, alu_read, alu_depth;
  uint64_t sram_write, sram_read, dma_request, dma_element, dma_job_gap, dma_done, store_row;
  uint64_t fetch_burst, watchdog;

  explicit Timing(const accel::Spec& s)
      : issue(s.timingValue("issue_cycles")),
        command(s.timingValue("command_cycles")),
        complete(s.timingValue("complete_cycles")),
        token(s.timingValue("token_cycles")),
        gemm_ii(s.timingValue("gemm_ii")),
        gemm_depth(s.timingValue("gemm_depth")),
        alu_read(s.timingValue("alu_read_cycles")),
        alu_depth(s.timingValue("alu_depth")),
        sram_write(std::max<int64_t>(1, s.timingValue("sram_write_cycles"))),
        sram_read(s.timingValue("sram_read_cycles")),
        dma_request(s.timingValue("dma_request_cycles")),
        dma_element(s.timingValue("dma_element_cycles")),
        dma_job_gap(s.timingValue("dma_job_gap_cycles")),
        dma_done(s.timingValue("dma_done_cycles")),
        store_row(s.timingValue("store_row_cycles")),
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
  uint64_t empty_since = 0;  // while `entries` is empty: the cycle its module saw it empty
};

struct TokenQueue {
  std::deque<uint64_t> visible;  // the cycle each token can be popped from
  sc_core::sc_event pushed, popped;
};

// The AXI read data channel, shared by fetch, load and compute.
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
    SC_THREAD(dispatchThread);
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
    rd_ = Channel{};
    ar_free_ = 0;
    ar_last_ = 0;
    ar_pending_.clear();
    ar_tickets_ = ar_reserved_ = 0;
    fetched_.clear();
    dispatched_.clear();
    for (auto& q : commands_) {
      q.entries.clear();
      q.empty_since = 0;
    }
    for (auto& q : tokens_) q.visible.clear();
    t0_ = sc_core::sc_time_stamp().value() / unit_;
    running_ = 5;
    ++generation_;
    start_.notify(sc_core::SC_ZERO_TIME);
    sc_core::sc_start();
    if (running_ > 0) {
      // Deadlocked: every process waits on an event nobody will notify. Unwind them.
      abortAll();
      sc_core::sc_start();
    }
    // The queues left empty until the end count toward their module's STALL_CMD.
    const uint64_t end = out_.counters[kCycles];
    for (Module m : {Module::kLoad, Module::kCompute, Module::kStore}) {
      const CommandQueue& q = commands_[static_cast<int>(m)];
      if (out_.finished && q.entries.empty() && end > q.empty_since)
        add(countersOf(m).stall_cmd, end - q.empty_since);
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
    fetchedEvent_.notify(sc_core::SC_ZERO_TIME);
    dispatchedEvent_.notify(sc_core::SC_ZERO_TIME);
    ar_turn_.notify(sc_core::SC_ZERO_TIME);
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
  //
  // The AXI read port as the RTL's master and the DRAM see it: one burst address per
  // cycle (ar_), and one read data channel that returns the bursts' beats in the order of
  // their addresses, the first `latency` cycles after its address, one beat per cycle
  // (rd_). The write channels belong to the store module alone.

  uint64_t beatBytes() const { return job_->bytes_per_cycle; }
  uint64_t beatsOf(uint64_t first_byte, uint64_t bytes) const {
    if (bytes == 0) return 0;
    return (first_byte + bytes - 1) / beatBytes() - first_byte / beatBytes() + 1;
  }

  // A DMA job of read client `client` (fetch 0, load 1, compute 2, the RTL's ARIDs) started
  // at cycle t: its burst address goes out, and the cycle its first beat can arrive is
  // returned; the caller then reserves the data channel (`reserveRead`). Clients asking in
  // the same cycle are granted one per cycle in the RTL's round-robin order (the client after
  // the last one served first), and take the data channel in that order.
  uint64_t requestRead(uint64_t t, int client) {
    ArRequest r{client, t + job_->timing.dma_request};
    ar_pending_.push_back(&r);
    wait(sc_core::SC_ZERO_TIME);  // every client asking at this time registers first
    check();
    if (!ar_pending_.empty()) arbitrate();
    while (ar_reserved_ != r.ticket) waitOn(ar_turn_);
    return std::max(r.ar + job_->latency, rd_.free);
  }
  void reserveRead(uint64_t last_beat) {
    rd_.free = std::max(rd_.free, last_beat + 1);
    ++ar_reserved_;
    ar_turn_.notify();
  }

  struct ArRequest {
    int client;
    uint64_t want;  // the first cycle its address can go out
    uint64_t ar = 0, ticket = 0;
    bool granted = false;
  };

  // Grants the registered requests cycle by cycle, as kiln_axi_master's arbiter does.
  void arbitrate() {
    std::vector<ArRequest*> reqs;
    reqs.swap(ar_pending_);
    uint64_t c = ar_free_;
    for (size_t left = reqs.size(); left > 0; ++c) {
      uint64_t earliest = UINT64_MAX;
      for (ArRequest* r : reqs)
        if (!r->granted) earliest = std::min(earliest, r->want);
      c = std::max(c, earliest);
      ArRequest* pick = nullptr;
      for (int k = 1; k <= accel::kNumModules - 1 && !pick; ++k) {
        const int client = (ar_last_ + k) % (accel::kNumModules - 1);
        for (ArRequest* r : reqs)
          if (!r->granted && r->want <= c && r->client == client) pick = r;
      }
      pick->granted = true;
      pick->ar = c;
      pick->ticket = ar_tickets_++;
      ar_last_ = pick->client;
      --left;
    }
    ar_free_ = c;
  }

  // One DMA job of `count` elements of `elem` bytes from DRAM byte `addr`, started at
  // cycle t, whose consumer can take element k no earlier than ready(k) (the LOAD's walk).
  // Returns the cycle each element is taken, in `taken`, as kiln_dma_reader delivers them:
  // an element of whole beats one cycle (dma_element) after its last beat, its beats held
  // back while the element before it waits; narrower ones straight from their beat, one per
  // cycle.
  template <typename Ready>
  void readJob(int client, uint64_t t, uint64_t addr, uint64_t count, uint64_t elem, Ready ready,
               std::vector<uint64_t>& taken) {
    const Timing& tm = job_->timing;
    taken.resize(count);
    uint64_t first = requestRead(t, client);
    uint64_t beat = first;  // the cycle the next beat can be taken
    if (elem >= beatBytes()) {
      const uint64_t lanes = elem / beatBytes();
      for (uint64_t k = 0; k < count; ++k) {
        // Lane 0 waits until the element before it has been taken.
        uint64_t b = std::max(first + k * lanes, k ? std::max(beat, taken[k - 1]) : beat);
        b += lanes - 1;  // the element's last beat
        taken[k] = std::max<uint64_t>(b + tm.dma_element, ready(k));
        beat = b + 1;
      }
      reserveRead(beat - 1);
    } else {
      const uint64_t per_beat = beatBytes() / elem;
      const uint64_t lane0 = (addr % beatBytes()) / elem;
      for (uint64_t k = 0; k < count; ++k) {
        uint64_t nominal = first + (lane0 + k) / per_beat;
        taken[k] = std::max<uint64_t>({nominal, k ? taken[k - 1] + 1 : nominal, ready(k)});
      }
      reserveRead(taken[count - 1]);
    }
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
    serve([this] { fetchRead(); });
  }
  void dispatchThread() {
    serve([this] { dispatch(); });
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

  // Fetch's reader: DMA jobs of fetch_burst instructions into a buffer of twice that; a job
  // starts once the last one is done and the buffer has room for all of it.
  void fetchRead() {
    const Job& j = *job_;
    const size_t n = j.stream.size();
    const uint64_t insn_bytes = static_cast<uint64_t>(j.config->layout().insnBytes());
    const size_t buffer = 2 * j.timing.fetch_burst;
    add(kFetchDmaBytes, n * insn_bytes);
    std::vector<uint64_t> taken;
    uint64_t start = 0;
    for (size_t a = 0; a < n;) {
      const size_t chunk = std::min<size_t>(j.timing.fetch_burst, n - a);
      // Room: every instruction but (buffer - chunk) of those read so far dispatched.
      if (a + chunk > buffer) {
        const size_t need = a + chunk - buffer;
        while (dispatched_.size() < need) waitOn(dispatchedEvent_);
        start = std::max(start, dispatched_[need - 1] + 1);
      }
      sleepUntil(start);
      readJob(
          static_cast<int>(Module::kFetch), now(), a * insn_bytes, chunk, insn_bytes,
          [](uint64_t) -> uint64_t { return 0; }, taken);
      for (size_t k = 0; k < chunk; ++k) fetched_.push_back(taken[k]);
      fetchedEvent_.notify();
      progress();
      start = taken[chunk - 1] + j.timing.dma_job_gap;
      a += chunk;
    }
  }

  // Fetch's dispatch: one instruction per cycle from the buffer (the cycle after it is
  // written) to its module's command queue, waiting while that queue is full.
  void dispatch() {
    const Job& j = *job_;
    const size_t n = j.stream.size();
    const auto depth = static_cast<size_t>(j.config->params().insn_queue_depth);
    uint64_t cursor = 0;
    for (size_t i = 0; i < n; ++i) {
      while (fetched_.size() <= i) waitOn(fetchedEvent_);
      cursor = std::max(cursor, fetched_[i] + 1);
      sleepUntil(cursor);
      Module m = j.stepper->moduleOf(i);
      CommandQueue& q = commandQueue(m);
      if (q.entries.size() >= depth) {
        uint64_t t = now();
        while (q.entries.size() >= depth) waitOn(q.popped);
        sleepUntil(now() + j.timing.command);  // the pop is seen the cycle after
        add(kFetchStallQueue, now() - t);
        traceEvent(Module::kFetch, "wait: " + std::string(accel::name(m)) + " command queue full",
                   t, now(), true);
      }
      cursor = now();
      // The module's STALL_CMD counts the cycles its queue is empty (the RTL's !valid).
      if (q.entries.empty())
        add(countersOf(m).stall_cmd, cursor + j.timing.command - q.empty_since);
      q.entries.emplace_back(i, cursor + j.timing.command);
      j.stepper->dispatch(i);
      q.pushed.notify();
      dispatched_.push_back(cursor);
      dispatchedEvent_.notify();
      add(kFetchInsns, 1);
      progress();
      ++cursor;
    }
  }

  // Waits until instruction `in` may start: its tokens to pop are visible and the queues it
  // pushes to have room (the room is then reserved: this module is their only producer).
  // Each queue it pops counts the cycles until its token was visible, as the RTL counts
  // them (both at once when both are missing).
  void waitTokens(Module m, const Insn& in, const ModuleCounters& c) {
    const Job& j = *job_;
    const auto depth = static_cast<size_t>(j.config->params().token_queue_depth);
    const uint64_t t0 = now();
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
        if (!pop) add(c.stall_push, now() - t);
        traceEvent(m,
                   "wait: " + std::string(pop ? "pop " : "room in ") +
                       j.config->spec().token_queues[qi].name,
                   t, now(), true);
      }
      if (ready) break;
    }
    for (int f = 0; f < 2; ++f) {
      if (!flag(in, f)) continue;
      const uint64_t visible = tokens_[j.queue_of[static_cast<int>(m)][f]].visible.front();
      if (visible > t0) add(f == 0 ? c.stall_pop_prev : c.stall_pop_next, visible - t0);
    }
  }

  void execute(Module m) {
    const Job& j = *job_;
    const Timing& tm = j.timing;
    const ModuleCounters c = countersOf(m);
    CommandQueue& cq = commandQueue(m);
    for (size_t k = 0; k < j.insns_of[static_cast<int>(m)]; ++k) {
      for (;;) {
        if (cq.entries.empty()) {
          waitOn(cq.pushed);
        } else if (cq.entries.front().second > now()) {
          sleepUntil(cq.entries.front().second);
        } else {
          break;
        }
      }
      size_t i = cq.entries.front().first;
      const Insn& in = j.stream[i];
      waitTokens(m, in, c);

      // Start: take the tokens and apply the instruction.
      for (int f = 0; f < 2; ++f) {
        if (!flag(in, f)) continue;
        TokenQueue& q = tokens_[j.queue_of[static_cast<int>(m)][f]];
        q.visible.pop_front();
        q.popped.notify();
      }
      progress();
      if (!j.stepper->execute(i)) fault();
      uint64_t start = now();
      if (in.opcode == Opcode::kFinish) {
        // FINISH stops the run: the cycle counter counts its start cycle last.
        add(c.insns, 1);
        out_.finished = true;
        out_.counters[kCycles] = start + tm.issue;
        if (j.trace)
          traceEvent(m, "#" + std::to_string(i) + " FINISH", start, start + tm.issue, false);
        cq.entries.pop_front();
        cq.empty_since = start + tm.issue;  // its command was there until the run ended
        return;
      }
      uint64_t done = timeOf(m, in, start, c);
      // Complete: pop the command, push the tokens.
      uint64_t end = done + tm.complete;
      sleepUntil(end);
      add(c.insns, 1);
      if (j.trace)
        traceEvent(m, "#" + std::to_string(i) + " " + accel::describe(in), start, end, false);
      cq.entries.pop_front();
      if (cq.entries.empty()) cq.empty_since = end + tm.command;
      cq.popped.notify();
      for (int f = 2; f < 4; ++f) {
        if (!flag(in, f)) continue;
        TokenQueue& q = tokens_[j.queue_of[static_cast<int>(m)][f]];
        q.visible.push_back(end + tm.token);
        q.pushed.notify();
      }
      progress();
      sleepUntil(end + tm.command);  // the next command is seen the cycle after the pop
    }
  }

  // The cycle the engine of instruction `in`, started at `start`, is done; adds its busy
  // and DRAM cycles. LOADs sleep through their rows, so that their DMA jobs take the read
  // channel in the order the hardware's requests do.
  uint64_t timeOf(Module m, const Insn& in, uint64_t start, const ModuleCounters& c) {
    const Job& j = *job_;
    const Timing& tm = j.timing;
    uint64_t done = start;
    switch (in.opcode) {
      case Opcode::kLoad:
        done = loadTime(m, in, start + tm.issue);
        // Busy cycles in which the LOAD wrote no buffer entry.
        add(c.stall_dram, done - start - loadEntries(in));
        add(c.dma_bytes, uint64_t{in.y_size} * in.x_size *
                             static_cast<uint64_t>(j.config->elementBytes(in.memory_type)));
        add(m == Module::kCompute ? kComputeBusyLoad : kLoadBusy, done - start);
        break;
      case Opcode::kStore: {
        done = storeTime(in, start + tm.issue);
        // Busy cycles in which the STORE moved no beat.
        add(c.stall_dram,
            done - start -
                uint64_t{in.y_size} * in.x_size *
                    std::max<uint64_t>(
                        1, static_cast<uint64_t>(j.config->elementBytes(in.memory_type)) /
                               beatBytes()));
        add(c.dma_bytes, uint64_t{in.y_size} * in.x_size *
                             static_cast<uint64_t>(j.config->elementBytes(in.memory_type)));
        add(kStoreBusy, done - start);
        break;
      }
      case Opcode::kGemm:
      case Opcode::kAlu: {
        // The micro-op loop issues an iteration per initiation interval; the instruction is
        // done when its pipeline has drained (no overlap with the next instruction).
        bool gemm = in.opcode == Opcode::kGemm;
        uint64_t iterations = uint64_t{in.iter_out} * in.iter_in *
                              (in.uop_end > in.uop_begin ? in.uop_end - in.uop_begin : 0);
        uint64_t ii = tm.gemm_ii, depth = tm.gemm_depth;
        if (!gemm) {
          bool binary = in.alu_op != AluOp::kMac && in.alu_op != AluOp::kRequant;
          uint64_t reads = in.reset ? 1 : 1 + (binary ? !in.use_imm : 1) + (!binary && !in.use_imm);
          ii = std::max<uint64_t>(1, reads * tm.alu_read);
          depth = tm.alu_depth;
        }
        // An empty loop nest passes its Run and Drain states, a cycle each.
        done = start + tm.issue + (iterations ? iterations * ii + depth : 2);
        add(gemm ? kComputeBusyGemm : kComputeBusyAlu, done - start);
        add(gemm ? kComputeGemmUops : kComputeAluUops, iterations);
        break;
      }
      case Opcode::kFinish:
        break;
    }
    return done;
  }

  // The buffer entries a LOAD writes (data and padding).
  static uint64_t loadEntries(const Insn& in) {
    return (uint64_t{in.y_pad_0} + in.y_size + in.y_pad_1) *
           (uint64_t{in.x_pad_0} + in.x_size + in.x_pad_1);
  }

  // A LOAD whose walk starts at cycle `walk0` (kiln_dma_load): one buffer entry per
  // sram_write cycles in order, padding at once, data as its element is taken; each row is
  // one DMA job, the next started dma_job_gap after the last element was taken.
  uint64_t loadTime(Module module, const Insn& in, uint64_t walk0) {
    const Timing& tm = job_->timing;
    const uint64_t elem = static_cast<uint64_t>(job_->config->elementBytes(in.memory_type));
    const uint64_t cols = uint64_t{in.x_pad_0} + in.x_size + in.x_pad_1;
    const uint64_t rows = uint64_t{in.y_pad_0} + in.y_size + in.y_pad_1;
    if (rows == 0 || cols == 0) return walk0 + tm.dma_done;
    uint64_t next_write = walk0;  // the cycle the walk can write its next entry
    uint64_t job_start = walk0;   // the cycle the reader can start the next row's job
    uint64_t last_taken = 0;
    bool any = false;
    auto pad = [&](uint64_t entries) { next_write += entries * tm.sram_write; };
    pad(uint64_t{in.y_pad_0} * cols);
    std::vector<uint64_t> taken;
    for (uint64_t y = 0; y < in.y_size; ++y) {
      pad(in.x_pad_0);
      if (in.x_size) {
        sleepUntil(job_start);
        const uint64_t row_walk = next_write;
        const uint64_t addr = (uint64_t{in.dram_base} + y * in.x_stride) * elem;
        readJob(
            static_cast<int>(module), now(), addr, in.x_size, elem,
            [&](uint64_t k) { return row_walk + k * tm.sram_write; }, taken);
        // Walk positions are serial: a late element delays those after it.
        uint64_t w = row_walk;
        for (uint64_t k = 0; k < in.x_size; ++k) w = std::max(w, taken[k]) + tm.sram_write;
        next_write = w;
        last_taken = taken.back();
        job_start = last_taken + tm.dma_job_gap;
        any = true;
      }
      pad(in.x_pad_1);
    }
    pad(uint64_t{in.y_pad_1} * cols);
    // The walk's last write was at next_write - sram_write; then the engine waits for the
    // reader to be free and reports done.
    uint64_t end = next_write;
    if (any) end = std::max(end, last_taken + tm.dma_job_gap);
    return end + tm.dma_done;
  }

  // A STORE whose engine starts at cycle `t` (kiln_dma_store): per row, store_row cycles,
  // then per burst (at most 256 beats, not crossing 4 KiB) the address, each out tile read
  // (sram_read) and sent beat by beat, and the write response `latency` after the last beat.
  uint64_t storeTime(const Insn& in, uint64_t t) {
    const Timing& tm = job_->timing;
    const uint64_t elem = static_cast<uint64_t>(job_->config->elementBytes(in.memory_type));
    const uint64_t tile_beats = std::max<uint64_t>(1, elem / beatBytes());
    for (uint64_t y = 0; y < in.y_size && in.x_size; ++y) {
      t += tm.store_row;
      const uint64_t addr = (uint64_t{in.dram_base} + y * in.x_stride) * elem;
      uint64_t beat = addr / beatBytes();
      uint64_t left = in.x_size * tile_beats;
      while (left) {
        uint64_t len =
            std::min<uint64_t>({256, left, 4096 / beatBytes() - beat % (4096 / beatBytes())});
        t += tm.dma_request;
        beat += len;
        left -= len;
        t += std::max<uint64_t>(1, job_->latency);
      }
      t += in.x_size * (tm.sram_read + tile_beats);
    }
    return t;
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
  Channel rd_;
  uint64_t ar_free_ = 0;  // the first cycle the read address channel is free
  int ar_last_ = 0;       // the read client served last
  std::vector<ArRequest*> ar_pending_;
  uint64_t ar_tickets_ = 0, ar_reserved_ = 0;  // data channel reservations: granted, done
  sc_core::sc_event ar_turn_;
  // Fetch: the cycle each instruction is in its buffer, and each dispatch.
  std::vector<uint64_t> fetched_, dispatched_;
  sc_core::sc_event fetchedEvent_, dispatchedEvent_;
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
