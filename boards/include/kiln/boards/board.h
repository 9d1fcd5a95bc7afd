// Board descriptions (boards/*.yaml): the FPGA part and its resources, the processing system
// and CPU, the fabric clock, the AXI ports the accelerator uses (its control registers'
// address window and the memory port it reaches DDR through), and the accelerator config the
// board carries.
//
// loadBoard checks a description on its own (known family, CPU architecture, ports and address
// windows that exist on that family) and against its accelerator config (the config exists,
// its buffers fit the part's block RAM and UltraRAM, its clock and AXI width are the board's),
// and the resources Yosys measured for that config on that part (accelerator.yosys, written by
// scripts/synth.sh --board NAME) against the part's. Errors name the file and the field, and
// say what to change.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/runtime/error.h"

namespace kiln::boards {

struct AddressRange {
  uint64_t base = 0;
  uint64_t size = 0;
};

struct Board {
  std::string name, vendor, part, family, processingSystem;
  struct Cpu {
    std::string arch, model;  // arch: armhf | aarch64
    int64_t cores = 0, mhz = 0;
  } cpu;
  AddressRange ddr;
  std::string fabricClock;
  int64_t fabricMhz = 0;
  std::string controlPort;  // PS master port the accelerator's AXI4-Lite slave hangs off
  AddressRange control;     // the accelerator's register window
  std::string memoryPort;   // PS slave port the accelerator's AXI master uses
  int64_t memoryDataWidth = 0;
  struct Resources {
    int64_t lut = 0, ff = 0, dsp = 0, bram36 = 0, uram = 0;
  } resources;
  std::string acceleratorConfig;  // a built-in config name or a path relative to hw/configs
  // What the config takes on this part as Yosys maps it (scripts/synth.sh --board NAME):
  // LUTs, flip-flops, DSP slices, BRAM36 (RAMB18 counted as halves), UltraRAMs.
  struct Synthesis {
    int64_t lut = 0, ff = 0, dsp = 0;
    double bram36 = 0;
    int64_t uram = 0;
  } synthesis;
  std::string origin;  // the file it was read from
};

Expected<Board> parseBoard(const std::string& yaml, const std::string& origin);
Expected<Board> loadBoard(const std::string& path);
// A board by name (boards/<name>.yaml in the source tree) or by path.
Expected<Board> findBoard(const std::string& nameOrPath);
std::vector<std::string> boardNames();

}  // namespace kiln::boards

namespace kiln::boards {

// What the Vivado flow (boards/vivado/build.tcl) needs besides the board.
struct VivadoInputs {
  std::vector<std::string> rtlFiles;  // SystemVerilog sources, the config's package first
  std::string top;                    // the accelerator's top module
  std::string ctrlInterface;          // its AXI4-Lite slave interface (port prefix)
  std::string memInterface;           // its AXI4 master interface (port prefix)
  std::string outDir;
  int jobs = 2;
};

// The params.tcl that build.tcl reads: the board's part, PS ports, clock and register window,
// and the inputs above, as Tcl.
std::string vivadoParams(const Board& board, const VivadoInputs& inputs);

}  // namespace kiln::boards
