// Whole (small) networks through `--target accel` packages: a ResNet stem and basic block
// (every device operator of ResNet-18) quantized, partitioned, compiled and run by the
// runtime through the driver on the simulators: its int8 results bit-identical to the
// integer reference executor of the same quantized graph on every device and config, its
// top-1 the float model's; and a malformed package, a config-hash mismatch and a hung
// device (a stream missing a token) each refused with a clear error.
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>

#include "kiln/accel/isa.h"
#include "kiln/codegen/accel_package.h"
#include "kiln/driver/sim_func.h"
#include "kiln/frontend/load_model.h"
#include "kiln/passes/pass.h"
#include "kiln/passes/quantize.h"
#include "kiln/ref/executor.h"
#include "kiln/runtime/image.h"
#include "kiln/runtime/npy.h"
#include "kiln/runtime/package.h"
#include "kiln/sim/driver_backend.h"
#if KILN_HAVE_SIM_RTL
#include "kiln/sim/rtl_backend.h"
#endif

namespace kiln {
namespace {

namespace fs = std::filesystem;

const std::string kDir = KILN_ACCEL_MODELS_DIR;

NDArray input(int i) {
  return readNpy(kDir + "/resblock_in" + std::to_string(i) + ".npy");
}

struct Compiled {
  Graph floatGraph, quantized;
  std::string dir;
};

// The model quantized (calibrated on input 0) and compiled for `config` into a package.
Compiled compile(const std::string& config) {
  Compiled c;
  auto g = loadModel(kDir + "/resblock.onnx");
  if (!g) throw g.error();
  c.floatGraph = std::move(*g);
  optimizeGraph(c.floatGraph);
  for (Node* n : c.floatGraph.nodes()) n->attrs.erase(kFuseGroupAttr);
  c.quantized = quantizeGraph(c.floatGraph, calibrate(c.floatGraph, {{{"input", input(0)}}}));
  c.dir =
      (fs::temp_directory_path() / ("kiln_accel_pkg_" + config + "_" + std::to_string(::getpid())))
          .string();
  fs::remove_all(c.dir);
  codegen::writeAccelPackage(c.quantized, c.dir, codegen::aotTarget("host"),
                             accel::Config::find(config).value());
  return c;
}

std::unique_ptr<Package> load(const std::string& dir) {
  auto p = Package::load(dir);
  if (!p) throw p.error();
  return std::move(*p);
}

int64_t argmax(const NDArray& y) {
  const float* p = y.data<float>();
  return std::max_element(p, p + y.numel()) - p;
}

void expectIdentical(const NDArray& a, const NDArray& b, const std::string& what) {
  ASSERT_EQ(a.nbytes(), b.nbytes()) << what;
  EXPECT_EQ(std::memcmp(a.rawData(), b.rawData(), a.nbytes()), 0)
      << what << ": the outputs differ from the integer reference's";
}

TEST(AccelPackage, ResidualBlockOnEveryDeviceMatchesTheIntegerReference) {
  Compiled c = compile("pynq-z1");
  ref::Executor refInt(c.quantized), refFloat(c.floatGraph);
  std::vector<std::string> devices = {"sim-cycle", "sim-func"};
#if KILN_HAVE_SIM_RTL
  devices.push_back("sim-rtl");
#endif
  for (const std::string& d : devices) {
    auto p = load(c.dir);
    const accel::Config& cfg = *p->accelConfig();
    if (d == "sim-cycle")
      p->attachAccelerator(sim::makeSimCycleBackend(cfg, p->accelMemoryBytes()));
    if (d == "sim-func")
      p->attachAccelerator(driver::makeSimFuncBackend(cfg, p->accelMemoryBytes()));
#if KILN_HAVE_SIM_RTL
    if (d == "sim-rtl") {
      auto b = sim::makeSimRtlBackend(cfg, p->accelMemoryBytes());
      ASSERT_TRUE(b) << b.message();
      p->attachAccelerator(std::move(*b));
    }
#endif
    EXPECT_EQ(p->accelStepCount(), 8u)
        << "every conv, both poolings, the add and the classifier on the device";
    for (int i = 1; i <= 2; ++i) {
      std::map<std::string, NDArray> feeds{{"input", input(i)}};
      NDArray got = p->run(feeds)[0];
      expectIdentical(got, refInt.run(feeds)[0], d + ", input " + std::to_string(i));
      EXPECT_EQ(argmax(got), argmax(refFloat.run(feeds)[0])) << d << ": top-1 differs from float";
    }
    if (d == "sim-cycle") {
      uint64_t cycles = 0;
      for (const StepProfile& s : p->lastProfile())
        if (s.device == "accel") cycles += s.counters.at("CYCLES");
      EXPECT_GT(cycles, 0u);
    }
  }
  fs::remove_all(c.dir);
}

TEST(AccelPackage, EveryConfigCompilesAndRunsTheBlock) {
  for (const char* config : {"small", "ultrascale", "kv260"}) {
    Compiled c = compile(config);
    auto p = load(c.dir);
    p->attachAccelerator(driver::makeSimFuncBackend(*p->accelConfig(), p->accelMemoryBytes()));
    std::map<std::string, NDArray> feeds{{"input", input(1)}};
    expectIdentical(p->run(feeds)[0], ref::Executor(c.quantized).run(feeds)[0], config);
    fs::remove_all(c.dir);
  }
}

// Whole networks: every convolution (depthwise included), pooling, residual add and
// classifier on the device; concatenation, flattening and (de)quantization on the CPU.
// Calibrated on three photos, each photo's result equals the integer reference's bit for bit.
// Top-1 is the float model's on every photo, except where int8 quantization itself (the
// integer reference) already changes it.
// (Tens of seconds: quantization and the reference executors dominate; the cycle model
// simulates ResNet-18 in about a second.)
void checkNetwork(const std::string& file, size_t deviceSteps,
                  const std::string& config = "pynq-z1") {
  const std::string model = std::string(KILN_MODELS_DIR) + "/" + file;
  if (!fs::exists(model)) GTEST_SKIP() << model << " is missing (the models fixture makes it)";
  const std::string photos = "/usr/lib/python3/dist-packages/skimage/data/";
  std::vector<NDArray> samples;
  for (const char* f : {"chelsea.png", "astronaut.png", "coffee.png"})
    samples.push_back(
        imageToTensor(loadImage(photos + f), 224, 224, Preprocess::preset("imagenet")));
  auto g = loadModel(model);
  ASSERT_TRUE(g) << g.message();
  optimizeGraph(*g);
  for (Node* n : g->nodes()) n->attrs.erase(kFuseGroupAttr);
  std::vector<std::map<std::string, NDArray>> calib;
  for (const NDArray& x : samples) calib.push_back({{g->inputs()[0]->name, x}});
  Graph q = quantizeGraph(*g, calibrate(*g, calib));
  const std::string dir =
      (fs::temp_directory_path() / ("kiln_accel_net_" + std::to_string(::getpid()))).string();
  codegen::AccelPackageSummary sum = codegen::writeAccelPackage(
      q, dir, codegen::aotTarget("host"), accel::Config::builtin(config).value());
  EXPECT_EQ(sum.accelKernels, deviceSteps) << file << ": layers on the device";
  auto p = load(dir);
  p->attachAccelerator(sim::makeSimCycleBackend(*p->accelConfig(), p->accelMemoryBytes()));
  ref::Executor refInt(q), refFloat(*g);
  for (size_t i = 0; i < samples.size(); ++i) {
    std::map<std::string, NDArray> feeds{{g->inputs()[0]->name, samples[i]}};
    NDArray got = p->run(feeds)[0], want = refInt.run(feeds)[0];
    const std::string what = file + " on " + config + ", photo " + std::to_string(i);
    expectIdentical(got, want, what);
    EXPECT_EQ(argmax(got), argmax(want)) << what;
    if (argmax(want) == argmax(refFloat.run(feeds)[0])) {
      EXPECT_EQ(argmax(got), argmax(refFloat.run(feeds)[0]))
          << what << ": top-1 differs from float";
    }
  }
  fs::remove_all(dir);
}

TEST(AccelNetworks, ResNet18) {
  checkNetwork("resnet18.onnx", 31);  // 20 convolutions, 2 poolings, 8 adds, the classifier
}
TEST(AccelNetworks, ResNet18OnTheKV260Config) {
  checkNetwork("resnet18.onnx", 31, "kv260");  // UltraRAM weights change no result
}
TEST(AccelNetworks, MobileNetV2) {
  checkNetwork("mobilenetv2.onnx", 64);  // 52 convolutions, 10 adds, the pooling, classifier
}
TEST(AccelNetworks, SqueezeNet) {
  checkNetwork("squeezenet1_1.onnx", 30);  // 26 convolutions, 4 poolings
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(AccelPackage, BadPackagesAndDevicesAreRefusedClearly) {
  Compiled c = compile("pynq-z1");
  // A device built for another config.
  {
    auto p = load(c.dir);
    accel::Config other = accel::Config::builtin("small").value();
    std::string e = errorOf([&] { p->attachAccelerator(driver::makeSimFuncBackend(other)); });
    EXPECT_NE(e.find("config hash"), std::string::npos) << e;
    std::map<std::string, NDArray> feeds{{"input", input(1)}};
    e = errorOf([&] { p->run(feeds); });
    EXPECT_NE(e.find("choose a device"), std::string::npos) << e;
  }
  // A hung device: a stream whose first token is never pushed.
  {
    const fs::path insn = fs::path(c.dir) / "accel" / "2.insn";
    std::ifstream in(insn, std::ios::binary);
    std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(in), {});
    in.close();
    accel::Config cfg = accel::Config::builtin("pynq-z1").value();
    std::vector<accel::Insn> s = accel::decodeStream(cfg.layout(), bytes);
    bool cut = false;
    for (accel::Insn& x : s)
      if (!cut && (x.push_next || x.push_prev)) {
        x.push_next = x.push_prev = false;
        cut = true;
      }
    ASSERT_TRUE(cut);
    std::vector<uint8_t> broken = accel::encodeStream(cfg.layout(), s);
    const fs::path copy = c.dir + "_hung";
    fs::remove_all(copy);
    fs::copy(c.dir, copy, fs::copy_options::recursive);
    std::ofstream(copy / "accel" / "2.insn", std::ios::binary)
        .write(reinterpret_cast<const char*>(broken.data()), static_cast<long>(broken.size()));
    auto p = load(copy.string());
    p->attachAccelerator(sim::makeSimCycleBackend(*p->accelConfig(), p->accelMemoryBytes()));
    p->setAccelTimeout(std::chrono::milliseconds(20000));
    std::map<std::string, NDArray> feeds{{"input", input(1)}};
    std::string e = errorOf([&] { p->run(feeds); });
    EXPECT_NE(e.find("WATCHDOG"), std::string::npos) << e;
    EXPECT_NE(e.find("layer.0.conv1"), std::string::npos) << "the error names the layer: " << e;
    fs::remove_all(copy);
  }
  // A crafted stream: step 2's last STORE aimed 16 MiB past the package's device memory. The
  // driver checks every LOAD/STORE against the buffers it allocated and refuses it before
  // START, naming the step and the instruction.
  {
    const fs::path insn = fs::path(c.dir) / "accel" / "2.insn";
    std::ifstream in(insn, std::ios::binary);
    std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(in), {});
    in.close();
    accel::Config cfg = accel::Config::builtin("pynq-z1").value();
    std::vector<accel::Insn> s = accel::decodeStream(cfg.layout(), bytes);
    accel::Insn* store = nullptr;
    for (accel::Insn& x : s)
      if (x.opcode == accel::Opcode::kStore) store = &x;
    ASSERT_NE(store, nullptr);
    store->dram_base += static_cast<uint32_t>((16u << 20) / cfg.elementBytes(store->memory_type));
    std::vector<uint8_t> crafted = accel::encodeStream(cfg.layout(), s);
    const fs::path copy = c.dir + "_crafted";
    fs::remove_all(copy);
    fs::copy(c.dir, copy, fs::copy_options::recursive);
    std::ofstream(copy / "accel" / "2.insn", std::ios::binary)
        .write(reinterpret_cast<const char*>(crafted.data()), static_cast<long>(crafted.size()));
    auto p = load(copy.string());
    p->attachAccelerator(driver::makeSimFuncBackend(*p->accelConfig(), p->accelMemoryBytes()));
    std::map<std::string, NDArray> feeds{{"input", input(1)}};
    std::string e = errorOf([&] { p->run(feeds); });
    EXPECT_NE(e.find("not inside a buffer allocated through this driver: refused"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("(STORE"), std::string::npos) << "the error names the instruction: " << e;
    EXPECT_NE(e.find("on the accelerator"), std::string::npos) << "and the step: " << e;
    // The steps before it ran; the refused one never started: the device is idle and a
    // second run is refused the same way, not hung behind a launched stream.
    EXPECT_EQ(errorOf([&] { p->run(feeds); }), e);
    fs::remove_all(copy);
  }
  // Malformed packages: a truncated stream, a device image of the wrong size.
  {
    const fs::path insn = fs::path(c.dir) / "accel" / "0.insn";
    fs::resize_file(insn, 15);
    std::string e = errorOf([&] { load(c.dir); });
    EXPECT_NE(e.find("not a whole number"), std::string::npos) << e;
    EXPECT_NE(e.find("corrupt package"), std::string::npos) << e;
  }
  fs::remove_all(c.dir);
}

}  // namespace
}  // namespace kiln
