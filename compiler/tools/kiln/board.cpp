// `kiln board list|show|build|load`: the boards Kiln supports, building a bitstream for one
// with Vivado, and loading it on the board through the FPGA manager.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "kiln/accel/config.h"
#include "kiln/boards/board.h"
#include "kiln/driver/bitstream.h"

namespace kiln::cli {

namespace {

namespace fs = std::filesystem;

boards::Board boardOrThrow(const std::string& name) {
  Expected<boards::Board> b = boards::findBoard(name);
  if (!b) throw b.error();
  return *b;
}

std::string hex(uint64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << std::uppercase << v;
  return os.str();
}

int runShell(const std::string& cmd) {
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

bool onPath(const std::string& program) {
  return runShell("command -v " + program + " > /dev/null 2>&1") == 0;
}

// The accelerator's sources for a config: its generated package, the RTL, the Vivado wrapper.
// A dry run only records the files, so it does not need them to exist yet.
std::vector<std::string> rtlFiles(const accel::Config& config, bool dryRun) {
  std::vector<std::string> files;
  fs::path pkg = fs::path(KILN_HW_GENERATED_DIR) / config.name() / "kiln_accel_pkg.sv";
  if (!fs::exists(pkg) && !dryRun)
    throw Error("the SystemVerilog package for config '" + config.name() +
                "' is not generated at " + pkg.string() + " (build the hw-packages target)");
  files.push_back(pkg.string());
  std::vector<std::string> rtl;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(KILN_SOURCE_DIR) / "hw/rtl", ec))
    if (e.path().extension() == ".sv") rtl.push_back(e.path().string());
  if (rtl.empty() && !dryRun)
    throw Error("no RTL in " + (fs::path(KILN_SOURCE_DIR) / "hw/rtl").string());
  std::sort(rtl.begin(), rtl.end());
  files.insert(files.end(), rtl.begin(), rtl.end());
  files.push_back((fs::path(KILN_SOURCE_DIR) / "boards/vivado/kiln_vivado_top.sv").string());
  return files;
}

}  // namespace

Runner addBoard(CLI::App& app) {
  struct Opts {
    std::string board, out, bitstream;
    bool dryRun = false;
    int jobs = 2;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub =
      app.add_subcommand("board", "Boards: list them, show one, build its bitstream, load it");
  sub->require_subcommand(1);
  CLI::App* list = sub->add_subcommand("list", "List the boards Kiln supports");
  CLI::App* show =
      sub->add_subcommand("show", "Show a board and how its accelerator config fits it");
  show->add_option("board", o->board, "Board name (boards/NAME.yaml) or a board file")->required();
  CLI::App* build =
      sub->add_subcommand("build", "Build the accelerator's bitstream for a board with Vivado");
  build->add_option("--board", o->board, "Board name or file")->required();
  build->add_option("-o,--output", o->out, "Output directory (default build/board-NAME)");
  build->add_option("--jobs", o->jobs, "Parallel Vivado jobs")->check(CLI::Range(1, 64));
  build->add_flag("--dry-run", o->dryRun,
                  "Run the flow's Tcl under tclsh with Vivado's commands recorded, not run");
  CLI::App* load = sub->add_subcommand(
      "load", "Program the board's FPGA with a bitstream (on the board, as root)");
  load->add_option("--board", o->board, "Board name or file")->required();
  load->add_option("bitstream", o->bitstream, "The .bit file")->required();

  return [o, list, show, build, load]() {
    if (list->parsed()) {
      std::cout << std::left << std::setw(12) << "board" << std::setw(24) << "part" << std::setw(10)
                << "cpu"
                << "accelerator config\n";
      for (const std::string& n : boards::boardNames()) {
        boards::Board b = boardOrThrow(n);
        std::cout << std::setw(12) << b.name << std::setw(24) << b.part << std::setw(10)
                  << b.cpu.arch << b.acceleratorConfig << "\n";
      }
      return 0;
    }
    boards::Board b = boardOrThrow(o->board);
    Expected<accel::Config> cfg = accel::Config::find(b.acceleratorConfig);
    if (!cfg) throw cfg.error();
    if (show->parsed()) {
      std::cout << "board       " << b.name << " (" << b.vendor << ", " << b.origin << ")\n"
                << "part        " << b.part << " (" << b.family << ", " << b.processingSystem
                << ")\n"
                << "cpu         " << b.cpu.cores << "x " << b.cpu.model << " at " << b.cpu.mhz
                << " MHz (" << b.cpu.arch << ")\n"
                << "ddr         " << hex(b.ddr.base) << " + " << hex(b.ddr.size) << "\n"
                << "registers   " << b.controlPort << " at " << hex(b.control.base) << " + "
                << hex(b.control.size) << "\n"
                << "memory port " << b.memoryPort << ", " << b.memoryDataWidth << " bits\n"
                << "clock       " << b.fabricClock << " at " << b.fabricMhz << " MHz\n"
                << "accelerator " << cfg->name() << " (config hash 0x" << std::hex << cfg->hash()
                << std::dec << "), " << cfg->value("bram36_needed") << " of " << b.resources.bram36
                << " BRAM36, " << cfg->value("uram_needed") << " of " << b.resources.uram
                << " UltraRAM (the spec's estimate)\n"
                << "yosys       " << b.synthesis.lut << " of " << b.resources.lut << " LUT, "
                << b.synthesis.ff << " of " << b.resources.ff << " FF, " << b.synthesis.dsp
                << " of " << b.resources.dsp << " DSP, " << b.synthesis.bram36 << " of "
                << b.resources.bram36 << " BRAM36, " << b.synthesis.uram << " of "
                << b.resources.uram << " UltraRAM (scripts/synth.sh --board " << b.name << ")\n";
      return 0;
    }
    if (build->parsed()) {
      boards::VivadoInputs in{
          rtlFiles(*cfg, o->dryRun || !onPath("vivado")),
          "kiln_vivado_top",
          "s_axi_ctrl",
          "m_axi_mem",
          o->out.empty() ? (fs::current_path() / "build" / ("board-" + b.name)).string() : o->out,
          o->jobs};
      fs::create_directories(in.outDir);
      const fs::path params = fs::path(in.outDir) / "params.tcl";
      std::ofstream(params) << boards::vivadoParams(b, in);
      const fs::path script = fs::path(KILN_SOURCE_DIR) / "boards/vivado/build.tcl";
      if (o->dryRun) {
        if (!onPath("tclsh")) throw Error("--dry-run needs tclsh (Debian package tcl)");
        return runShell("tclsh '" +
                        (fs::path(KILN_SOURCE_DIR) / "boards/vivado/dryrun.tcl").string() + "' '" +
                        script.string() + "' '" + params.string() + "'");
      }
      const std::string cmd = "vivado -mode batch -nojournal -source '" + script.string() +
                              "' -tclargs '" + params.string() + "'";
      if (!onPath("vivado"))
        throw Error("Vivado is not installed here (no `vivado` on PATH). The flow is ready in " +
                    in.outDir + "; on a machine with Vivado run: " + cmd);
      std::cout << "kiln: " << cmd << std::endl;
      return runShell("cd '" + in.outDir + "' && " + cmd);
    }
    if (load->parsed()) {
      Expected<bool> ok = driver::loadBitstream(o->bitstream, b);
      if (!ok) throw ok.error();
      std::cout << "loaded " << o->bitstream << " on " << b.name << "\n";
      return 0;
    }
    return 1;
  };
}

}  // namespace kiln::cli
