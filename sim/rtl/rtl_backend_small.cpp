// The sim-rtl back end for the small config's Verilated model.
#include "Vkiln_small.h"
#include "rtl_backend_impl.h"

namespace kiln::sim {

std::unique_ptr<driver::Backend> makeRtlBackend_small(const accel::Config& config, size_t dramBytes,
                                                      RtlOptions options) {
  return std::make_unique<RtlBackend<Vkiln_small>>(config, dramBytes, options);
}

}  // namespace kiln::sim
