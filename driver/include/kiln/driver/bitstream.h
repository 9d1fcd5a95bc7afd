// Xilinx bitstreams and the Linux FPGA manager.
//
// A .bit file is a small header (design name, part, date, time) followed by the
// configuration data. The kernel's FPGA manager wants that data alone with every 32-bit word
// byte-swapped (a .bin). loadBitstream checks the part against the board, writes the .bin to
// the firmware directory and asks the FPGA manager to program it, reporting the manager's
// state on failure.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "kiln/boards/board.h"
#include "kiln/runtime/error.h"

namespace kiln::driver {

struct Bitstream {
  std::string design, part, date, time;
  std::vector<uint8_t> data;  // the configuration data, as stored in the .bit
};

Expected<Bitstream> parseBitstream(const std::vector<uint8_t>& bytes, const std::string& origin);
Expected<Bitstream> readBitstream(const std::string& path);
// The FPGA manager's .bin: the configuration data with each 32-bit word byte-swapped.
std::vector<uint8_t> toFpgaManagerBin(const Bitstream& bit);
// Whether a part name from a .bit ("7z020clg400") names the board's part ("xc7z020clg400-1").
bool samePart(const std::string& bitPart, const std::string& boardPart);

struct FpgaManagerPaths {
  std::filesystem::path manager = "/sys/class/fpga_manager/fpga0";
  std::filesystem::path firmwareDir = "/lib/firmware";
};

// Programs the board's FPGA with a .bit file through the FPGA manager.
Expected<bool> loadBitstream(const std::string& bitPath, const boards::Board& board,
                             const FpgaManagerPaths& paths = {});

}  // namespace kiln::driver
