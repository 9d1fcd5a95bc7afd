// The sim-rtl back end for the pynq-z1 config's Verilated model built with --threads 2
// (RtlOptions::threads = 2): the same RTL, its evaluation split over two threads.
#include "Vkiln_pynq_z1_mt.h"
#include "rtl_backend_impl.h"

namespace kiln::sim {

std::unique_ptr<driver::Backend> makeRtlBackend_pynq_z1_mt(const accel::Config& config,
                                                           size_t dramBytes, RtlOptions options) {
  return std::make_unique<RtlBackend<Vkiln_pynq_z1_mt>>(config, dramBytes, options);
}

}  // namespace kiln::sim
