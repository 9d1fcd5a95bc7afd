// Stand-ins for a board's device files, shared by the board driver's tests: a scratch
// directory with a file for /dev/mem (the register window at offset 0), one for the u-dma-buf
// buffer and its sysfs attributes, and a PYNQ-Z1 description that carries the small config.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "kiln/boards/board.h"
#include "kiln/driver/board_backend.h"

namespace kiln::driver::test {

namespace fs = std::filesystem;

inline fs::path scratch(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("kiln-board-test-" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

inline void writeFile(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

// A PYNQ-Z1 carrying the small config, so the shared test stream runs on it.
inline boards::Board smallBoard() {
  std::ifstream f(std::string(KILN_SOURCE_DIR) + "/boards/pynq-z1.yaml");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string y = ss.str();
  y.replace(y.find("config: pynq-z1"), 15, "config: small");
  y.replace(y.find("data_width: 64"), 14, "data_width: 32");
  Expected<boards::Board> b = boards::parseBoard(y, "pynq-z1-small.yaml");
  EXPECT_TRUE(b) << b.message();
  return *b;
}

// The files under `dir`: "mem" (the register window), "udmabuf0" of dmaBytes, and its
// sysfs attributes giving physical address `phys` (inside the PYNQ-Z1's 512 MiB of DDR).
struct BoardFiles {
  fs::path dir;
  size_t dmaBytes;
  uint64_t phys;

  BoardFiles(const std::string& name, size_t dma_bytes, uint64_t physical)
      : dir(scratch(name)), dmaBytes(dma_bytes), phys(physical) {
    fs::resize_file((std::ofstream(dir / "mem").close(), dir / "mem"), 0x10000);
    fs::resize_file((std::ofstream(dir / "udmabuf0").close(), dir / "udmabuf0"), dmaBytes);
    fs::create_directories(dir / "sysfs");
    std::ostringstream hex;
    hex << "0x" << std::hex << phys << "\n";
    writeFile(dir / "sysfs/phys_addr", hex.str());
    writeFile(dir / "sysfs/size", std::to_string(dmaBytes) + "\n");
  }
  BoardPaths paths() const {
    return {(dir / "mem").string(), uint64_t{0}, (dir / "udmabuf0").string(),
            (dir / "sysfs").string()};
  }
};

}  // namespace kiln::driver::test
