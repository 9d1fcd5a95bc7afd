// The sim-rtl back end for the pynq-z1 config's Verilated model.
#include "Vkiln_pynq_z1.h"
#include "rtl_backend_impl.h"

namespace kiln::sim {

std::unique_ptr<driver::Backend> makeRtlBackend_pynq_z1(const accel::Config& config,
                                                        size_t dramBytes, RtlOptions options) {
  return std::make_unique<RtlBackend<Vkiln_pynq_z1>>(config, dramBytes, options);
}

}  // namespace kiln::sim
