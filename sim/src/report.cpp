// What the cycle model reports: a readable table of a run's counters, and its timeline as
// Chrome / Perfetto trace-event JSON (load it at ui.perfetto.dev or chrome://tracing).
#include <cstdio>
#include <string>

#include "kiln/sim/cycle_model.h"

namespace kiln::sim {

namespace {

std::string percent(uint64_t part, uint64_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%5.1f%%", whole ? 100.0 * part / whole : 0.0);
  return buf;
}

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

}  // namespace

std::string Stats::report() const {
  auto c = [&](const char* name) { return counter(name); };
  char buf[256];
  std::string s;
  std::snprintf(buf, sizeof buf, "cycles            %llu (%.3f ms at %lld MHz)\n",
                static_cast<unsigned long long>(cycles),
                clock_mhz ? cycles / (1000.0 * static_cast<double>(clock_mhz)) : 0.0,
                static_cast<long long>(clock_mhz));
  s += buf;
  std::snprintf(
      buf, sizeof buf, "GEMM utilization  %.1f%% (%llu micro-ops of %llu MACs in %llu cycles)\n",
      100.0 * gemmUtilization(), static_cast<unsigned long long>(functional.gemm_uops),
      static_cast<unsigned long long>(macs_per_cycle), static_cast<unsigned long long>(cycles));
  s += buf;
  std::snprintf(buf, sizeof buf, "ALU micro-ops     %llu\n\n",
                static_cast<unsigned long long>(functional.alu_uops));
  s += buf;
  std::snprintf(buf, sizeof buf, "%-8s %8s %12s %14s %14s %14s %14s %12s\n", "module", "insns",
                "busy", "stall token", "stall push", "stall cmd", "stall DRAM", "DMA bytes");
  s += buf;
  auto line = [&](const char* module, uint64_t insns, uint64_t busy, uint64_t token, uint64_t push,
                  uint64_t cmd, uint64_t dram, uint64_t bytes) {
    auto cell = [&](uint64_t v) { return std::to_string(v) + " " + percent(v, cycles); };
    std::snprintf(buf, sizeof buf, "%-8s %8llu %12s %14s %14s %14s %14s %12llu\n", module,
                  static_cast<unsigned long long>(insns), cell(busy).c_str(), cell(token).c_str(),
                  cell(push).c_str(), cell(cmd).c_str(), cell(dram).c_str(),
                  static_cast<unsigned long long>(bytes));
    s += buf;
  };
  line("fetch", c("FETCH_INSNS"), 0, 0, 0, c("FETCH_STALL_QUEUE"), 0, c("FETCH_DMA_BYTES"));
  line("load", c("LOAD_INSNS"), c("LOAD_BUSY"), c("LOAD_STALL_TOKEN"), c("LOAD_STALL_PUSH"),
       c("LOAD_STALL_CMD"), c("LOAD_STALL_DRAM"), c("LOAD_DMA_BYTES"));
  line("compute", c("COMPUTE_INSNS"),
       c("COMPUTE_BUSY_GEMM") + c("COMPUTE_BUSY_ALU") + c("COMPUTE_BUSY_LOAD"),
       c("COMPUTE_STALL_LOAD_TOKEN") + c("COMPUTE_STALL_STORE_TOKEN"), c("COMPUTE_STALL_PUSH"),
       c("COMPUTE_STALL_CMD"), c("COMPUTE_STALL_DRAM"), c("COMPUTE_DMA_BYTES"));
  line("store", c("STORE_INSNS"), c("STORE_BUSY"), c("STORE_STALL_TOKEN"), c("STORE_STALL_PUSH"),
       c("STORE_STALL_CMD"), c("STORE_STALL_DRAM"), c("STORE_DMA_BYTES"));
  s += "\n(fetch's 'stall cmd' is cycles waiting for room in a command queue)\n";
  std::snprintf(buf, sizeof buf,
                "compute busy: GEMM %llu, ALU %llu, LOAD %llu; stalled on load_to_compute %llu, "
                "on store_to_compute %llu\n",
                static_cast<unsigned long long>(c("COMPUTE_BUSY_GEMM")),
                static_cast<unsigned long long>(c("COMPUTE_BUSY_ALU")),
                static_cast<unsigned long long>(c("COMPUTE_BUSY_LOAD")),
                static_cast<unsigned long long>(c("COMPUTE_STALL_LOAD_TOKEN")),
                static_cast<unsigned long long>(c("COMPUTE_STALL_STORE_TOKEN")));
  s += buf;
  return s;
}

std::string CycleModel::traceJson() const {
  // Timestamps are microseconds of the target clock.
  double us_per_cycle = 1.0 / static_cast<double>(config().value("clock_mhz"));
  std::string s = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  for (int m = 0; m < accel::kNumModules; ++m)
    s += "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":" + std::to_string(m) +
         ",\"args\":{\"name\":\"" + std::string(accel::name(static_cast<accel::Module>(m))) +
         "\"}},\n";
  char buf[128];
  for (const TraceEvent& e : trace_) {
    std::snprintf(buf, sizeof buf, "\"ts\":%.4f,\"dur\":%.4f", e.start * us_per_cycle,
                  e.cycles * us_per_cycle);
    s += "{\"ph\":\"X\",\"pid\":1,\"tid\":" + std::to_string(e.module) +
         ",\"name\":" + jsonString(e.name) + ",\"cat\":\"" + (e.stall ? "stall" : "insn") + "\"," +
         buf + ",\"args\":{\"cycle\":" + std::to_string(e.start) +
         ",\"cycles\":" + std::to_string(e.cycles) + "}},\n";
  }
  s += "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"args\":{\"name\":\"kiln "
       "accelerator\"}}\n";
  return s + "]}\n";
}

}  // namespace kiln::sim
