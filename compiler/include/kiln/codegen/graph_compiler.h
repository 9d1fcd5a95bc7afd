// Compiles a whole graph for the CPU and runs it: every node becomes one kernel (its
// operator's tensor-expression definition, the default schedule, lower(), the LLVM back
// end), all kernels are JIT-compiled together, and run() calls them in graph order. Values
// passed between kernels live in one arena laid out by the static memory plan (planMemory)
// and allocated once, when the graph is compiled: a run allocates only its outputs. Same
// interface as ref::Executor, so the two compare directly.
//
// A graph annotated by the fuse-ops pass ("kiln.group", passes/pass.h) gets one kernel per
// group instead: the definitions of the group's nodes are chained, and every elementwise
// value inside the group is computed inline (compute_inline) where it is used, so a
// convolution's bias, batch norm, residual add and activation never go through memory.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "kiln/codegen/llvm_jit.h"
#include "kiln/ir/graph.h"
#include "kiln/schedule/schedule.h"

namespace kiln::codegen {

// Which family of schedules shapes the kernels' loops: the CPU's (parallel outer loops,
// vectorized inner ones) or the fragment shaders' (one output element per fragment,
// schedule/gl_schedule.h), or the GPUs' (threads and blocks, schedule/gpu_schedule.h, for
// CUDA and OpenCL); GlslOnCpu is the latter with its fragment loops left serial, so
// the LLVM back end can run it (a test of the schedule without a GPU).
enum class ScheduleFamily { Cpu, Glsl, GlslOnCpu, Gpu };

struct CompileOptions {
  std::ostream* dumpIr = nullptr;    // loop IR after every lowering pass, per kernel
  std::ostream* dumpLLVM = nullptr;  // the optimized LLVM module
  std::string cpu = "host";          // the CPU the kernels are for (codegen::aotTarget names)
  ScheduleFamily schedule = ScheduleFamily::Cpu;
  bool skipDeviceNodes = false;  // leave out nodes partitioned to the accelerator
  // Convolutions (group 1) read their constant weights packed at compile time into blocks of
  // one vector of output channels (topi::packConvWeights) and compute in the NCHWc form.
  bool packConvWeights = true;
  // A convolution is computed inside its epilogue's tile (schedule::fuseConvEpilogueCpu).
  bool fuseConvEpilogues = true;
  // GL packages: shaders that differ only in shape values share one source, the values
  // passed per pass as uniforms (codegen/glsl_uniforms.h). Off by default: it cuts a first
  // inference in a browser by a third but made the nsfwjs MobileNet v2's steady state 6-12%
  // slower on SwiftShader (docs/webgl.md).
  bool shapeUniforms = false;
};

// A graph lowered to loop-IR kernels, and the order to call them in: step i calls kernel
// kernels[i] with one pointer per argument value (its inputs from outside the group, then the
// values it produces that others read), in that order.
struct KernelStep {
  const Node* node;  // the group's last node (for messages)
  std::vector<const Value*> args;
};
struct LoweredGraph {
  std::vector<tir::Kernel> kernels;
  std::vector<KernelStep> steps;
  // Constants made at compile time from the graph's (packed convolution weights), which
  // steps name as arguments; they live as long as this.
  std::shared_ptr<Graph> derived = std::make_shared<Graph>();
};
// Throws kiln::Error naming the first node that cannot be compiled.
LoweredGraph lowerGraph(const Graph& graph, const CompileOptions& options = {});

class CompiledGraph {
 public:
  // Compiles every node; throws kiln::Error naming the first node that cannot be compiled.
  CompiledGraph(const Graph& graph, const CompileOptions& options = {});
  // Inputs by graph-input name; returns the graph outputs in order. Throws kiln::Error when
  // an input is missing or has the wrong dtype or shape.
  std::vector<NDArray> run(const std::map<std::string, NDArray>& inputs) const;
  // With a profile: adds each kernel's time to it (kernel i being the i-th call of a run).
  struct KernelProfile {
    std::vector<double> wallMs;  // wall-clock time
    std::vector<double> cpuMs;   // CPU time of the calling thread (steady on a busy machine;
                                 // the kernel's whole work with KILN_NUM_THREADS=1)
  };
  std::vector<NDArray> run(const std::map<std::string, NDArray>& inputs,
                           KernelProfile* profile) const;
  // The name of kernel i (its fused group's last node).
  const std::string& kernelName(size_t i) const { return steps_[i].node->name; }

  double lowerMs() const { return lowerMs_; }
  double llvmMs() const { return llvmMs_; }
  size_t kernelCount() const { return steps_.size(); }
  std::string target() const { return jit_->targetDescription(); }

 private:
  struct Step {
    const Node* node;
    KernelFn fn;
    std::vector<const Value*> args;  // kernel parameters: inputs then outputs
  };
  const Graph& graph_;
  std::unique_ptr<LLVMJit> jit_;
  std::vector<Step> steps_;
  std::shared_ptr<Graph> derived_;  // constants the kernels read beside the graph's
  // Every value a kernel reads or writes: a constant's data, a place in the arena, or (graph
  // inputs, filled per run) null.
  std::map<const Value*, void*> places_;
  mutable NDArray arena_;
  mutable std::mutex runMu_;  // one run at a time uses the arena
  double lowerMs_ = 0, llvmMs_ = 0;
};

}  // namespace kiln::codegen
