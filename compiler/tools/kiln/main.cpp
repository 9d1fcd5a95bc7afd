// kiln: the command line. `kiln --help` lists the subcommands; every subcommand has --help.
#include <iostream>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Kiln: compile deep-learning models for CPUs, GPUs, browsers and Kiln's FPGA accelerator"};
  app.set_version_flag("--version", "kiln 0.1.0");
  app.require_subcommand(1);
  std::map<CLI::App*, kiln::cli::Runner> runners;
  for (auto add : {kiln::cli::addInfo, kiln::cli::addRun, kiln::cli::addCompile, kiln::cli::addAsm,
                   kiln::cli::addDisasm, kiln::cli::addSim, kiln::cli::addBoard, kiln::cli::addRpc,
                   kiln::cli::addProfile, kiln::cli::addBench}) {
    // Each adder creates one subcommand; remember which runner belongs to it.
    size_t before = app.get_subcommands({}).size();
    kiln::cli::Runner r = add(app);
    runners[app.get_subcommands({}).at(before)] = r;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
  } catch (const kiln::Error& e) {
    std::cerr << "kiln: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "kiln: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
