// The accelerator driver: register-level protocol of the spec's MMIO map, on any back end.
#include "kiln/driver/accelerator.h"

#include <cstring>
#include <sstream>

#include "kiln/accel/assembler.h"
#include "kiln/accel/isa.h"

namespace kiln::driver {

namespace {
std::string hex(uint64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}

uint32_t fieldOf(const accel::Spec& spec, const std::string& reg, const std::string& field,
                 uint32_t value) {
  for (const auto& r : spec.registers)
    if (r.name == reg)
      for (const auto& f : r.fields)
        if (f.name == field)
          return (value >> f.lsb) & ((f.width >= 32) ? 0xffffffffu : ((1u << f.width) - 1));
  throw Error("the spec's register " + reg + " has no field " + field);
}

uint32_t bitOf(const accel::Spec& spec, const std::string& reg, const std::string& field) {
  for (const auto& r : spec.registers)
    if (r.name == reg)
      for (const auto& f : r.fields)
        if (f.name == field) return 1u << f.lsb;
  throw Error("the spec's register " + reg + " has no field " + field);
}
}  // namespace

Accelerator::Accelerator(std::unique_ptr<Backend> backend, accel::Config config)
    : backend_(std::move(backend)), config_(std::move(config)) {}

Accelerator::~Accelerator() {
  for (const DmaBuffer& b : buffers_) backend_->release(b);
  if (streamBuffer_.host) backend_->release(streamBuffer_);
}

uint32_t Accelerator::reg(const std::string& name) const {
  for (const auto& r : config_.spec().registers)
    if (r.name == name) return r.offset;
  throw Error("the spec has no register " + name);
}

Expected<std::unique_ptr<Accelerator>> Accelerator::open(std::unique_ptr<Backend> backend,
                                                         const accel::Config& config) {
  return catchErrors([&]() -> std::unique_ptr<Accelerator> {
    std::unique_ptr<Accelerator> a(new Accelerator(std::move(backend), config));
    const uint32_t hash = a->backend_->readReg(a->reg("CONFIG_HASH"));
    const uint32_t isa = a->backend_->readReg(a->reg("ISA_VERSION"));
    if (isa != static_cast<uint32_t>(config.value("isa_version")))
      throw Error(a->backend_->name() + ": the device implements ISA version " +
                  std::to_string(isa) + " but Kiln speaks version " +
                  std::to_string(config.value("isa_version")) +
                  ": load a bitstream built by this version of Kiln");
    if (hash != config.hash())
      throw Error(a->backend_->name() + ": the device's config hash is " + hex(hash) +
                  " but config '" + config.name() + "' is " + hex(config.hash()) +
                  ": load the bitstream built for this config, or compile for the device's config");
    return a;
  });
}

DmaBuffer Accelerator::allocate(size_t bytes) {
  DmaBuffer b = backend_->allocate(bytes, 64);
  buffers_.push_back(b);
  return b;
}

void Accelerator::release(const DmaBuffer& buffer) {
  for (auto it = buffers_.begin(); it != buffers_.end(); ++it)
    if (it->host == buffer.host) {
      backend_->release(*it);
      buffers_.erase(it);
      return;
    }
  throw Error("release: the buffer was not allocated by this accelerator");
}

void Accelerator::checkStream(std::span<const uint8_t> stream, uint64_t dramBase) const {
  const size_t word = static_cast<size_t>(config_.value("instruction_width")) / 8;
  if (stream.size() % word)
    throw Error("the instruction stream is " + std::to_string(stream.size()) +
                " bytes, not a whole number of " + std::to_string(word) + "-byte instructions");
  std::vector<accel::Insn> insns = accel::decodeStream(config_.layout(), stream);
  for (size_t i = 0; i < insns.size(); ++i) {
    const accel::Insn& in = insns[i];
    if (in.opcode != accel::Opcode::kLoad && in.opcode != accel::Opcode::kStore) continue;
    if (in.y_size == 0 || in.x_size == 0) continue;
    const uint64_t elem = static_cast<uint64_t>(config_.elementBytes(in.memory_type));
    const uint64_t first = dramBase + uint64_t{in.dram_base} * elem;
    const uint64_t last =
        dramBase +
        (uint64_t{in.dram_base} + uint64_t{in.y_size - 1} * in.x_stride + in.x_size - 1) * elem +
        elem - 1;
    bool inside = false;
    for (const DmaBuffer& b : buffers_)
      inside |= first >= b.deviceAddr && last < b.deviceAddr + b.bytes;
    if (!inside)
      throw Error("instruction " + std::to_string(i) + " (" + accel::formatInsn(in, config_) +
                  ") " + (in.opcode == accel::Opcode::kLoad ? "reads" : "writes") +
                  " device memory " + hex(first) + ".." + hex(last) +
                  ", which is not inside a buffer allocated through this driver: refused");
  }
}

void Accelerator::launch(std::span<const uint8_t> stream, uint64_t dramBase) {
  const accel::Spec& spec = config_.spec();
  if (backend_->readReg(reg("STATUS")) & bitOf(spec, "STATUS", "BUSY"))
    throw Error(backend_->name() +
                ": the accelerator is still busy with a previous run; wait for it or reset it");
  checkStream(stream, dramBase);
  if (streamBuffer_.host) backend_->release(streamBuffer_);
  streamBuffer_ = backend_->allocate(std::max<size_t>(stream.size(), 16), 64);
  std::memcpy(streamBuffer_.host, stream.data(), stream.size());
  backend_->flush(streamBuffer_);
  for (const DmaBuffer& b : buffers_) backend_->flush(b);
  const size_t count =
      stream.size() / (static_cast<size_t>(config_.value("instruction_width")) / 8);
  backend_->writeReg(reg("INSN_ADDR_LO"), static_cast<uint32_t>(streamBuffer_.deviceAddr));
  backend_->writeReg(reg("INSN_ADDR_HI"), static_cast<uint32_t>(streamBuffer_.deviceAddr >> 32));
  backend_->writeReg(reg("INSN_COUNT"), static_cast<uint32_t>(count));
  backend_->writeReg(reg("DRAM_BASE_LO"), static_cast<uint32_t>(dramBase));
  backend_->writeReg(reg("DRAM_BASE_HI"), static_cast<uint32_t>(dramBase >> 32));
  started_ = std::chrono::steady_clock::now();
  backend_->writeReg(reg("CONTROL"),
                     bitOf(spec, "CONTROL", "START") | bitOf(spec, "CONTROL", "CLEAR_COUNTERS"));
}

Expected<RunResult> Accelerator::wait(std::chrono::milliseconds timeout) {
  return catchErrors([&]() -> RunResult {
    const accel::Spec& spec = config_.spec();
    const auto deadline = started_ + timeout;
    while (true) {
      const uint32_t status = backend_->readReg(reg("STATUS"));
      if (fieldOf(spec, "STATUS", "ERROR", status)) {
        const uint32_t code = fieldOf(spec, "STATUS", "ERROR_CODE", status);
        std::string codeName = std::to_string(code);
        for (const auto& e : spec.error_codes)
          if (e.value == code) codeName = e.name;
        std::string detail = backend_->diagnostics();
        throw Error(backend_->name() + ": the accelerator stopped with error " + codeName +
                    " at instruction " + std::to_string(backend_->readReg(reg("ERROR_INSN"))) +
                    (detail.empty() ? "" : ": " + detail));
      }
      if (fieldOf(spec, "STATUS", "DONE", status)) {
        for (const DmaBuffer& b : buffers_) backend_->invalidate(b);
        RunResult r;
        r.counters = readCounters();
        r.wallMs =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
                .count();
        return r;
      }
      if (std::chrono::steady_clock::now() >= deadline)
        throw Error(
            backend_->name() + ": the accelerator did not finish within " +
            std::to_string(timeout.count()) + " ms (STATUS " + hex(status) +
            (fieldOf(spec, "STATUS", "BUSY", status) ? ", busy" : ", idle") +
            "): it hangs or was never started; reset it, and check the stream with `kiln sim`");
      backend_->wait(std::chrono::microseconds(200));
    }
  });
}

Expected<RunResult> Accelerator::run(std::span<const uint8_t> stream, uint64_t dramBase,
                                     std::chrono::milliseconds timeout) {
  auto launched = catchErrors([&] {
    launch(stream, dramBase);
    return true;
  });
  if (!launched) return launched.error();
  return wait(timeout);
}

std::map<std::string, uint64_t> Accelerator::readCounters() {
  const accel::Spec& spec = config_.spec();
  std::map<std::string, uint64_t> r;
  for (size_t i = 0; i < spec.counters.size(); ++i) {
    const uint32_t at = spec.counters_base + static_cast<uint32_t>(8 * i);
    const uint64_t lo = backend_->readReg(at);  // latches the high word
    const uint64_t hi = backend_->readReg(at + 4);
    r[spec.counters[i].name] = lo | (hi << 32);
  }
  return r;
}

void Accelerator::reset() {
  backend_->reset();
  const accel::Spec& spec = config_.spec();
  if (backend_->readReg(reg("STATUS")) & bitOf(spec, "STATUS", "BUSY"))
    throw Error(backend_->name() +
                ": the accelerator is still busy after a reset; reload its bitstream "
                "(kiln board load) to recover it");
  backend_->writeReg(reg("CONTROL"), bitOf(spec, "CONTROL", "CLEAR_COUNTERS"));
}

}  // namespace kiln::driver
