// Simulated accelerators behind the register map (kiln/driver/simulated.h), and the
// functional-simulator engine: the ISA reference, which fills the counters it can know
// (instructions, DMA bytes, micro-ops); the timing counters read zero.
#include <cstring>
#include <map>

#include "kiln/accel/reference.h"
#include "kiln/driver/sim_func.h"
#include "kiln/driver/simulated.h"

namespace kiln::driver {

EngineFault engineFault(const std::optional<accel::Fault>& f, const std::string& message) {
  const std::string code = f ? std::string(f->errorCode()) : "";
  return {code.empty() ? "NONE" : code, f && f->insn ? static_cast<uint32_t>(*f->insn) : 0,
          message};
}

namespace {

class FunctionalEngine : public SimEngine {
 public:
  FunctionalEngine(const accel::Config& config, size_t dramBytes)
      : config_(config), dramBytes_(dramBytes), machine_(config, dramBytes) {}
  std::string name() const override { return "sim-func"; }
  std::span<uint8_t> dram() override { return machine_.dram(); }
  void reset() override { machine_ = accel::Machine(config_, dramBytes_); }

  Expected<std::map<std::string, uint64_t>> run(std::span<const uint8_t> stream,
                                                EngineFault& fault) override {
    Expected<accel::RunStats> r = machine_.run(stream);
    if (!r) {
      fault = engineFault(machine_.fault(), r.message());
      return r.error();
    }
    const accel::RunStats& s = *r;
    using accel::Module;
    std::map<std::string, uint64_t> c;
    c["FETCH_INSNS"] = stream.size() / static_cast<size_t>(config_.value("instruction_width") / 8);
    c["FETCH_DMA_BYTES"] = stream.size();
    c["LOAD_INSNS"] = s.of(Module::kLoad).insns;
    c["LOAD_DMA_BYTES"] = s.of(Module::kLoad).dma_read_bytes;
    c["COMPUTE_INSNS"] = s.of(Module::kCompute).insns;
    c["COMPUTE_DMA_BYTES"] = s.of(Module::kCompute).dma_read_bytes;
    c["COMPUTE_GEMM_UOPS"] = s.gemm_uops;
    c["COMPUTE_ALU_UOPS"] = s.alu_uops;
    c["STORE_INSNS"] = s.of(Module::kStore).insns;
    c["STORE_DMA_BYTES"] = s.of(Module::kStore).dma_write_bytes;
    return c;
  }

 private:
  accel::Config config_;
  size_t dramBytes_;
  accel::Machine machine_;
};

class SimulatedBackend : public Backend {
 public:
  SimulatedBackend(std::unique_ptr<SimEngine> engine, const accel::Config& config)
      : config_(config), engine_(std::move(engine)), dramBytes_(engine_->dram().size()) {
    for (const auto& r : config.spec().registers) offsets_[r.name] = r.offset;
    for (const auto& f : registerFields("STATUS")) statusBit_[f.name] = f.lsb;
    for (const auto& f : registerFields("CONTROL")) controlBit_[f.name] = f.lsb;
  }

  std::string name() const override { return engine_->name() + " (" + config_.name() + ")"; }

  uint32_t readReg(uint32_t offset) override {
    const accel::Spec& spec = config_.spec();
    if (offset >= spec.counters_base) {
      const size_t i = (offset - spec.counters_base) / 8;
      if (i >= spec.counters.size()) return 0;
      if ((offset - spec.counters_base) % 8 == 0) {
        const uint64_t v = counters_[spec.counters[i].name];
        latchedHigh_ = static_cast<uint32_t>(v >> 32);
        return static_cast<uint32_t>(v);
      }
      return latchedHigh_;
    }
    if (offset == offsets_.at("CONFIG_HASH")) return config_.hash();
    if (offset == offsets_.at("ISA_VERSION"))
      return static_cast<uint32_t>(config_.value("isa_version"));
    if (offset == offsets_.at("STATUS")) return status_;
    if (offset == offsets_.at("ERROR_INSN")) return errorInsn_;
    auto it = regs_.find(offset);
    return it == regs_.end() ? 0 : it->second;
  }

  void writeReg(uint32_t offset, uint32_t value) override {
    if (offset != offsets_.at("CONTROL")) {
      regs_[offset] = value;
      return;
    }
    if (value & (1u << controlBit_.at("CLEAR_COUNTERS"))) counters_.clear();
    if (value & (1u << controlBit_.at("START"))) {
      status_ = 1u << statusBit_.at("BUSY");
      pending_ = true;
    }
  }

  DmaBuffer allocate(size_t bytes, size_t alignment) override {
    size_t offset = (next_ + alignment - 1) / alignment * alignment;
    if (offset + bytes > dramBytes_)
      throw Error(name() + ": out of simulated DRAM (" + std::to_string(dramBytes_ >> 20) +
                  " MiB)");
    next_ = offset + bytes;
    ++live_;
    return {engine_->dram().data() + offset, offset, bytes};
  }

  void release(const DmaBuffer&) override {
    // A bump allocator: space comes back when every buffer has been released.
    if (--live_ == 0) next_ = 0;
  }

  void wait(std::chrono::microseconds) override {
    if (pending_) execute();
  }

  void reset() override {
    engine_->reset();
    status_ = 0;
    errorInsn_ = 0;
    pending_ = false;
    counters_.clear();
    diagnostics_.clear();
    next_ = 0;
    live_ = 0;
  }

  std::string diagnostics() const override { return diagnostics_; }

 private:
  std::vector<accel::RegFieldSpec> registerFields(const std::string& reg) const {
    for (const auto& r : config_.spec().registers)
      if (r.name == reg) return r.fields;
    throw Error("the spec has no register " + reg);
  }

  uint64_t reg64(const std::string& lo, const std::string& hi) {
    return uint64_t{readReg(offsets_.at(lo))} | (uint64_t{readReg(offsets_.at(hi))} << 32);
  }

  void fault(const std::string& code, uint32_t insn, const std::string& why) {
    uint32_t value = 0;
    for (const auto& e : config_.spec().error_codes)
      if (e.name == code) value = static_cast<uint32_t>(e.value);
    status_ = (1u << statusBit_.at("ERROR")) | (value << statusBit_.at("ERROR_CODE"));
    errorInsn_ = insn;
    diagnostics_ = why;
  }

  void execute() {
    pending_ = false;
    const uint64_t addr = reg64("INSN_ADDR_LO", "INSN_ADDR_HI");
    const uint64_t count = readReg(offsets_.at("INSN_COUNT"));
    const uint64_t bytes = count * static_cast<uint64_t>(config_.value("instruction_width") / 8);
    if (reg64("DRAM_BASE_LO", "DRAM_BASE_HI") != 0)
      return fault(
          "DRAM_RANGE", 0,
          "the functional simulator's DRAM starts at device address 0; set DRAM_BASE to 0");
    if (addr % 16 || addr + bytes > dramBytes_)
      return fault("DRAM_RANGE", 0, "the instruction stream lies outside simulated DRAM");
    std::vector<uint8_t> stream(
        engine_->dram().begin() + static_cast<std::ptrdiff_t>(addr),
        engine_->dram().begin() + static_cast<std::ptrdiff_t>(addr + bytes));
    EngineFault f;
    Expected<std::map<std::string, uint64_t>> r = engine_->run(stream, f);
    if (!r) return fault(f.code, f.insn, f.message);
    counters_ = *r;
    status_ = 1u << statusBit_.at("DONE");
  }

  accel::Config config_;
  std::unique_ptr<SimEngine> engine_;
  size_t dramBytes_;
  std::map<std::string, uint32_t> offsets_;
  std::map<std::string, int> statusBit_, controlBit_;
  std::map<uint32_t, uint32_t> regs_;
  std::map<std::string, uint64_t> counters_;
  uint32_t status_ = 0, errorInsn_ = 0, latchedHigh_ = 0;
  bool pending_ = false;
  std::string diagnostics_;
  size_t next_ = 0;
  int live_ = 0;
};

}  // namespace

std::unique_ptr<Backend> makeSimulatedBackend(std::unique_ptr<SimEngine> engine,
                                              const accel::Config& config) {
  return std::make_unique<SimulatedBackend>(std::move(engine), config);
}

std::unique_ptr<Backend> makeSimFuncBackend(const accel::Config& config, size_t dramBytes) {
  return makeSimulatedBackend(std::make_unique<FunctionalEngine>(config, dramBytes), config);
}

}  // namespace kiln::driver
