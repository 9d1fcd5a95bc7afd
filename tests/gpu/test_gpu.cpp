// The GPU back ends beyond single operators: what the C code generator emits for a scheduled
// kernel (launches, workspaces, thread indices, qualifiers, errors), what the devices say when
// they cannot open, and whole models compiled for OpenCL (run on PoCL here) and CUDA (run
// where there is a GPU; elsewhere their CUDA C is compiled by NVRTC and the run is skipped,
// saying why) against the reference executor on the unoptimized graph.
//
// Whole-model tolerance: max |gpu - ref| <= 1e-4 * max |ref| per output, the project's
// whole-model bound (the reference itself matches onnxruntime within it: tests/e2e).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "kiln/codegen/codegen_c.h"
#include "kiln/codegen/package_writer.h"
#include "kiln/frontend/onnx.h"
#include "kiln/passes/pass.h"
#include "kiln/ref/executor.h"
#include "kiln/runtime/device.h"
#include "kiln/runtime/error.h"
#include "kiln/runtime/package.h"
#include "kiln/schedule/gpu_schedule.h"
#include "kiln/tir/lower.h"
#include "kiln/tir/printer.h"
#include "kiln/topi/topi.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using namespace te;  // NOLINT

// A padded 3x3 convolution with a bias and ReLU epilogue, as one group would be compiled.
struct ConvCase {
  Tensor x = placeholder("x", DType::F32, {1, 4, 10, 10});
  Tensor w = placeholder("w", DType::F32, {8, 4, 3, 3});
  Tensor b = placeholder("b", DType::F32, {8});
  Tensor y = compute("y", {1, 8, 10, 10}, [&](const Indices& i) {
    return max(read(topi::conv2d(x, w, b, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, "c"), i), Expr(0.0f));
  });
  tir::Kernel kernel(const std::string& name = "conv_relu") {
    // A small device (256 threads fill it), so the 800 outputs take the full 8-channel tile.
    schedule::GpuTarget t;
    t.fillThreads = 64;
    t.minBlocks = 1;
    t.fullRows = false;  // 8 x 1 tiles, not 4 x 5 (half of a 10-wide row)
    return tir::lower(schedule::gpuSchedule({y}, t), {x, w, b, y}, name);
  }
};

// Two layers of the same shape (a network's repeated blocks) differ only in their names:
// the second calls the first one's functions, so the driver compiles them once.
TEST(CodegenC, LaunchesThatDifferOnlyInNamesShareAFunction) {
  ConvCase a, b;
  codegen::GpuModule m =
      codegen::emitC({a.kernel("first"), b.kernel("second")}, codegen::CDialect::OpenCL);
  ASSERT_EQ(m.kernels.size(), 2u);
  ASSERT_EQ(m.kernels[1].launches.size(), m.kernels[0].launches.size());
  for (size_t i = 0; i < m.kernels[0].launches.size(); ++i)
    EXPECT_EQ(m.kernels[1].launches[i].function, m.kernels[0].launches[i].function);
  EXPECT_NE(m.source.find("void first_1("), std::string::npos) << m.source;
  EXPECT_EQ(m.source.find("void second"), std::string::npos) << m.source;
  // A different shape keeps its own function.
  ConvCase c;
  c.y = compute("y", {1, 8, 10, 10}, [&](const Indices& i) {
    return max(read(topi::conv2d(c.x, c.w, c.b, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, "c"), i),
               Expr(1.0f));
  });
  codegen::GpuModule m2 =
      codegen::emitC({a.kernel("first"), c.kernel("third")}, codegen::CDialect::CUDA);
  EXPECT_NE(m2.source.find("void __launch_bounds__(100) third_1("), std::string::npos) << m2.source;
}

TEST(CodegenC, OneLaunchPerRootNestAndWorkspacesForRootStorage) {
  ConvCase c;
  codegen::GpuModule cl = codegen::emitC({c.kernel()}, codegen::CDialect::OpenCL);
  ASSERT_EQ(cl.kernels.size(), 1u);
  const codegen::GpuKernel& k = cl.kernels[0];
  EXPECT_EQ(k.params, 4u);
  // The zero-bordered input is written by one launch and read by the next: a workspace.
  ASSERT_EQ(k.launches.size(), 2u) << cl.source;
  ASSERT_EQ(k.workspaceBytes.size(), 1u);
  EXPECT_EQ(k.workspaceBytes[0], 4 * 12 * 12 * 4);
  // 800 outputs in tiles of 8 channels: 100 threads, one block of them, no guard.
  EXPECT_EQ(k.launches[1].grid, (std::array<int64_t, 3>{1, 1, 1}));
  EXPECT_EQ(k.launches[1].block, (std::array<int64_t, 3>{100, 1, 1}));
  EXPECT_NE(cl.source.find("reqd_work_group_size(100, 1, 1))) void conv_relu_1("),
            std::string::npos)
      << cl.source;
  EXPECT_NE(cl.source.find("get_local_id(0)"), std::string::npos);
  // The sums live in a private array of one tile; the conv never reaches global memory.
  EXPECT_NE(cl.source.find("float c_conv[8];"), std::string::npos) << cl.source;
  // Read-only buffers are const, all are restrict.
  EXPECT_NE(cl.source.find("__global const float* restrict w"), std::string::npos) << cl.source;
  EXPECT_NE(cl.source.find("__global float* restrict y"), std::string::npos) << cl.source;

  codegen::GpuModule cu = codegen::emitC({c.kernel()}, codegen::CDialect::CUDA);
  EXPECT_NE(cu.source.find("extern \"C\" __global__ void __launch_bounds__(100) conv_relu_1("),
            std::string::npos)
      << cu.source;
  EXPECT_NE(cu.source.find("threadIdx.x"), std::string::npos);
  EXPECT_NE(cu.source.find("const float* __restrict__ w"), std::string::npos);
  EXPECT_EQ(cu.source.find("get_local_id"), std::string::npos);
}

TEST(CodegenC, UnboundNestRunsAsOneThreadAndFragmentIsRefused) {
  Tensor x = placeholder("x", DType::F32, {5});
  Tensor y = compute("y", {5}, [&](const Indices& i) { return read(x, i) * Expr(3.0f); });
  schedule::Schedule plain({y});
  codegen::GpuModule m =
      codegen::emitC({tir::lower(plain, {x, y}, "serial")}, codegen::CDialect::CUDA);
  ASSERT_EQ(m.kernels[0].launches.size(), 1u);
  EXPECT_EQ(m.kernels[0].launches[0].grid, (std::array<int64_t, 3>{1, 1, 1}));
  EXPECT_EQ(m.kernels[0].launches[0].block, (std::array<int64_t, 3>{1, 1, 1}));
  EXPECT_NE(m.source.find("for (int y_i0 = 0; y_i0 < (0 + 5); ++y_i0)"), std::string::npos)
      << m.source;

  schedule::Schedule frag({y});
  frag[y].bind(frag[y].axis(0), "fragment");
  try {
    codegen::emitC({tir::lower(frag, {x, y}, "frag")}, codegen::CDialect::OpenCL);
    FAIL() << "a fragment binding was accepted by the OpenCL generator";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("only the GLSL back end runs"), std::string::npos)
        << e.what();
  }
  Tensor z = compute("z", {2048}, [&](const Indices& i) { return read(x, {i[0] % 5}); });
  schedule::Schedule tooMany({z});
  tooMany[z].bind(tooMany[z].axis(0), "threadIdx.x");
  try {
    codegen::emitC({tir::lower(tooMany, {x, z}, "wide")}, codegen::CDialect::CUDA);
    FAIL() << "2048 threads per block were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("2048 threads per block"), std::string::npos) << e.what();
  }
}

TEST(CodegenC, FloorDivisionOnlyWhereTheDividendMayBeNegative) {
  Tensor x = placeholder("x", DType::F32, {12});
  // (i * 5) % 12 of a loop index: C's own %; (i - 5) / 4: the floor helper.
  Tensor y = compute("y", {12}, [&](const Indices& i) {
    return read(x, {i[0] * 5 % 12}) + select((i[0] - 5) / 4 < Expr(0), Expr(1.0f), Expr(0.0f));
  });
  codegen::GpuModule m = codegen::emitC({tir::lower(schedule::gpuSchedule({y}), {x, y}, "fd")},
                                        codegen::CDialect::OpenCL);
  EXPECT_NE(m.source.find("(long)kiln_fdiv((((y_i0_o * 12) + y_i0_i) - 5), 4)"), std::string::npos)
      << m.source;
  EXPECT_NE(m.source.find(" * 5) % 12)]"), std::string::npos) << m.source;
  EXPECT_EQ(m.source.find("kiln_fmod(("), std::string::npos) << m.source;
}

// A register tile with its 3x3 window unrolled also unrolls 8 input channels per step (each
// channel's window weights are consecutive, so 8 channels' start 16-byte aligned), and the CUDA
// kernel promises the compiler 16-byte aligned buffers, so it loads them as float4s; OpenCL
// C gets no such promise.
TEST(CodegenC, TileUnrollsEightChannelsAndCudaPromisesAlignedBuffers) {
  Tensor x = placeholder("x", DType::F32, {1, 16, 8, 8});
  Tensor w = placeholder("w", DType::F32, {8, 16, 3, 3});
  Tensor b = placeholder("b", DType::F32, {8});
  Tensor y = compute("y", {1, 8, 8, 8}, [&](const Indices& i) {
    return max(read(topi::conv2d(x, w, b, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, "c"), i), Expr(0.0f));
  });
  schedule::GpuTarget t;
  t.fillThreads = 16;  // 512 outputs in 8 x 4 tiles
  t.minBlocks = 1;
  const tir::Kernel k = tir::lower(schedule::gpuSchedule({y}, t), {x, w, b, y}, "tile");
  const std::string ir = tir::printKernel(k);
  // 16 channels: 2 steps, each 8 channels unrolled (no loop left over them)
  EXPECT_NE(ir.find("for (c.rc.o, 0, 2) {"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("(c.rc.i,"), std::string::npos) << ir;
  const codegen::GpuModule cu = codegen::emitC({k}, codegen::CDialect::CUDA);
  // the last of the step's 72 consecutive weights of the tile's first channel
  EXPECT_NE(cu.source.find("w[((((((c_rc_o * 8) + 7) * 3) + 2) * 3) + 2)]"), std::string::npos)
      << cu.source;
  for (const char* p : {"x = (const float*)__builtin_assume_aligned(x, 16);",
                        "w = (const float*)__builtin_assume_aligned(w, 16);",
                        "y = (float*)__builtin_assume_aligned(y, 16);"})
    EXPECT_NE(cu.source.find(p), std::string::npos) << p << "\n" << cu.source;
  const codegen::GpuModule cl = codegen::emitC({k}, codegen::CDialect::OpenCL);
  EXPECT_EQ(cl.source.find("assume_aligned"), std::string::npos) << cl.source;
}

// KILN_GPU_TUNE's parser: the named fields set, anything else a clear error naming the entry.
TEST(CodegenC, GpuTuningSetsTheNamedFieldsAndRefusesTheRest) {
  schedule::GpuTarget t;
  schedule::parseGpuTuning("oc=16,ow=2,rc=4,fill=1000,threads=128,rows=0", &t);
  EXPECT_FALSE(t.fullRows);
  EXPECT_EQ(t.maxOcBlock, 16);
  EXPECT_EQ(t.maxOwBlock, 2);
  EXPECT_EQ(t.rcUnroll, 4);
  EXPECT_EQ(t.fillThreads, 1000);
  EXPECT_EQ(t.threadsPerBlock, 128);
  for (const char* bad :
       {"rc=x", "rc=4x", "oc=0", "tile=8", "threads=100", "rc", "rows=2", "rows=x"}) {
    try {
      schedule::parseGpuTuning(bad, &t);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("'" + std::string(bad) + "'"), std::string::npos)
          << e.what();
    }
  }
}

// Shared-memory tiles: a convolution (bias, ReLU) whose blocks copy their input rows and
// weights into shared memory between barriers gives the same output as a direct loop, at
// stride 1 and 2, on the OpenCL device; and the CUDA C of it compiles.
TEST(CodegenC, SharedMemoryTilesMatchADirectConvolution) {
  for (int64_t stride : {1, 2}) {
    const int64_t N = 2, C = 8, H = 16 * stride, OC = 16, OH = 16;
    Tensor x = placeholder("x", DType::F32, {N, C, H, H});
    Tensor w = placeholder("w", DType::F32, {OC, C, 3, 3});
    Tensor b = placeholder("b", DType::F32, {OC});
    Tensor y = compute("y", {N, OC, OH, OH}, [&](const Indices& i) {
      return max(read(topi::conv2d(x, w, b, {stride, stride}, {1, 1, 1, 1}, {1, 1}, 1, "c"), i),
                 Expr(0.0f));
    });
    schedule::GpuTarget t;
    t.fillThreads = 64;
    t.minBlocks = 2;
    t.convTiles = schedule::GpuTarget::ConvTiles::Shared;
    t.sharedFloats = 1024;  // small enough that the channels come in several chunks
    tir::Kernel k = tir::lower(schedule::gpuSchedule({y}, t), {x, w, b, y}, "conv_shared");
    codegen::GpuModule cl = codegen::emitC({k}, codegen::CDialect::OpenCL);
    ASSERT_NE(cl.source.find("__local float"), std::string::npos) << cl.source;
    ASSERT_NE(cl.source.find("barrier(CLK_LOCAL_MEM_FENCE);"), std::string::npos) << cl.source;
    codegen::GpuModule cu = codegen::emitC({k}, codegen::CDialect::CUDA);
    EXPECT_NE(cu.source.find("__shared__ float"), std::string::npos) << cu.source;
    EXPECT_NE(cu.source.find("__syncthreads();"), std::string::npos) << cu.source;
    try {
      compileCudaSource(cu.source, "90");
    } catch (const Error& e) {
      if (std::string(e.what()).find("not found") == std::string::npos) FAIL() << e.what();
    }

    std::unique_ptr<Device> d;
    try {
      d = openDevice("opencl");
    } catch (const Error& e) {
      GTEST_SKIP() << "no OpenCL device: " << e.what();
    }
    std::mt19937 gen(stride);
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<float> xv(N * C * H * H), wv(OC * C * 9), bv(OC), yv(N * OC * OH * OH);
    for (float& v : xv) v = u(gen);
    for (float& v : wv) v = u(gen);
    for (float& v : bv) v = u(gen);
    d->build(cl.source);
    const codegen::GpuKernel& gk = cl.kernels[0];
    std::vector<void*> bufs;
    for (auto [host, bytes] :
         std::vector<std::pair<const float*, size_t>>{{xv.data(), xv.size() * 4},
                                                      {wv.data(), wv.size() * 4},
                                                      {bv.data(), bv.size() * 4},
                                                      {nullptr, yv.size() * 4}}) {
      bufs.push_back(d->allocate(bytes));
      if (host) d->upload(bufs.back(), host, bytes);
    }
    for (int64_t bytes : gk.workspaceBytes) bufs.push_back(d->allocate(static_cast<size_t>(bytes)));
    for (const codegen::GpuLaunch& l : gk.launches)
      d->launch(d->function(l.function), l.grid, l.block, bufs);
    d->sync();
    d->download(yv.data(), bufs[3], yv.size() * 4);
    for (void* p : bufs) d->release(p);
    double worst = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t oc = 0; oc < OC; ++oc)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OH; ++ow) {
            double acc = bv[oc];
            for (int64_t c = 0; c < C; ++c)
              for (int64_t ky = 0; ky < 3; ++ky)
                for (int64_t kx = 0; kx < 3; ++kx) {
                  const int64_t ih = oh * stride - 1 + ky, iw = ow * stride - 1 + kx;
                  if (ih < 0 || iw < 0 || ih >= H || iw >= H) continue;
                  acc += double(xv[((n * C + c) * H + ih) * H + iw]) *
                         wv[((oc * C + c) * 3 + ky) * 3 + kx];
                }
            const double want = std::max(acc, 0.0);
            worst = std::max(worst, std::abs(want - yv[((n * OC + oc) * OH + oh) * OH + ow]));
          }
    EXPECT_LE(worst, 1e-4) << "stride " << stride << "\n" << cl.source;
  }
}

TEST(Devices, UnknownDeviceIsAClearError) {
  try {
    openDevice("vulkan");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected opencl or cuda"), std::string::npos);
  }
}

TEST(Devices, OpenCLBuildErrorsCarryTheCompilerLog) {
  std::unique_ptr<Device> d;
  try {
    d = openDevice("opencl");
  } catch (const Error& e) {
    GTEST_SKIP() << e.what();
  }
  try {
    d->build("__kernel void broken(__global float* p) { p[0] = undeclared; }");
    FAIL() << "a broken kernel built";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("undeclared"), std::string::npos) << e.what();
  }
}

// ---- whole models ----

std::string deviceUnavailable(const std::string& kind) {
  try {
    openDevice(kind);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

struct ModelCase {
  std::string model, device;
};
std::ostream& operator<<(std::ostream& os, const ModelCase& c) {
  return os << c.model << "_" << c.device;
}

class GpuModels : public ::testing::TestWithParam<ModelCase> {};

TEST_P(GpuModels, MatchTheReference) {
  const auto [name, kind] = GetParam();
  const fs::path model = fs::path(KILN_MODELS_DIR) / (name + ".onnx");
  ASSERT_TRUE(fs::exists(model)) << model << " is missing (the gen_models fixture makes it)";
  Expected<Graph> g = importOnnx(model.string());
  ASSERT_TRUE(g) << g.message();
  Expected<Graph> optimized = importOnnx(model.string());
  optimizeGraph(*optimized);
  const fs::path dir = fs::temp_directory_path() /
                       ("kiln-gpu-model-" + name + "-" + kind + "-" + std::to_string(::getpid()));
  const auto dialect = kind == "cuda" ? codegen::CDialect::CUDA : codegen::CDialect::OpenCL;
  auto t0 = std::chrono::steady_clock::now();
  codegen::PackageSummary s = codegen::writeGpuPackage(*optimized, dir.string(), dialect);
  if (std::string why = deviceUnavailable(kind); !why.empty()) {
    std::ifstream f(dir / "kernels.cu");
    const std::string source((std::istreambuf_iterator<char>(f)), {});
    fs::remove_all(dir);
    try {
      compileCudaSource(source, "90");
      why = "its CUDA C compiles for sm_90; not run: " + why;
    } catch (const Error& e) {
      if (std::string(e.what()).find("not found") == std::string::npos) FAIL() << e.what();
      why += std::string("; ") + e.what();
    }
    GTEST_SKIP() << why;
  }
  auto p = Package::load(dir.string());
  fs::remove_all(dir);
  ASSERT_TRUE(p) << p.message();
  const double loadMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  std::map<std::string, NDArray> feeds;
  uint32_t seed = 1;
  for (Value* in : g->inputs()) {
    NDArray x(DType::F32, in->shape);
    std::mt19937 gen(seed++);
    std::uniform_real_distribution<float> d(-1, 1);
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = d(gen);
    feeds[in->name] = x;
  }
  std::vector<NDArray> got = (*p)->run(feeds);
  std::vector<NDArray> want = ref::Executor(*g).run(feeds);
  std::cout << "[ " << name << " ] " << s.kernels << " kernels on " << (*p)->target()
            << "; compiled and loaded in " << loadMs << " ms\n";
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) {
    ASSERT_EQ(got[k].shape(), want[k].shape());
    auto gv = got[k].toFloatVector(), wv = want[k].toFloatVector();
    double maxAbs = 0, maxRef = 0;
    for (size_t i = 0; i < wv.size(); ++i) {
      double d = std::abs(double(gv[i]) - wv[i]);
      if (!(d <= maxAbs)) maxAbs = d;
      maxRef = std::max(maxRef, std::abs(double(wv[i])));
    }
    EXPECT_LE(maxAbs, 1e-4 * maxRef) << name << " output " << k << " on " << kind;
    std::cout << "[ " << name << " ] max|diff| " << maxAbs << " / max|ref| " << maxRef << "\n";
  }
}

std::vector<ModelCase> cases(const std::vector<std::string>& models,
                             const std::vector<std::string>& devices) {
  std::vector<ModelCase> c;
  for (const std::string& d : devices)
    for (const std::string& m : models) c.push_back({m, d});
  return c;
}

// Untuned shapes (odd sizes, groups, dilation, padding modes) and SqueezeNet; the networks
// of the acceptance (ResNet-18, MobileNet v2, ResNet-50). All run by default.
INSTANTIATE_TEST_SUITE_P(
    Default, GpuModels,
    ::testing::ValuesIn(cases({"odd_input", "grouped_dilated", "asym_pads", "avgpool_pad",
                               "gemm_variants", "broadcast_ops", "softmax_opset11",
                               "concat_reshape", "squeezenet1_1"},
                              {"opencl", "cuda"})),
    [](const auto& info) { return info.param.model + "_" + info.param.device; });
INSTANTIATE_TEST_SUITE_P(
    Networks, GpuModels,
    ::testing::ValuesIn(cases({"resnet18", "mobilenetv2", "resnet50"}, {"opencl", "cuda"})),
    [](const auto& info) { return info.param.model + "_" + info.param.device; });

}  // namespace
}  // namespace kiln
