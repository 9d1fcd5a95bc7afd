// `kiln sim STREAM --config C`: runs an instruction stream on the accelerator's cycle-level
// model (sim/) with a DRAM image, and prints its cycles, per-module busy and stall cycles,
// DMA bytes and GEMM utilization; optionally writes the final DRAM and a Perfetto timeline.
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "kiln/accel/assembler.h"
#include "kiln/accel/config.h"
#include "kiln/sim/cycle_model.h"
#include "kiln/sim/dram_image.h"

namespace kiln::cli {

namespace {

// A stream file: assembly if it ends in .s or .asm, else binary instruction words.
std::vector<accel::Insn> readStream(const std::string& path, const accel::Config& config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read the stream " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  if (path.ends_with(".s") || path.ends_with(".asm")) {
    Expected<std::vector<accel::Insn>> insns = accel::parseAssembly(bytes, config);
    if (!insns) throw Error(path + ": " + insns.message());
    return std::move(*insns);
  }
  size_t n = static_cast<size_t>(config.layout().insnBytes());
  if (bytes.size() % n != 0)
    throw Error(path + " is " + std::to_string(bytes.size()) + " bytes, not a whole number of " +
                std::to_string(n) + "-byte instructions (assembly files end in .s)");
  try {
    return accel::decodeStream(
        config.layout(),
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace

Runner addSim(CLI::App& app) {
  struct Opts {
    std::string stream, config = "pynq-z1", dram, out, trace;
    uint64_t dram_size = 0;
    int64_t latency = sim::Options{}.dram_latency;
    int64_t bandwidth = 0;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "sim",
      "Run an accelerator instruction stream on the cycle-level model and report its timing");
  sub->add_option("stream", o->stream, "Instruction stream: binary, or assembly (.s)")->required();
  sub->add_option(
      "--config", o->config,
      "Accelerator config: a built-in name (pynq-z1, small, ultrascale) or a config file");
  sub->add_option(
      "--dram", o->dram,
      "DRAM image to start from (docs/cycle-model.md; a raw file is DRAM from address 0)");
  sub->add_option("--dram-size", o->dram_size,
                  "DRAM bytes (default: the image's size, or 16 MiB without an image)");
  sub->add_option("--latency", o->latency, "DRAM latency in accelerator cycles");
  sub->add_option("--bandwidth", o->bandwidth,
                  "DRAM bytes per cycle each way (default: the config's axi_width / 8)");
  sub->add_option("--out", o->out, "Write the final DRAM as an image");
  sub->add_option("--trace", o->trace, "Write the timeline as Chrome / Perfetto trace JSON");
  return [o]() {
    Expected<accel::Config> found = accel::Config::find(o->config);
    if (!found) throw Error(found.message());
    accel::Config config = std::move(*found);
    std::vector<accel::Insn> stream = readStream(o->stream, config);
    sim::DramImage image;
    if (!o->dram.empty()) {
      Expected<sim::DramImage> read = sim::readDramImage(o->dram);
      if (!read) throw Error(read.message());
      image = std::move(*read);
    }
    uint64_t size = o->dram_size            ? o->dram_size
                    : image.requiredBytes() ? image.requiredBytes()
                                            : uint64_t{16} << 20;
    sim::CycleModel model(config, size,
                          sim::Options{.dram_latency = o->latency,
                                       .dram_bytes_per_cycle = o->bandwidth,
                                       .trace = !o->trace.empty()});
    image.applyTo(model.dram());
    Expected<sim::Stats> stats = model.run(stream);
    if (!stats) throw Error(o->stream + ": " + stats.message());
    std::cout << o->stream << ": " << stream.size() << " instructions on config " << config.name()
              << "\n\n"
              << stats->report();
    if (!o->trace.empty()) {
      std::ofstream t(o->trace, std::ios::binary);
      t << model.traceJson();
      if (!t) throw Error("cannot write " + o->trace);
      std::cout << "timeline: " << o->trace << "\n";
    }
    if (!o->out.empty()) {
      sim::DramImage result;
      result.size = size;
      result.segments.push_back(
          {0, std::vector<uint8_t>(model.dram().begin(), model.dram().end())});
      sim::writeDramImage(o->out, result);
      std::cout << "final DRAM: " << o->out << "\n";
    }
    return 0;
  };
}

}  // namespace kiln::cli
