// `kiln asm` and `kiln disasm`: between the accelerator's assembly text and binary instruction
// streams (docs/accelerator-isa.md, "Assembly"), for one config's instruction layout.
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "commands.h"
#include "kiln/accel/assembler.h"
#include "kiln/accel/config.h"

namespace kiln::cli {

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw Error("cannot write " + path);
}

accel::Config findConfig(const std::string& name) {
  Expected<accel::Config> c = accel::Config::find(name);
  if (!c) throw Error(c.message());
  return std::move(*c);
}

const char* kConfigHelp =
    "Accelerator config: a built-in name (pynq-z1, small, ultrascale) or a config file";

}  // namespace

Runner addAsm(CLI::App& app) {
  struct Opts {
    std::string input, output, config = "pynq-z1";
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub =
      app.add_subcommand("asm", "Assemble accelerator assembly into a binary instruction stream");
  sub->add_option("file", o->input, "Assembly file (one instruction per line)")->required();
  sub->add_option("-o,--output", o->output, "Binary stream to write")->required();
  sub->add_option("--config", o->config, kConfigHelp);
  return [o]() {
    accel::Config config = findConfig(o->config);
    Expected<std::vector<uint8_t>> bin = accel::assemble(readFile(o->input), config);
    if (!bin) throw Error(o->input + ": " + bin.message());
    writeFile(o->output, std::string_view(reinterpret_cast<const char*>(bin->data()), bin->size()));
    std::cout << o->output << ": " << bin->size() / config.layout().insnBytes()
              << " instructions for config " << config.name() << "\n";
    return 0;
  };
}

Runner addDisasm(CLI::App& app) {
  struct Opts {
    std::string input, output, config = "pynq-z1";
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub =
      app.add_subcommand("disasm", "Disassemble a binary accelerator instruction stream");
  sub->add_option("file", o->input, "Binary stream")->required();
  sub->add_option("-o,--output", o->output, "Assembly file to write (default: standard output)");
  sub->add_option("--config", o->config, kConfigHelp);
  return [o]() {
    accel::Config config = findConfig(o->config);
    std::string bytes = readFile(o->input);
    Expected<std::string> text = accel::disassemble(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
        config);
    if (!text) throw Error(o->input + ": " + text.message());
    if (o->output.empty())
      std::cout << *text;
    else
      writeFile(o->output, *text);
    return 0;
  };
}

}  // namespace kiln::cli
