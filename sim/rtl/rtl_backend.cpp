// sim-rtl: picks the Verilated model built for a config.
#include "kiln/sim/rtl_backend.h"

namespace kiln::sim {

std::unique_ptr<driver::Backend> makeRtlBackend_small(const accel::Config&, size_t, RtlOptions);
std::unique_ptr<driver::Backend> makeRtlBackend_pynq_z1(const accel::Config&, size_t, RtlOptions);
std::unique_ptr<driver::Backend> makeRtlBackend_pynq_z1_mt(const accel::Config&, size_t,
                                                           RtlOptions);

std::vector<std::string> rtlConfigs() {
  return {"small", "pynq-z1"};
}

std::vector<std::string> rtlThreadedConfigs() {
  return {"pynq-z1"};
}

Expected<std::unique_ptr<driver::Backend>> makeSimRtlBackend(const accel::Config& config,
                                                             size_t dramBytes, RtlOptions options) {
  return catchErrors([&]() -> std::unique_ptr<driver::Backend> {
    // The model is the RTL with that config's package: the config must be the built-in one.
    Expected<accel::Config> builtin = accel::Config::builtin(config.name());
    if (options.threads != 1 && options.threads != 2)
      throw Error("sim-rtl: models are built for 1 or 2 threads, not " +
                  std::to_string(options.threads));
    if (builtin && builtin->hash() == config.hash()) {
      if (options.threads == 2) {
        if (config.name() == "pynq-z1")
          return makeRtlBackend_pynq_z1_mt(config, dramBytes, options);
        throw Error("no two-thread Verilated RTL model of config '" + config.name() +
                    "' in this build (only pynq-z1)");
      }
      if (config.name() == "small") return makeRtlBackend_small(config, dramBytes, options);
      if (config.name() == "pynq-z1") return makeRtlBackend_pynq_z1(config, dramBytes, options);
    }
    std::string list;
    for (const std::string& c : rtlConfigs()) list += (list.empty() ? "" : ", ") + c;
    throw Error("no Verilated RTL model of config '" + config.name() +
                "' in this build (models: " + list + ")");
  });
}

}  // namespace kiln::sim
