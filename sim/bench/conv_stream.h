// A convolution layer as an accelerator instruction stream, tiled the way a compiler for the
// accelerator would tile it, for the benchmarks (kiln-sim-bench): output tiles of T x T
// pixels, output channels in groups whose weights fit half the weight buffer, input
// channels in chunks that fit half the input buffer; inputs, weights and accumulators
// double-buffered and ordered by dependency tokens; padded (and strided) input loads,
// micro-ops loaded per step, requantization and ReLU on the ALU. It also fills DRAM with the
// layer's random input and weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/accel/config.h"
#include "kiln/accel/isa.h"

namespace kiln::bench {

struct ConvShape {
  std::string name;
  int h = 0, w = 0;       // input size
  int cin = 0, cout = 0;  // channels (cin is padded up to block_in)
  int k = 3, stride = 1, pad = 1;
  int outH() const { return (h + 2 * pad - k) / stride + 1; }
  int outW() const { return (w + 2 * pad - k) / stride + 1; }
  double macs() const { return double(outH()) * outW() * cout * cin * k * k; }
};

// The 20 convolutions of ResNet-18 (224 x 224 input), the stem's 3 input channels padded to
// one block.
std::vector<ConvShape> resnet18Convs();

struct ConvStream {
  std::vector<accel::Insn> insns;
  uint64_t dramBytes = 0;  // the DRAM the stream uses, from address 0
  uint64_t outBase = 0, outBytes = 0;
};

// Builds the stream for `shape` on `config` and writes the layer's data into `dram` (resized
// to ConvStream::dramBytes). Throws kiln::Error when the config's buffers cannot hold a tile.
ConvStream buildConvStream(const accel::Config& config, const ConvShape& shape,
                           std::vector<uint8_t>& dram, uint32_t seed = 7);

}  // namespace kiln::bench
