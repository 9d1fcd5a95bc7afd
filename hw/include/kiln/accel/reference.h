// The bit-exact integer reference of the accelerator: a functional simulator that runs an
// instruction stream against DRAM (a byte array) and the five on-chip buffers, exactly as
// the ISA page specifies. The RTL and the cycle model must produce the same bytes.
//
// Besides computing results it checks the stream as the hardware would see it, with the
// load, compute and store modules running concurrently: dependency flags that name a queue
// their module lacks, token or command-queue deadlocks, accesses outside DRAM or a buffer,
// and races (two modules touching the same buffer entry or DRAM byte, one of them writing,
// with no chain of tokens ordering them). A stream the reference accepts therefore gives the
// same result under every timing. Every fault names the instruction.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/accel/config.h"
#include "kiln/accel/isa.h"

namespace kiln::accel {

enum class FaultKind : uint8_t {
  kBadInsn,    // malformed instruction or stream (hardware: BAD_INSN)
  kSramRange,  // buffer index out of range (SRAM_RANGE)
  kDramRange,  // DRAM access out of range (DRAM_RANGE)
  kTokenFlag,  // a flag naming a queue the module lacks (TOKEN_FLAG)
  kDeadlock,   // no module can proceed (WATCHDOG)
  kRace,       // accesses not ordered by tokens (undetected by hardware)
  kStream,     // no FINISH, FINISH not last, tokens left over (hardware: never DONE, or
               // tokens carried into the next run)
};

struct Fault {
  FaultKind kind;
  std::optional<size_t> insn;  // index in the stream of the instruction at fault
  std::string message;
  // The spec's error code the hardware reports for it, or "" where it cannot tell.
  std::string_view errorCode() const;
};

struct ModuleStats {
  uint64_t insns = 0;
  uint64_t dma_read_bytes = 0;
  uint64_t dma_write_bytes = 0;
};

// What a run did, in the quantities that do not depend on timing (the cycle model and the
// RTL's counters must agree with these).
struct RunStats {
  std::array<ModuleStats, kNumModules> modules{};  // indexed by Module
  uint64_t gemm_uops = 0;                          // GEMM micro-op iterations
  uint64_t alu_uops = 0;                           // ALU micro-op iterations

  const ModuleStats& of(Module m) const { return modules[static_cast<int>(m)]; }
};

// The requantization of REQUANT: x * multiplier shifted right by shift (0..63), rounded to
// nearest with ties towards +infinity, saturated to a signed out_width-bit integer.
int32_t requantize(int32_t x, int32_t multiplier, int shift, int out_width);
// One element of an ALU operation (see the spec's alu_ops): dst, src and aux are the
// accumulator elements, imm the sign-extended immediate.
int32_t applyAlu(AluOp op, int32_t dst, int32_t src, int32_t aux, bool use_imm, int32_t imm,
                 int out_width);

class Machine {
 public:
  // A machine with zeroed buffers and dram_bytes of zeroed DRAM.
  Machine(Config config, size_t dram_bytes);
  ~Machine();
  Machine(Machine&&) noexcept;
  Machine& operator=(Machine&&) noexcept;

  const Config& config() const { return config_; }

  // DRAM, and the buffers as flat element arrays: entry i of a buffer whose tiles have n
  // elements is elements [i * n, (i + 1) * n). Buffers keep their contents between runs.
  std::span<uint8_t> dram() { return dram_; }
  std::span<int8_t> inp() { return inp_; }
  std::span<int8_t> wgt() { return wgt_; }
  std::span<int32_t> acc() { return acc_; }
  std::span<int8_t> out() { return out_; }
  std::span<Uop> uops() { return uop_; }

  // Runs a stream to its FINISH. On a fault, returns the error (whose message starts with
  // "instruction N (...)") and fault() describes it; buffers and DRAM then hold whatever
  // the instructions before it wrote.
  Expected<RunStats> run(std::span<const Insn> stream);
  // The same for a binary stream, decoded with the config's layout.
  Expected<RunStats> run(std::span<const uint8_t> stream);
  // The fault that stopped the last run, if it stopped on one.
  const std::optional<Fault>& fault() const { return fault_; }

  struct Execution;  // one run: scheduler, semantics and checks (reference.cpp)

  // Runs a stream one instruction at a time, in an order a timing model chooses (the cycle
  // model in sim/ does), with run()'s semantics and checks: the same bytes and the same
  // faults. The caller dispatches instructions in stream order into their modules' command
  // queues and executes each module's instructions in order, each once the tokens it pops
  // have been pushed and the queues it pushes to have room (as the caller's own queues
  // tell). A method that returns false has recorded a fault in fault().
  class Stepper {
   public:
    Stepper(Machine& machine, std::span<const Insn> stream);
    ~Stepper();
    Stepper(const Stepper&) = delete;
    Stepper& operator=(const Stepper&) = delete;

    // The static checks run() starts with; call once, first.
    bool check();
    // The module that executes instruction i (after check()).
    Module moduleOf(size_t i) const;
    // Fetch puts instruction i, the next in stream order, into its module's command queue.
    void dispatch(size_t i);
    // Executes instruction i, the head of its module's queue: pops its tokens, applies it to
    // DRAM and the buffers, pushes its tokens.
    bool execute(size_t i);
    // Records the deadlock fault of the present state (every module blocked), as run() does.
    void deadlock();
    // After every instruction executed: checks that no token is left; the run's statistics.
    Expected<RunStats> finish();
    // The recorded fault as an error.
    Error error() const;

   private:
    Machine& m_;
    std::unique_ptr<Execution> e_;
    size_t fetched_ = 0;
  };

 private:
  Config config_;
  std::vector<uint8_t> dram_;
  std::vector<int8_t> inp_, wgt_, out_;
  std::vector<int32_t> acc_;
  std::vector<Uop> uop_;
  std::optional<Fault> fault_;
};

}  // namespace kiln::accel
