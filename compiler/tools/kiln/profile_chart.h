// The plot `kiln profile` draws: one row per accelerator layer, a bar of the cycles it took
// split by what the compute module was doing (GEMM, ALU, its own loads, waiting on loads,
// stores or instructions), a mark at its ideal cycles (MACs at the GEMM core's peak). Drawn
// on the charts' canvas (chart_canvas.h) as SVG and PNG.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace kiln::cli {

// What the compute module did in a layer's cycles, in the order the bar shows them.
enum ProfileSegment {
  kSegGemm,        // COMPUTE_BUSY_GEMM
  kSegAlu,         // COMPUTE_BUSY_ALU
  kSegOwnLoads,    // COMPUTE_BUSY_LOAD: micro-ops and accumulator tiles
  kSegWaitLoads,   // COMPUTE_STALL_LOAD_TOKEN
  kSegWaitStores,  // COMPUTE_STALL_STORE_TOKEN
  kSegWaitInsns,   // COMPUTE_STALL_CMD + COMPUTE_STALL_PUSH
  kSegOther,       // the rest of the layer's cycles (compute idle: the last stores)
  kNumSegments
};

struct ProfileRow {
  std::string name, op;
  double cycles = 0, ideal = 0;  // ideal 0: a layer with no MACs (ALU only)
  std::array<double, kNumSegments> segments{};
};

struct ProfileChart {
  std::string title, subtitle;
  std::vector<ProfileRow> rows;
};

// Both throw kiln::Error when the file cannot be written.
void writeProfileSvg(const ProfileChart& chart, const std::string& path);
void writeProfilePng(const ProfileChart& chart, const std::string& path);

}  // namespace kiln::cli
