// Graph -> one JIT-compiled kernel per node, and the loop that runs them (see graph_compiler.h).
#include "kiln/codegen/graph_compiler.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "kiln/codegen/llvm_aot.h"
#include "kiln/passes/partition.h"
#include "kiln/passes/pass.h"
#include "kiln/runtime/error.h"
#include "kiln/schedule/cpu_schedule.h"
#include "kiln/schedule/gl_schedule.h"
#include "kiln/schedule/gpu_schedule.h"
#include "kiln/tir/lower.h"
#include "kiln/tir/printer.h"
#include "kiln/topi/registry.h"
#include "kiln/topi/topi.h"

namespace kiln::codegen {

namespace {
using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}
// CPU time of the calling thread: unlike wall time, it does not grow while other programs
// have the core.
double threadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

std::string identifier(const std::string& s) {
  std::string r = s;
  for (char& c : r)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  return r;
}

// The kernels of a graph: one per fusion group ("kiln.group", set by the fuse-ops pass), or
// one per node when the graph was not fused. A group's nodes are in graph order.
std::vector<std::vector<const Node*>> kernelGroups(const Graph& graph) {
  std::vector<std::vector<const Node*>> groups;
  std::map<int64_t, size_t> byId;
  for (const Node* n : graph.nodes()) {
    auto it = n->attrs.find(kFuseGroupAttr);
    if (it == n->attrs.end() || !std::holds_alternative<int64_t>(it->second)) {
      groups.push_back({n});
      continue;
    }
    int64_t id = std::get<int64_t>(it->second);
    auto [pos, fresh] = byId.emplace(id, groups.size());
    if (fresh) groups.emplace_back();
    groups[pos->second].push_back(n);
  }
  // A group runs when its last node would have: every input from outside is ready by then.
  std::map<const Node*, size_t> order;
  for (const Node* n : graph.nodes()) order.emplace(n, order.size());
  std::sort(groups.begin(), groups.end(),
            [&](const auto& a, const auto& b) { return order[a.back()] < order[b.back()]; });
  return groups;
}

}  // namespace

LoweredGraph lowerGraph(const Graph& graph, const CompileOptions& options) {
  LoweredGraph result;
  std::map<const Value*, int> readers;
  for (const Node* n : graph.nodes())
    for (const Value* v : n->inputs)
      if (v) ++readers[v];
  for (const Value* v : graph.outputs()) ++readers[v];

  const VectorUnit unit = vectorUnit(aotTarget(options.cpu));
  const schedule::CpuTarget cpu{unit.bytes / 4, unit.registers / 2};
  // The GLSL back end's fragments write one RGBA texel, four consecutive elements: a
  // convolution's weights come in blocks of 4 output channels (one texel), and 4-D activations
  // whose channels divide by 4 travel between kernels as NCHW4c (one texel = the four channels
  // of a pixel, see gl_schedule.h). Graph inputs and outputs keep their layout.
  const bool gl =
      options.schedule == ScheduleFamily::Glsl || options.schedule == ScheduleFamily::GlslOnCpu;
  const int64_t weightBlock = gl ? schedule::kGLLanes : cpu.lanes;
  auto isGraphIO = [&](const Value* v) {
    return std::find(graph.inputs().begin(), graph.inputs().end(), v) != graph.inputs().end() ||
           std::find(graph.outputs().begin(), graph.outputs().end(), v) != graph.outputs().end();
  };
  auto glBlocked = [&](const Value* v) {
    return gl && v->dtype == DType::F32 && v->shape.size() == 4 && !v->isConstant() &&
           v->shape[1] % schedule::kGLLanes == 0 && !isGraphIO(v);
  };
  std::vector<tir::Kernel>& kernels = result.kernels;
  // A convolution's weights, packed once into blocks of one vector of output channels: for
  // a reduction long enough to pay for the transform back to NCHW (a 1x1 convolution of 16
  // input channels at 112x112 is bound by memory, not by its multiply-adds).
  constexpr int64_t kMinPackedReduction = 64;
  std::map<const Value*, const Value*> packed;
  auto packedWeights = [&](const Node& n, size_t k, const Value* v) -> const Value* {
    if (!options.packConvWeights || n.op != "Conv" || k != 1 || !v->isConstant() ||
        v->dtype != DType::F32 || v->shape.size() != 4 ||
        (n.i("group", 1) != 1 && !(gl && v->shape[1] == 1 && n.i("group", 1) == v->shape[0])) ||
        weightBlock < 2 || v->shape[0] % weightBlock != 0 ||
        (!gl && v->shape[1] * v->shape[2] * v->shape[3] < kMinPackedReduction))
      return v;
    auto it = packed.find(v);
    if (it == packed.end())
      it = packed
               .emplace(
                   v, result.derived->addConstant(v->name + ".packed",
                                                  topi::packConvWeights(*v->constant, weightBlock)))
               .first;
    return it->second;
  };
  int index = 0;
  for (const std::vector<const Node*>& group : kernelGroups(graph)) {
    const Node* last = group.back();
    if (options.skipDeviceNodes && onAccel(*last)) continue;
    std::string name = "k" + std::to_string(index++) + "_" +
                       identifier(last->name.empty() ? last->op : last->name);
    try {
      // Chain the definitions: a value computed inside the group is read as its tensor, a
      // value from outside becomes a placeholder (a kernel parameter).
      std::map<const Value*, te::Tensor> tensors;
      std::map<const Value*, int> groupReads;
      std::vector<te::Tensor> args, inlined;
      KernelStep step{last, {}};
      for (const Node* n : group) {
        std::vector<te::Tensor> inputs;
        for (size_t k = 0; k < n->inputs.size(); ++k) {
          const Value* v = n->inputs[k];
          if (!v) {
            inputs.push_back(nullptr);
            continue;
          }
          v = packedWeights(*n, k, v);
          ++groupReads[v];
          auto it = tensors.find(v);
          if (it == tensors.end()) {
            const Shape& s = v->shape;
            te::Tensor p = te::placeholder(identifier(v->name), v->dtype,
                                           glBlocked(v) ? Shape{s[0], s[1] / schedule::kGLLanes,
                                                                s[2], s[3], schedule::kGLLanes}
                                                        : s);
            args.push_back(p);
            if (glBlocked(v)) p = topi::fromChannelBlocks(p, identifier(v->name) + ".nchw");
            it = tensors.emplace(v, p).first;
            step.args.push_back(v);
          }
          inputs.push_back(it->second);
        }
        std::vector<te::Tensor> outs = topi::computeNode(*n, inputs);
        for (size_t k = 0; k < outs.size(); ++k) tensors[n->outputs[k]] = outs[k];
      }
      // The group's results: values read outside it (or graph outputs). The others are
      // computed inline where they are used, never stored.
      std::vector<te::Tensor> outs;
      for (const Node* n : group)
        for (const Value* v : n->outputs) {
          if (readers[v] > groupReads[v]) {
            te::Tensor t = tensors[v];
            if (glBlocked(v))
              t = topi::toChannelBlocks(t, schedule::kGLLanes, identifier(v->name) + ".nchw4c");
            outs.push_back(t);
            args.push_back(t);
            step.args.push_back(v);
          } else if (n != last) {
            inlined.push_back(tensors[v]);
          }
        }
      const bool onCpu = options.schedule == ScheduleFamily::Cpu;
      // KILN_GPU_TILES=registers|shared|auto: how GPU convolutions tile (GpuTarget::convTiles).
      schedule::GpuTarget gpu;
      if (const char* tiles = std::getenv("KILN_GPU_TILES")) {
        const std::string t = tiles;
        gpu.convTiles = t == "shared"      ? schedule::GpuTarget::ConvTiles::Shared
                        : t == "registers" ? schedule::GpuTarget::ConvTiles::Registers
                                           : schedule::GpuTarget::ConvTiles::Auto;
      }
      // KILN_GPU_TUNE=oc=8,ow=4,...: tile sizes for measuring schedules (parseGpuTuning).
      if (const char* tune = std::getenv("KILN_GPU_TUNE")) schedule::parseGpuTuning(tune, &gpu);
      schedule::Schedule sch =
          onCpu ? schedule::cpuSchedule(outs, cpu, inlined, options.fuseConvEpilogues)
          : options.schedule == ScheduleFamily::Gpu
              ? schedule::gpuSchedule(outs, gpu)
              : schedule::glSchedule(outs, options.schedule == ScheduleFamily::Glsl);
      // Vector statements only for the CPU; GPU and shader back ends keep vectorized loops as
      // loops.
      tir::Kernel kernel =
          tir::lower(sch, args, name, tir::LowerOptions{options.dumpIr, onCpu ? unit.bytes : 0});
      if (options.dumpIr) *options.dumpIr << tir::printKernel(kernel) << "\n";
      kernels.push_back(std::move(kernel));
      result.steps.push_back(std::move(step));
    } catch (const Error& e) {
      std::string msg = e.what();
      if (msg.rfind("node '", 0) == 0) throw;
      throw Error(last->describe() + ": " + msg);
    }
  }
  return result;
}

CompiledGraph::CompiledGraph(const Graph& graph, const CompileOptions& options) : graph_(graph) {
  auto t0 = Clock::now();
  LoweredGraph lowered = lowerGraph(graph, options);
  derived_ = lowered.derived;
  lowerMs_ = msSince(t0);
  auto t1 = Clock::now();
  jit_ = LLVMJit::compile(lowered.kernels, JitOptions{options.dumpLLVM});
  for (size_t i = 0; i < lowered.steps.size(); ++i)
    steps_.push_back(
        {lowered.steps[i].node, jit_->lookup(lowered.kernels[i].name), lowered.steps[i].args});
  llvmMs_ = msSince(t1);

  const MemoryPlan plan = planMemory(graph);
  arena_ = NDArray(DType::U8, {static_cast<int64_t>(std::max<size_t>(plan.arenaBytes, 1))});
  std::map<const Value*, size_t> offsets;
  for (const MemoryPlan::Slot& s : plan.slots) offsets[s.value] = s.offset;
  auto place = [&](const Value* v) {
    if (places_.count(v)) return;
    if (v->isConstant()) {
      places_[v] = const_cast<void*>(v->constant->rawData());
    } else if (std::find(graph.inputs().begin(), graph.inputs().end(), v) != graph.inputs().end()) {
      places_[v] = nullptr;
    } else if (auto it = offsets.find(v); it != offsets.end()) {
      places_[v] = static_cast<uint8_t*>(arena_.rawData()) + it->second;
    } else {
      throw Error("value '" + v->name + "' crosses kernels but has no place in the memory plan");
    }
  };
  for (const Step& s : steps_)
    for (const Value* v : s.args) place(v);
  for (const Value* v : graph.outputs()) place(v);
}

std::vector<NDArray> CompiledGraph::run(const std::map<std::string, NDArray>& inputs) const {
  return run(inputs, nullptr);
}

std::vector<NDArray> CompiledGraph::run(const std::map<std::string, NDArray>& inputs,
                                        KernelProfile* profile) const {
  if (profile) {
    profile->wallMs.resize(steps_.size(), 0.0);
    profile->cpuMs.resize(steps_.size(), 0.0);
  }
  std::lock_guard<std::mutex> lock(runMu_);
  std::map<const Value*, const void*> fed;
  for (const Value* in : graph_.inputs()) {
    auto it = inputs.find(in->name);
    if (it == inputs.end()) throw Error("no value given for graph input '" + in->name + "'");
    if (it->second.dtype() != in->dtype || it->second.shape() != in->shape)
      throw Error("input '" + in->name + "' is " + std::string(dtypeName(it->second.dtype())) +
                  shapeStr(it->second.shape()) + " but the graph expects " +
                  std::string(dtypeName(in->dtype)) + shapeStr(in->shape));
    fed[in] = it->second.rawData();
  }
  auto ptrOf = [&](const Value* v) -> void* {
    void* p = places_.at(v);
    return p ? p : const_cast<void*>(fed.at(v));
  };
  std::vector<void*> ptrs;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& s = steps_[i];
    ptrs.clear();
    for (const Value* v : s.args) ptrs.push_back(ptrOf(v));
    if (!profile) {
      s.fn(ptrs.data());
      continue;
    }
    const auto t = Clock::now();
    const double c = threadCpuMs();
    s.fn(ptrs.data());
    profile->cpuMs[i] += threadCpuMs() - c;
    profile->wallMs[i] += msSince(t);
  }
  std::vector<NDArray> outs;
  for (const Value* v : graph_.outputs()) {
    NDArray o(v->dtype, v->shape);
    std::memcpy(o.rawData(), ptrOf(v), o.nbytes());
    outs.push_back(std::move(o));
  }
  return outs;
}

}  // namespace kiln::codegen
