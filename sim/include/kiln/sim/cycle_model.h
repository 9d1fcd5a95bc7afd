// The accelerator's cycle-level model: fetch, load, compute and store as concurrent SystemC
// processes joined by their command queues and the four dependency-token queues, DRAM behind
// an AXI-like port with a latency and a bandwidth, and the GEMM and ALU pipelines with the
// spec's initiation intervals (hw/spec/accel.yaml, `timing`).
//
// Time advances per transaction, never per clock: an instruction's module waits for its
// computed duration and a DMA transfer for its latency plus bytes / bandwidth, so the model
// simulates tens of millions of cycles per second. Results are bit-exact by construction:
// each instruction is applied by the reference's own code (accel::Machine::Stepper) when its
// module starts it, in an order its tokens allow, so every stream the reference accepts
// gives the same bytes, and every fault (a token deadlock, an address out of range) is
// the reference's error, naming the instruction.
//
// This header does not include SystemC. SystemC has one simulation kernel per process, so
// runs are serialized: the model may be used from several threads, one run at a time.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/accel/config.h"
#include "kiln/accel/isa.h"
#include "kiln/accel/reference.h"
#include "kiln/runtime/error.h"

namespace kiln::sim {

struct Options {
  // Cycles from a DMA request to its first data beat (reads) or from the last data beat to
  // the write response (writes): the board's DRAM latency as the accelerator's clock sees it.
  int64_t dram_latency = 32;
  // Bytes the AXI port moves per cycle in each direction; 0 means the config's axi_width / 8.
  int64_t dram_bytes_per_cycle = 0;
  // Record an event timeline (see CycleModel::traceJson).
  bool trace = false;
};

// What a run took: the spec's performance counters (mmio.counters), in spec order and named
// as there, and the run's timing-independent statistics from the reference's code.
struct Stats {
  uint64_t cycles = 0;
  std::vector<std::pair<std::string, uint64_t>> counters;
  accel::RunStats functional;
  uint64_t macs_per_cycle = 0;  // BATCH x BLOCK_IN x BLOCK_OUT
  int64_t clock_mhz = 0;

  // A counter's value by its spec name; throws kiln::Error for an unknown name.
  uint64_t counter(std::string_view name) const;
  // GEMM micro-op iterations per cycle of the run: 1.0 keeps the GEMM core always busy.
  double gemmUtilization() const;
  // A readable report: cycles, per-module busy and stalls by cause, DMA bytes, utilization.
  std::string report() const;
};

class CycleModel {
 public:
  // A model with zeroed buffers and dram_bytes of zeroed DRAM.
  CycleModel(accel::Config config, size_t dram_bytes, Options options = {});
  ~CycleModel();
  CycleModel(CycleModel&&) noexcept;
  CycleModel& operator=(CycleModel&&) noexcept;

  const accel::Config& config() const { return machine_.config(); }
  const Options& options() const { return options_; }
  // The functional state (DRAM and the five buffers), as in the reference.
  accel::Machine& machine() { return machine_; }
  std::span<uint8_t> dram() { return machine_.dram(); }

  // Runs a stream to its FINISH. A fault is the reference's error (its message starts with
  // "instruction N (...)"), and machine().fault() describes it; a token deadlock stops when
  // the watchdog would fire.
  Expected<Stats> run(std::span<const accel::Insn> stream);

  // The last run's timeline as Chrome / Perfetto trace-event JSON (with Options::trace):
  // one track per module, an event per instruction and per stall.
  std::string traceJson() const;

  struct TraceEvent {
    int module;  // accel::Module
    std::string name;
    uint64_t start, cycles;
    bool stall;
  };
  // The last run's events (with Options::trace), in the order they ended.
  const std::vector<TraceEvent>& trace() const { return trace_; }

 private:
  accel::Machine machine_;
  Options options_;
  std::vector<TraceEvent> trace_;
};

}  // namespace kiln::sim
