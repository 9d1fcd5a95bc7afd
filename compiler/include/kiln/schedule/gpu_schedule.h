// GPU schedules (the CUDA and OpenCL back ends share them): every stage's spatial loops are
// bound to blocks and threads, so each GPU thread computes one output element or one small
// register tile of them; reduce loops stay serial inside the thread.
//   every family (the default, always correct): fuse all spatial axes, split by the block
//            size; outer -> blockIdx.x, inner -> threadIdx.x. The innermost axis is the
//            fastest-varying thread index, so neighbouring threads touch neighbouring
//            elements (coalesced loads and stores).
//   conv2d:  a register tile of ocBlock output channels per thread: split oc, order
//            (n, oc.o, oh, ow | rc, ry, rx | oc.i -> unrolled), fuse and bind the spatial
//            loops as above; each input element loaded feeds ocBlock multiply-adds, the
//            weights are the same for a whole warp (one broadcast load), and the ocBlock
//            sums stay in registers. ocBlock shrinks when the layer has too few outputs to
//            fill the GPU.
//   matmul:  the default (one output per thread, the columns on neighbouring threads), the
//            reduction split and 16 iterations unrolled when it is long (128 or more), so
//            each thread has that many independent loads in flight; its epilogue then runs
//            as a second launch.
//   pooling, reductions, elementwise: the default.
//   a reduction (conv2d, a short matmul, reduce) whose only reader is an elementwise output (bias,
//            batch norm, residual add, activation, computed inline) is computed at that
//            output's thread loop: the output takes the reduction's layout (conv2d: a tile
//            of ocBlock channels x owBlock columns, the largest that leaves fillThreads
//            threads), each thread computes its sums into a private array (registers),
//            and the epilogue reads them from there; the reduction never goes to memory
//            and the kernel is one launch instead of two. Used only when the block size
//            divides the outputs, so no thread computes sums for an element that does not
//            exist.
//   conv2d in shared-memory tiles (GpuTarget::convTiles): the output's blocks are tiles of
//            channels x rows x columns (blockIdx.x), its threads the register tiles inside
//            (threadIdx.x); the reduction runs over chunks of input channels, and per chunk
//            the input rows and weights the block needs are cache_read into "shared" stages
//            computed at the chunk loop, which the lowering copies cooperatively between
//            barriers (tir/cooperative_copy.cpp).
// Elementwise stages that are not outputs are computed inline.
// A split that does not divide its extent is guarded, so every shape is correct.
#pragma once

#include "kiln/schedule/schedule.h"

namespace kiln::schedule {

struct GpuTarget {
  int64_t threadsPerBlock = 256;
  // Blocks a launch should have at least, where it has enough threads (one per multiprocessor
  // or so): a small launch gets smaller blocks, down to one warp.
  int64_t minBlocks = 128;
  // Threads it takes to fill the device (SMs x resident threads); fewer outputs than this
  // make conv2d use a smaller register tile so that more threads run.
  int64_t fillThreads = 32 * 1024;
  int64_t maxOcBlock = 8;
  int64_t maxOwBlock = 4;  // columns of a conv2d register tile (with an epilogue)
  // conv2d with an epilogue: Registers, each thread reads its inputs and weights through L1
  // into its register tile; Shared, in shared-memory tiles wherever a tile fits
  // (planSharedConv in gpu_schedule.cpp: a block's input rows and weights are copied into
  // shared memory once per chunk of input channels and read by all its threads from there);
  // Auto, shared tiles where they were measured faster on an H100 (layers of 14x14 or more
  // whose register tiles are small, as at batch 1), registers elsewhere.
  enum class ConvTiles { Auto, Registers, Shared };
  ConvTiles convTiles = ConvTiles::Auto;
  // A row that no column count from 4 up to maxOwBlock divides (7 and 14, ResNet's last two
  // stages) is tiled by its largest divisor up to twice that (7), with fewer channels (and
  // half the threads fillThreads asks), where the window is wider than 1: 8 x 1 tiles load
  // one input per 8 multiply-adds; 2 x 7 tiles with the 3x3 window unrolled reuse each input
  // 6 times (ResNet-18 batch 16 on an H100: 0.67 -> 0.40 ms for each 7x7 layer, 5.30 -> 4.43
  // ms in all).
  bool fullRows = true;
  int64_t sharedFloats = 6144;  // shared memory a block's tiles may take (24 KiB)
  // Input channels per unrolled step of a register tile's reduction (1x1 windows, or 3x3
  // windows unrolled): a channel's window weights are consecutive, so 8 channels' start on a
  // 16-byte boundary and load as float4s (H100, batch 16: ResNet-18 4.42 -> 3.69 ms,
  // ResNet-50 11.49 -> 9.33 ms, with the kernels' alignment promise; 4 channels: 3.92, 10.27).
  int64_t rcUnroll = 8;
};

// Sets the fields named in `spec`, "key=value,...", keys oc (maxOcBlock), ow (maxOwBlock),
// rc (rcUnroll), fill (fillThreads), threads (threadsPerBlock), rows (fullRows, 0 or 1); for
// measuring schedules
// (KILN_GPU_TUNE). Throws an Error naming the bad entry.
void parseGpuTuning(const std::string& spec, GpuTarget* target);

// Binds the stage's spatial loops to blockIdx.x / threadIdx.x (the default for any family).
void scheduleGpuDefault(Stage& s, const GpuTarget& target);
void scheduleConv2dGpu(Stage& s, const GpuTarget& target);
// The default, with a long reduction (128 or more) split and its inner 16 unrolled.
void scheduleMatmulGpu(Stage& s, const GpuTarget& target);

// A schedule of the outputs for a GPU (every stage bound; the families above).
Schedule gpuSchedule(const std::vector<Tensor>& outputs, const GpuTarget& target = {});

}  // namespace kiln::schedule
