// The cycle model as a simulation engine behind the driver's register map.
#include "kiln/sim/driver_backend.h"

#include "kiln/driver/simulated.h"

namespace kiln::sim {

namespace {

class CycleEngine : public driver::SimEngine {
 public:
  CycleEngine(const accel::Config& config, size_t dramBytes, Options options)
      : config_(config),
        dramBytes_(dramBytes),
        options_(options),
        model_(config, dramBytes, options) {}
  std::string name() const override { return "sim-cycle"; }
  std::span<uint8_t> dram() override { return model_.dram(); }
  void reset() override { model_ = CycleModel(config_, dramBytes_, options_); }

  Expected<std::map<std::string, uint64_t>> run(std::span<const uint8_t> stream,
                                                driver::EngineFault& fault) override {
    std::vector<accel::Insn> insns = accel::decodeStream(config_.layout(), stream);
    Expected<Stats> r = model_.run(insns);
    if (!r) {
      fault = driver::engineFault(model_.machine().fault(), r.message());
      return r.error();
    }
    std::map<std::string, uint64_t> counters(r->counters.begin(), r->counters.end());
    return counters;
  }

 private:
  accel::Config config_;
  size_t dramBytes_;
  Options options_;
  CycleModel model_;
};

}  // namespace

std::unique_ptr<driver::Backend> makeSimCycleBackend(const accel::Config& config, size_t dramBytes,
                                                     Options options) {
  return driver::makeSimulatedBackend(std::make_unique<CycleEngine>(config, dramBytes, options),
                                      config);
}

}  // namespace kiln::sim
