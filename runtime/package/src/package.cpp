// Loading and running compiled model packages.
#include "kiln/runtime/package.h"

#include <dlfcn.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "gpu_executor.h"
#include "kiln/runtime/accel_layout.h"
#include "kiln/runtime/thread_pool.h"
#if KILN_PACKAGE_ACCEL
#include <sstream>

#include "kiln/accel/config.h"
#include "kiln/accel/isa.h"
#include "kiln/driver/accelerator.h"
#endif

namespace kiln {

namespace {

using json = nlohmann::json;

// The CPU this runtime was built for, as package targets name it.
const char* hostCpuFamily() {
#if defined(__aarch64__)
  return "aarch64";
#elif defined(__arm__)
  return "armv7";
#elif defined(__x86_64__)
  return "x86_64";
#else
  return "unknown";
#endif
}

}  // namespace

// Kernels call kiln_parallel_for, which dlopen resolves from the program that loads them:
// this reference keeps it linked into every program that links packages.
extern "C" void* const kiln_package_runtime_symbols[] = {
    reinterpret_cast<void*>(&kiln_parallel_for)};

// A GPU package: the source, every step's launches and workspaces, the device.
struct GpuPackageLoader {
  static void load(Package& p, const std::string& kind, const std::filesystem::path& dir,
                   const nlohmann::json& m);
};

Package::~Package() {
  if (library_) ::dlclose(library_);
}

Expected<std::unique_ptr<Package>> Package::load(const std::string& dirPath) {
  return catchErrors([&]() -> std::unique_ptr<Package> {
    namespace fs = std::filesystem;
    const fs::path dir(dirPath);
    std::ifstream mf(dir / "manifest.json");
    if (!mf) throw Error(dirPath + ": not a Kiln package (no manifest.json)");
    json m;
    try {
      m = json::parse(mf);
    } catch (const json::exception& e) {
      throw Error(dirPath + "/manifest.json: not valid JSON: " + e.what());
    }
    try {
      if (m.value("format", "") != "kiln-package")
        throw Error("manifest.json is not a Kiln package manifest");
      const int version = m.value("version", 0);
      if (version != kPackageFormatVersion)
        throw Error("package format version " + std::to_string(version) +
                    " is not supported by this runtime (it reads " +
                    std::to_string(kPackageFormatVersion) +
                    "); recompile the model with this version of Kiln");
      std::unique_ptr<Package> p(new Package());
      const json& target = m.at("target");
      const std::string kind = target.at("kind").get<std::string>();
      const bool gpu = kind == "opencl" || kind == "cuda";
      if (kind != "llvm" && kind != "accel" && !gpu)
        throw Error("target '" + kind + "' is not one this runtime runs");
      if (!gpu)
        p->target_ = kind + " " + target.at("cpu").get<std::string>() + " (" +
                     target.at("triple").get<std::string>() + ")";
      if (kind == "accel") {
#if KILN_PACKAGE_ACCEL
        const json& a = target.at("accel");
        Expected<accel::Config> c =
            a.contains("file")
                ? accel::Config::load((dir / a.at("file").get<std::string>()).string())
                : accel::Config::builtin(a.at("name").get<std::string>());
        if (!c) throw Error("the package's accelerator config: " + c.message());
        std::ostringstream h;
        h << "0x" << std::hex << c->hash();
        if (h.str() != a.at("hash").get<std::string>())
          throw Error("the package's accelerator config hashes to " + h.str() +
                      " but its manifest records " + a.at("hash").get<std::string>() +
                      " (corrupt package): recompile it");
        p->accelConfig_ = std::make_shared<accel::Config>(*c);
        p->target_ += ", accelerator config " + c->name() + " (" + h.str() + ")";
#else
        throw Error(
            "this runtime was built without the accelerator driver; it cannot run a "
            "package for target 'accel'");
#endif
      }
      if (!gpu && target.at("family") != hostCpuFamily())
        throw Error("the package was compiled for " + target.at("family").get<std::string>() +
                    " (" + target.at("cpu").get<std::string>() + ") but this is " +
                    hostCpuFamily() + ": compile it with --cpu for this machine");
      // Named, so that it outlives the loop (items() of a temporary dangles).
      const json metadata = m.value("metadata", json::object());
      for (auto& [k, v] : metadata.items()) p->metadata_[k] = v.get<std::string>();

      // Constants.
      const fs::path paramsPath = dir / m.at("params").get<std::string>();
      std::ifstream pf(paramsPath, std::ios::binary);
      if (!pf) throw Error("cannot open " + paramsPath.string());
      pf.seekg(0, std::ios::end);
      const size_t paramBytes = static_cast<size_t>(pf.tellg());
      pf.seekg(0);
      p->params_ = NDArray(DType::U8, {static_cast<int64_t>(paramBytes)});
      pf.read(static_cast<char*>(p->params_.rawData()), static_cast<std::streamsize>(paramBytes));
      if (!pf) throw Error("cannot read " + paramsPath.string());

      p->arenaBytes_ = m.at("arena_bytes").get<size_t>();
      for (const json& v : m.at("values")) {
        Slot s;
        s.tensor = {v.at("name"), parseDType(v.at("dtype").get<std::string>()),
                    v.at("shape").get<Shape>()};
        const std::string storage = v.at("storage");
        s.storage = storage == "input"   ? Storage::kInput
                    : storage == "const" ? Storage::kConst
                                         : Storage::kArena;
        if (storage != "input" && storage != "const" && storage != "arena")
          throw Error("value '" + s.tensor.name + "' has unknown storage '" + storage + "'");
        s.offset = v.value("offset", size_t{0});
        s.bytes = static_cast<size_t>(shapeNumel(s.tensor.shape)) * dtypeSize(s.tensor.dtype);
        const size_t limit = s.storage == Storage::kConst ? paramBytes : p->arenaBytes_;
        if (s.storage != Storage::kInput && s.offset + s.bytes > limit)
          throw Error("value '" + s.tensor.name + "' lies outside the " +
                      (s.storage == Storage::kConst ? "parameters file" : "activation arena") +
                      " (corrupt or truncated package)");
        p->slots_.push_back(std::move(s));
      }
      auto ids = [&](const json& list, std::vector<size_t>& out,
                     std::vector<PackageTensor>& tensors) {
        for (const json& i : list) {
          size_t id = i.get<size_t>();
          if (id >= p->slots_.size())
            throw Error("value id " + std::to_string(id) + " out of range");
          out.push_back(id);
          tensors.push_back(p->slots_[id].tensor);
        }
      };
      ids(m.at("inputs"), p->inputIds_, p->inputs_);
      ids(m.at("outputs"), p->outputIds_, p->outputs_);

      if (gpu) {
        GpuPackageLoader::load(*p, kind, dir, m);
        return p;
      }
      // Kernels.
      const fs::path lib = fs::absolute(dir / m.at("library").get<std::string>());
      p->library_ = ::dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!p->library_) throw Error("cannot load " + lib.string() + ": " + ::dlerror());
      for (const json& s : m.at("steps")) {
        if (s.value("kind", "cpu") == "accel") {
          p->steps_.push_back(p->loadAccelStep(dir, s));
          continue;
        }
        const std::string name = s.at("kernel");
        void* sym = ::dlsym(p->library_, name.c_str());
        if (!sym) throw Error(lib.string() + " has no kernel '" + name + "'");
        Step step{reinterpret_cast<KernelFn>(sym), {}, -1, s.value("node", name), "cpu"};
        for (const json& a : s.at("args")) {
          size_t id = a.get<size_t>();
          if (id >= p->slots_.size())
            throw Error("kernel '" + name + "' names value " + std::to_string(id) +
                        ", which does not exist");
          step.args.push_back(id);
        }
        p->steps_.push_back(std::move(step));
      }
      p->arena_ = NDArray(DType::U8, {static_cast<int64_t>(std::max<size_t>(p->arenaBytes_, 1))});
      return p;
    } catch (const json::exception& e) {
      throw Error(dirPath + "/manifest.json: malformed: " + e.what());
    } catch (const Error& e) {
      std::string msg = e.what();
      if (msg.rfind(dirPath, 0) == 0) throw;
      throw Error(dirPath + ": " + msg);
    }
  });
}

void GpuPackageLoader::load(Package& p, const std::string& kind, const std::filesystem::path& dir,
                            const nlohmann::json& m) {
  using json = nlohmann::json;
  using Slot = Package::Slot;
  using Storage = Package::Storage;
  const std::filesystem::path srcPath = dir / m.at("library").get<std::string>();
  std::ifstream sf(srcPath);
  if (!sf) throw Error("cannot open " + srcPath.string());
  const std::string source((std::istreambuf_iterator<char>(sf)), {});
  std::vector<size_t> bytes;
  std::vector<const void*> constData;
  for (const Slot& s : p.slots_) {
    bytes.push_back(s.bytes);
    constData.push_back(s.storage == Storage::kConst
                            ? static_cast<const uint8_t*>(p.params_.rawData()) + s.offset
                            : nullptr);
  }
  std::vector<GpuExecutor::Step> steps;
  for (const json& s : m.at("steps")) {
    GpuExecutor::Step step;
    for (const json& a : s.at("args")) {
      const size_t id = a.get<size_t>();
      if (id >= p.slots_.size())
        throw Error("kernel '" + s.at("kernel").get<std::string>() + "' names value " +
                    std::to_string(id) + ", which does not exist");
      step.args.push_back(id);
    }
    step.workspaceBytes = s.at("workspace").get<std::vector<int64_t>>();
    for (const json& l : s.at("launches"))
      step.launches.push_back({l.at("function").get<std::string>(),
                               l.at("grid").get<std::array<int64_t, 3>>(),
                               l.at("block").get<std::array<int64_t, 3>>()});
    p.steps_.push_back(Package::Step{nullptr, step.args});
    steps.push_back(std::move(step));
  }
  std::unique_ptr<Device> device = openDevice(kind);
  p.target_ = kind + " " + device->description();
  p.deviceKind_ = kind;
  p.gpu_ = std::make_unique<GpuExecutor>(std::move(device), source, bytes, constData, steps);
  if (p.gpu_->recorded()) p.target_ += ", one CUDA graph";
}

double Package::timeOnDevice(int n) {
  if (!gpu_) throw Error("timeOnDevice: this package runs on the CPU, not on a GPU");
  return gpu_->timeResident(n);
}

std::vector<std::pair<std::string, double>> Package::profileOnDevice(int n) {
  if (!gpu_) throw Error("profileOnDevice: this package runs on the CPU, not on a GPU");
  return gpu_->profileLaunches(n);
}

std::vector<NDArray> Package::run(const std::map<std::string, NDArray>& inputs) {
  std::vector<void*> ptr(slots_.size(), nullptr);
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (s.storage == Storage::kConst) ptr[i] = static_cast<uint8_t*>(params_.rawData()) + s.offset;
    if (s.storage == Storage::kArena) ptr[i] = static_cast<uint8_t*>(arena_.rawData()) + s.offset;
  }
  for (size_t id : inputIds_) {
    const PackageTensor& t = slots_[id].tensor;
    auto it = inputs.find(t.name);
    if (it == inputs.end()) throw Error("no value given for input '" + t.name + "'");
    if (it->second.dtype() != t.dtype || it->second.shape() != t.shape)
      throw Error("input '" + t.name + "' is " + std::string(dtypeName(it->second.dtype())) +
                  shapeStr(it->second.shape()) + " but the package expects " +
                  std::string(dtypeName(t.dtype)) + shapeStr(t.shape));
    ptr[id] = const_cast<void*>(it->second.rawData());
  }
  if (gpu_) {
    std::vector<std::pair<size_t, const void*>> in;
    for (size_t id : inputIds_) in.emplace_back(id, ptr[id]);
    std::vector<NDArray> outs;
    std::vector<std::pair<size_t, void*>> out;
    for (size_t id : outputIds_) {
      outs.emplace_back(slots_[id].tensor.dtype, slots_[id].tensor.shape);
      out.emplace_back(id, outs.back().rawData());
    }
    gpu_->run(in, out);
    return outs;
  }
  std::vector<void*> args;
  profile_.clear();
  for (const Step& s : steps_) {
    StepProfile prof;
    prof.node = s.node;
    prof.op = s.op;
    prof.device = s.accel >= 0 ? "accel" : "cpu";
    const auto t0 = std::chrono::steady_clock::now();
    if (s.accel >= 0) {
      runAccelStep(accelSteps_[static_cast<size_t>(s.accel)], ptr, prof);
    } else {
      args.clear();
      for (size_t id : s.args) args.push_back(ptr[id]);
      s.fn(args.data());
    }
    prof.wallMs =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    profile_.push_back(std::move(prof));
  }
  std::vector<NDArray> outs;
  for (size_t id : outputIds_) {
    NDArray o(slots_[id].tensor.dtype, slots_[id].tensor.shape);
    std::memcpy(o.rawData(), ptr[id], o.nbytes());
    outs.push_back(std::move(o));
  }
  return outs;
}

#if KILN_PACKAGE_ACCEL

Package::Step Package::loadAccelStep(const std::filesystem::path& dir, const json& s) {
  namespace fs = std::filesystem;
  const std::string node = s.at("node");
  auto readAll = [&](const std::string& rel) {
    const fs::path f = dir / rel;
    std::ifstream in(f, std::ios::binary);
    if (!in) throw Error("step '" + node + "': cannot open " + f.string());
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
  };
  AccelStep a;
  a.stream = readAll(s.at("stream"));
  a.image = readAll(s.at("image"));
  a.macs = s.value("macs", uint64_t{0});
  const size_t word = static_cast<size_t>(accelConfig_->value("instruction_width")) / 8;
  if (a.stream.empty() || a.stream.size() % word)
    throw Error("step '" + node + "': its stream is " + std::to_string(a.stream.size()) +
                " bytes, not a whole number of " + std::to_string(word) +
                "-byte instructions (corrupt package)");
  if (a.image.size() != s.at("arena_bytes").get<size_t>())
    throw Error("step '" + node + "': its device image is " + std::to_string(a.image.size()) +
                " bytes but the manifest says " +
                std::to_string(s.at("arena_bytes").get<size_t>()) + " (corrupt package)");
  auto io = [&](const json& j) {
    AccelIo x;
    x.value = j.at("value");
    x.offset = j.at("offset");
    x.batch = j.at("batch");
    x.block = j.at("block");
    if (x.value >= slots_.size())
      throw Error("step '" + node + "' names value " + std::to_string(x.value) +
                  ", which does not exist");
    const PackageTensor& t = slots_[x.value].tensor;
    if (t.dtype != DType::I8 || x.batch <= 0 || x.block <= 0)
      throw Error("step '" + node + "': device tensors are int8 in blocks; '" + t.name +
                  "' is not");
    const size_t bytes =
        static_cast<size_t>(shapeNumel(accel_layout::packedShape(t.shape, x.batch, x.block)));
    if (x.offset + bytes > a.image.size())
      throw Error("step '" + node + "': '" + t.name +
                  "' lies outside its device memory (corrupt package)");
    return x;
  };
  for (const json& j : s.at("inputs")) a.inputs.push_back(io(j));
  a.output = io(s.at("output"));
  Step step;
  step.accel = static_cast<int>(accelSteps_.size());
  step.node = node;
  step.op = s.value("op", "accel");
  accelSteps_.push_back(std::move(a));
  return step;
}

size_t Package::accelMemoryBytes() const {
  size_t total = 0;
  for (const AccelStep& a : accelSteps_) total += (a.image.size() + 4095) / 4096 * 4096 + 4096;
  for (const AccelStep& a : accelSteps_) total += (a.stream.size() + 4095) / 4096 * 4096 + 4096;
  return total + (1 << 16);
}

void Package::attachAccelerator(std::unique_ptr<driver::Backend> backend) {
  if (!accelConfig_)
    throw Error("this package's target is " + target_ + "; it has no accelerator steps");
  Expected<std::unique_ptr<driver::Accelerator>> a =
      driver::Accelerator::open(std::move(backend), *accelConfig_);
  if (!a) throw Error(a.message());
  accelerator_ = std::move(*a);
  // One device buffer holds every step's memory, each at a page; the streams address DRAM
  // from device address 0 (simulators have no DRAM_BASE offset), so they are relocated to
  // where their memory landed.
  size_t total = 0;
  std::vector<size_t> at;
  for (const AccelStep& st : accelSteps_) {
    at.push_back(total);
    total += (st.image.size() + 4095) / 4096 * 4096;
  }
  accelBuffers_.clear();
  driver::DmaBuffer b = accelerator_->allocate(std::max<size_t>(total, 4096));
  accelBuffers_.push_back(std::make_shared<driver::DmaBuffer>(b));
  for (size_t i = 0; i < accelSteps_.size(); ++i) {
    AccelStep& st = accelSteps_[i];
    st.offset = at[i];
    std::memcpy(b.host + st.offset, st.image.data(), st.image.size());
    const uint64_t base = b.deviceAddr + st.offset;
    std::vector<accel::Insn> insns = accel::decodeStream(accelConfig_->layout(), st.stream);
    for (accel::Insn& in : insns) {
      if (in.opcode != accel::Opcode::kLoad && in.opcode != accel::Opcode::kStore) continue;
      const uint64_t e = static_cast<uint64_t>(accelConfig_->elementBytes(in.memory_type));
      if (base % e)
        throw Error("the accelerator's memory for step " + std::to_string(i) + " is at 0x" +
                    std::to_string(base) + ", not a multiple of its " + std::to_string(e) +
                    "-byte elements");
      in.dram_base += static_cast<uint32_t>(base / e);
    }
    st.relocated = accel::encodeStream(accelConfig_->layout(), insns);
  }
}

void Package::runAccelStep(const AccelStep& a, const std::vector<void*>& ptr, StepProfile& prof) {
  if (!accelerator_)
    throw Error("this package runs part of its graph on the accelerator (config " +
                accelConfig_->name() +
                "): choose a device (kiln run --device sim-cycle|sim-rtl|sim-func, or a board)");
  const driver::DmaBuffer& whole = *accelBuffers_[0];
  driver::DmaBuffer b = whole;
  b.host += a.offset;
  for (const AccelIo& in : a.inputs) {
    const Slot& sl = slots_[in.value];
    NDArray x(sl.tensor.dtype, sl.tensor.shape);
    std::memcpy(x.rawData(), ptr[in.value], x.nbytes());
    std::vector<int8_t> packed = accel_layout::pack(x, in.batch, in.block);
    std::memcpy(b.host + in.offset, packed.data(), packed.size());
  }
  Expected<driver::RunResult> r = accelerator_->run(a.relocated, 0, accelTimeout_);
  if (!r) throw Error("step '" + prof.node + "' on the accelerator: " + r.message());
  prof.counters = r->counters;
  prof.macs = a.macs;
  const Slot& out = slots_[a.output.value];
  NDArray y(out.tensor.dtype, out.tensor.shape);
  accel_layout::unpack(reinterpret_cast<const int8_t*>(b.host + a.output.offset), y, a.output.batch,
                       a.output.block);
  std::memcpy(ptr[a.output.value], y.rawData(), y.nbytes());
}

#else

Package::Step Package::loadAccelStep(const std::filesystem::path&, const json&) {
  throw Error("this runtime was built without the accelerator driver");
}
size_t Package::accelMemoryBytes() const {
  return 0;
}
void Package::attachAccelerator(std::unique_ptr<driver::Backend>) {
  throw Error("this runtime was built without the accelerator driver");
}
void Package::runAccelStep(const AccelStep&, const std::vector<void*>&, StepProfile&) {
  throw Error("this runtime was built without the accelerator driver");
}

#endif

}  // namespace kiln
