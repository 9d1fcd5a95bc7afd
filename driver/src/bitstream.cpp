// .bit parsing, .bin conversion and FPGA-manager programming.
#include "kiln/driver/bitstream.h"

#include <fstream>
#include <iterator>
#include <regex>

namespace kiln::driver {

namespace {

std::string readText(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

void writeText(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p);
  f << text;
  f.flush();
  if (!f)
    throw Error("cannot write " + p.string() + " (are you root, and is this the right board?)");
}

// Device and package of a part name: "xc7z020clg400-1" -> "7z020/clg400".
std::string deviceAndPackage(const std::string& part) {
  std::string s;
  for (char c : part) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::regex re("^(?:xc)?(7z[0-9]+|zu[0-9]+[a-z]+|k[0-9]+)-?([a-z]+[0-9]+)");
  std::smatch m;
  if (!std::regex_search(s, m, re)) return s;
  return m[1].str() + "/" + m[2].str();
}

}  // namespace

Expected<Bitstream> parseBitstream(const std::vector<uint8_t>& b, const std::string& origin) {
  return catchErrors([&]() -> Bitstream {
    size_t at = 0;
    auto need = [&](size_t n) {
      if (at + n > b.size()) throw Error(origin + ": truncated .bit file (header ends early)");
    };
    auto u16 = [&]() {
      need(2);
      uint16_t v = static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
      at += 2;
      return v;
    };
    if (u16() != 9) throw Error(origin + ": not a Xilinx .bit file (missing the 0x0009 header)");
    need(9);
    at += 9;
    if (u16() != 1) throw Error(origin + ": not a Xilinx .bit file (bad header)");
    Bitstream bit;
    for (char key : {'a', 'b', 'c', 'd'}) {
      need(1);
      if (b[at++] != key)
        throw Error(origin + ": malformed .bit header (expected field '" + std::string(1, key) +
                    "')");
      uint16_t len = u16();
      need(len);
      std::string value(b.begin() + static_cast<std::ptrdiff_t>(at),
                        b.begin() + static_cast<std::ptrdiff_t>(at + len));
      while (!value.empty() && value.back() == '\0') value.pop_back();
      at += len;
      (key == 'a' ? bit.design : key == 'b' ? bit.part : key == 'c' ? bit.date : bit.time) = value;
    }
    need(5);
    if (b[at++] != 'e')
      throw Error(origin + ": malformed .bit header (expected the data field 'e')");
    uint32_t len = (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) |
                   (uint32_t{b[at + 2]} << 8) | b[at + 3];
    at += 4;
    if (at + len > b.size())
      throw Error(origin + ": truncated .bit file (" + std::to_string(b.size() - at) + " of " +
                  std::to_string(len) + " data bytes)");
    if (len % 4)
      throw Error(origin + ": bitstream length " + std::to_string(len) +
                  " is not a whole number of words");
    bit.data.assign(b.begin() + static_cast<std::ptrdiff_t>(at),
                    b.begin() + static_cast<std::ptrdiff_t>(at + len));
    return bit;
  });
}

Expected<Bitstream> readBitstream(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error(path + ": cannot open bitstream");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return parseBitstream(bytes, path);
}

std::vector<uint8_t> toFpgaManagerBin(const Bitstream& bit) {
  std::vector<uint8_t> out(bit.data.size());
  for (size_t i = 0; i + 3 < bit.data.size(); i += 4) {
    out[i] = bit.data[i + 3];
    out[i + 1] = bit.data[i + 2];
    out[i + 2] = bit.data[i + 1];
    out[i + 3] = bit.data[i];
  }
  return out;
}

bool samePart(const std::string& bitPart, const std::string& boardPart) {
  return deviceAndPackage(bitPart) == deviceAndPackage(boardPart);
}

Expected<bool> loadBitstream(const std::string& bitPath, const boards::Board& board,
                             const FpgaManagerPaths& paths) {
  return catchErrors([&]() -> bool {
    Expected<Bitstream> bit = readBitstream(bitPath);
    if (!bit) throw bit.error();
    if (!samePart(bit->part, board.part))
      throw Error(bitPath + " was built for part " + bit->part + " but board " + board.name +
                  " has " + board.part +
                  ": build the bitstream for this board (kiln board build --board " + board.name +
                  ")");
    if (!std::filesystem::exists(paths.manager / "firmware"))
      throw Error(
          "no FPGA manager at " + paths.manager.string() +
          " (this is not a Zynq board running Linux with the FPGA manager, or it is not enabled)");
    const std::string name = std::filesystem::path(bitPath).stem().string() + ".bin";
    std::vector<uint8_t> bin = toFpgaManagerBin(*bit);
    std::filesystem::create_directories(paths.firmwareDir);
    {
      std::ofstream f(paths.firmwareDir / name, std::ios::binary);
      f.write(reinterpret_cast<const char*>(bin.data()), static_cast<std::streamsize>(bin.size()));
      if (!f) throw Error("cannot write " + (paths.firmwareDir / name).string());
    }
    if (std::filesystem::exists(paths.manager / "flags"))
      writeText(paths.manager / "flags", "0");  // full bitstream
    writeText(paths.manager / "firmware", name);
    const std::string state = readText(paths.manager / "state");
    if (state != "operating")
      throw Error("the FPGA manager did not program " + name + ": its state is '" + state +
                  "' (check dmesg; is the bitstream for this board?)");
    return true;
  });
}

}  // namespace kiln::driver
