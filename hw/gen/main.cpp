// kiln-hwgen: generates what comes from the accelerator spec. Run by the build:
//   kiln-hwgen sv   --spec S --config C --out kiln_accel_pkg.sv    the RTL's package
//   kiln-hwgen docs --spec S --config C... --isa F --configs-page F [--check]
// With --check, docs writes nothing and fails if a page differs from what it would write.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "generate.h"

namespace {

using kiln::accel::Config;
using kiln::accel::Spec;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes only when the content changes, so that unchanged outputs keep their timestamps.
void writeFile(const std::string& path, const std::string& text) {
  if (readFile(path) == text) return;
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw kiln::Error("cannot write " + path);
}

std::vector<Config> loadConfigs(const std::vector<std::string>& paths,
                                const std::shared_ptr<const Spec>& spec) {
  std::vector<Config> configs;
  for (const std::string& p : paths) configs.push_back(std::move(Config::load(p, spec).value()));
  return configs;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kiln-hwgen: generate the RTL package and docs from the accelerator spec"};
  app.require_subcommand(1);
  std::string spec_path, out_path, isa_path, configs_path;
  std::vector<std::string> config_paths;
  bool check = false;

  CLI::App* sv = app.add_subcommand("sv", "Write the SystemVerilog package of one config");
  sv->add_option("--spec", spec_path, "The spec (hw/spec/accel.yaml)")->required();
  sv->add_option("--config", config_paths, "The config")->required()->expected(1);
  sv->add_option("--out", out_path, "The package file to write")->required();

  CLI::App* docs = app.add_subcommand("docs", "Write the ISA and config reference pages");
  docs->add_option("--spec", spec_path, "The spec (hw/spec/accel.yaml)")->required();
  docs->add_option("--config", config_paths, "The configs to describe")->required();
  docs->add_option("--isa", isa_path, "The ISA page to write")->required();
  docs->add_option("--configs-page", configs_path, "The configs page to write")->required();
  docs->add_flag("--check", check, "Fail if a page is out of date instead of writing it");

  CLI11_PARSE(app, argc, argv);
  try {
    std::shared_ptr<const Spec> spec = Spec::load(spec_path);
    std::vector<Config> configs = loadConfigs(config_paths, spec);
    if (sv->parsed()) {
      writeFile(out_path, kiln::accel::gen::svPackage(configs.front()));
      return 0;
    }
    const std::pair<std::string, std::string> pages[] = {
        {isa_path, kiln::accel::gen::isaPage(*spec, configs)},
        {configs_path, kiln::accel::gen::configsPage(*spec, configs)}};
    int stale = 0;
    for (const auto& [path, text] : pages) {
      if (!check) {
        writeFile(path, text);
      } else if (readFile(path) != text) {
        std::cerr << "kiln-hwgen: " << path << " is out of date; regenerate it with the "
                  << "hw-docs target\n";
        stale = 1;
      }
    }
    return stale;
  } catch (const kiln::Error& e) {
    std::cerr << "kiln-hwgen: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "kiln-hwgen: internal error: " << e.what() << "\n";
    return 2;
  }
}
