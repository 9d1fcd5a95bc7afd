// The MMIO shim: the Verilated accelerator serving a board driver through mapped files (see
// kiln/sim/mmio_shim.h).
#include "kiln/sim/mmio_shim.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace kiln::sim {

namespace {

// A file mapped shared, as the driver maps it.
struct Mapping {
  int fd = -1;
  void* at = MAP_FAILED;
  size_t bytes = 0;

  Mapping(const std::string& path, size_t n) : bytes(n) {
    fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) throw Error("MMIO shim: cannot open " + path + ": " + std::strerror(errno));
    at = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (at == MAP_FAILED) {
      ::close(fd);
      throw Error("MMIO shim: cannot map " + std::to_string(n) + " bytes of " + path + ": " +
                  std::strerror(errno));
    }
  }
  ~Mapping() {
    if (at != MAP_FAILED) ::munmap(at, bytes);
    if (fd >= 0) ::close(fd);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
};

}  // namespace

struct MmioShim::State {
  accel::Config config;
  Mapping regs, dma;
  RtlOptions options;
  std::unique_ptr<driver::Backend> rtl;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> starts{0}, cycles{0};
  std::thread thread;

  State(const accel::Config& c, const MmioShimFiles& f, RtlOptions o)
      : config(c), regs(f.registers, f.registerBytes), dma(f.dmaBuffer, f.dmaBytes), options(o) {
    options.memory = static_cast<uint8_t*>(dma.at);
    options.memoryBase = f.dmaPhysical;
    Expected<std::unique_ptr<driver::Backend>> b = makeSimRtlBackend(config, f.dmaBytes, options);
    if (!b) throw Error("MMIO shim: " + b.message());
    rtl = std::move(*b);
  }

  volatile uint32_t& word(uint32_t offset) {
    return static_cast<volatile uint32_t*>(regs.at)[offset / 4];
  }
  uint32_t reg(const std::string& name) const {
    for (const auto& r : config.spec().registers)
      if (r.name == name) return r.offset;
    throw Error("MMIO shim: the spec has no register " + name);
  }
  uint32_t bit(const std::string& reg_name, const std::string& field) const {
    for (const auto& r : config.spec().registers)
      if (r.name == reg_name)
        for (const auto& f : r.fields)
          if (f.name == field) return 1u << f.lsb;
    throw Error("MMIO shim: the spec has no field " + reg_name + "." + field);
  }

  // The RTL's registers the driver reads, copied into the window; STATUS last, after a fence,
  // as the bus orders the hardware's writes before the status the driver polls.
  void publish() {
    const accel::Spec& spec = config.spec();
    for (size_t i = 0; i < spec.counters.size(); ++i) {
      const uint32_t at = spec.counters_base + static_cast<uint32_t>(8 * i);
      word(at) = rtl->readReg(at);  // latches the high word
      word(at + 4) = rtl->readReg(at + 4);
    }
    word(reg("ERROR_INSN")) = rtl->readReg(reg("ERROR_INSN"));
    std::atomic_thread_fence(std::memory_order_seq_cst);
    word(reg("STATUS")) = rtl->readReg(reg("STATUS"));
  }

  void loop() {
    const uint32_t control = reg("CONTROL");
    const uint32_t done = bit("STATUS", "DONE") | bit("STATUS", "ERROR");
    bool running = false;
    while (!stop) {
      const uint32_t cmd = word(control);
      if (cmd) {
        for (const char* r :
             {"INSN_ADDR_LO", "INSN_ADDR_HI", "INSN_COUNT", "DRAM_BASE_LO", "DRAM_BASE_HI"})
          rtl->writeReg(reg(r), word(reg(r)));
        word(control) = 0;  // START and CLEAR_COUNTERS are self-clearing
        rtl->writeReg(control, cmd);
        if (cmd & bit("CONTROL", "START")) {
          ++starts;
          running = true;
        }
        word(reg("STATUS")) = rtl->readReg(reg("STATUS"));
      }
      if (!running) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        continue;
      }
      rtl->wait(std::chrono::microseconds(0));  // options.cyclesPerWait clock cycles
      cycles += options.cyclesPerWait;
      if (rtl->readReg(reg("STATUS")) & done) {
        publish();
        running = false;
      }
    }
  }
};

Expected<std::unique_ptr<MmioShim>> MmioShim::start(const accel::Config& config,
                                                    const MmioShimFiles& files,
                                                    RtlOptions options) {
  return catchErrors([&]() -> std::unique_ptr<MmioShim> {
    auto state = std::make_unique<State>(config, files, options);
    // The hardware's constant registers, and its idle status, before the driver looks.
    for (const char* r : {"CONFIG_HASH", "ISA_VERSION", "STATUS"})
      state->word(state->reg(r)) = state->rtl->readReg(state->reg(r));
    State* s = state.get();
    s->thread = std::thread([s] { s->loop(); });
    return std::unique_ptr<MmioShim>(new MmioShim(std::move(state)));
  });
}

MmioShim::MmioShim(std::unique_ptr<State> state) : state_(std::move(state)) {}

MmioShim::~MmioShim() {
  state_->stop = true;
  state_->thread.join();
}

uint64_t MmioShim::starts() const {
  return state_->starts;
}
uint64_t MmioShim::cycles() const {
  return state_->cycles;
}

}  // namespace kiln::sim
