// Reading and checking board descriptions.
#include "kiln/boards/board.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "kiln/accel/config.h"

namespace kiln::boards {

namespace {

// What each device family offers: the PS master windows a register block can live in, and
// the PS slave ports (with their data widths) an accelerator can reach DDR through.
struct Family {
  std::string processingSystem, cpuArch;
  std::map<std::string, AddressRange> masterWindows;
  std::map<std::string, std::vector<int64_t>> slavePorts;
  uint64_t maxDdr;
};

const std::map<std::string, Family>& families() {
  static const std::map<std::string, Family> f = {
      {"zynq-7000",
       {"ps7",
        "armhf",
        {{"M_AXI_GP0", {0x40000000, 0x40000000}}, {"M_AXI_GP1", {0x80000000, 0x40000000}}},
        {{"S_AXI_HP0", {32, 64}},
         {"S_AXI_HP1", {32, 64}},
         {"S_AXI_HP2", {32, 64}},
         {"S_AXI_HP3", {32, 64}},
         {"S_AXI_ACP", {64}}},
        0x40000000}},
      {"zynq-ultrascale+",
       {"zynq_ultra_ps_e",
        "aarch64",
        {{"M_AXI_HPM0_FPD", {0xA0000000, 0x10000000}},
         {"M_AXI_HPM1_FPD", {0xB0000000, 0x10000000}},
         {"M_AXI_HPM0_LPD", {0x80000000, 0x20000000}}},
        {{"S_AXI_HP0_FPD", {32, 64, 128}},
         {"S_AXI_HP1_FPD", {32, 64, 128}},
         {"S_AXI_HP2_FPD", {32, 64, 128}},
         {"S_AXI_HP3_FPD", {32, 64, 128}},
         {"S_AXI_HPC0_FPD", {32, 64, 128}},
         {"S_AXI_HPC1_FPD", {32, 64, 128}}},
        0x80000000}},
  };
  return f;
}

std::string hex(uint64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << std::uppercase << v;
  return os.str();
}

class Reader {
 public:
  Reader(const YAML::Node& root, std::string origin) : root_(root), origin_(std::move(origin)) {}

  YAML::Node at(const std::string& path) const {
    YAML::Node n = YAML::Clone(root_);
    std::stringstream ss(path);
    std::string part;
    while (std::getline(ss, part, '.')) {
      if (!n.IsMap() || !n[part]) throw fail(path, "is missing");
      n = n[part];
    }
    return n;
  }
  std::string str(const std::string& path) const {
    YAML::Node n = at(path);
    if (!n.IsScalar() || n.Scalar().empty()) throw fail(path, "must be a non-empty string");
    return n.Scalar();
  }
  int64_t num(const std::string& path, int64_t min = 1) const {
    YAML::Node n = at(path);
    int64_t v = 0;
    try {
      v = n.as<int64_t>();
    } catch (const YAML::Exception&) {
      throw fail(
          path, "must be an integer, got '" + (n.IsScalar() ? n.Scalar() : std::string("?")) + "'");
    }
    if (v < min)
      throw fail(path, "must be at least " + std::to_string(min) + ", got " + std::to_string(v));
    return v;
  }
  double real(const std::string& path) const {
    YAML::Node n = at(path);
    double v = 0;
    try {
      v = n.as<double>();
    } catch (const YAML::Exception&) {
      throw fail(path,
                 "must be a number, got '" + (n.IsScalar() ? n.Scalar() : std::string("?")) + "'");
    }
    if (v < 0) throw fail(path, "must not be negative");
    return v;
  }
  Error fail(const std::string& path, const std::string& why) const {
    return Error(origin_ + ": " + path + " " + why);
  }

 private:
  YAML::Node root_;
  std::string origin_;
};

void check(Board& b, const Reader& r) {
  auto fam = families().find(b.family);
  if (fam == families().end())
    throw r.fail("family", "'" + b.family + "' is not supported (zynq-7000, zynq-ultrascale+)");
  const Family& f = fam->second;
  if (b.processingSystem != f.processingSystem)
    throw r.fail("processing_system", "is '" + b.processingSystem + "' but a " + b.family +
                                          " part has '" + f.processingSystem + "'");
  if (b.cpu.arch != f.cpuArch)
    throw r.fail("cpu.arch",
                 "is '" + b.cpu.arch + "' but a " + b.family + " runs " + f.cpuArch + " code");
  if (b.ddr.base + b.ddr.size > f.maxDdr)
    throw r.fail("memory",
                 "DDR window " + hex(b.ddr.base) + "+" + hex(b.ddr.size) + " reaches past " +
                     hex(f.maxDdr) +
                     ", the end of the low DDR window the accelerator's 32-bit addresses reach");
  auto win = f.masterWindows.find(b.controlPort);
  if (win == f.masterWindows.end())
    throw r.fail("axi.control.port",
                 "'" + b.controlPort + "' is not a PS master port of " + b.family);
  const AddressRange& w = win->second;
  if (b.control.size < 0x1000 || (b.control.size & (b.control.size - 1)))
    throw r.fail("axi.control.size",
                 "must be a power of two of at least 4 KiB, got " + hex(b.control.size));
  if (b.control.base % b.control.size)
    throw r.fail("axi.control.base", hex(b.control.base) + " must be aligned to the window size " +
                                         hex(b.control.size));
  if (b.control.base < w.base || b.control.base + b.control.size > w.base + w.size)
    throw r.fail("axi.control.base", hex(b.control.base) + "+" + hex(b.control.size) +
                                         " lies outside " + b.controlPort + "'s address window " +
                                         hex(w.base) + "-" + hex(w.base + w.size - 1));
  auto port = f.slavePorts.find(b.memoryPort);
  if (port == f.slavePorts.end())
    throw r.fail("axi.memory.port", "'" + b.memoryPort + "' is not a PS slave port of " + b.family);
  if (std::find(port->second.begin(), port->second.end(), b.memoryDataWidth) == port->second.end())
    throw r.fail("axi.memory.data_width", std::to_string(b.memoryDataWidth) +
                                              " bits is not a width " + b.memoryPort + " supports");

  // Against the accelerator config the board carries.
  Expected<accel::Config> cfg = accel::Config::find(b.acceleratorConfig);
  if (!cfg) throw r.fail("accelerator.config", "'" + b.acceleratorConfig + "': " + cfg.message());
  const int64_t bram = cfg->value("bram36_needed"), uram = cfg->value("uram_needed");
  if (bram > b.resources.bram36 || uram > b.resources.uram)
    throw r.fail("accelerator.config",
                 "'" + cfg->name() + "' needs " + std::to_string(bram) + " BRAM36 blocks and " +
                     std::to_string(uram) + " UltraRAMs but " + b.part + " has " +
                     std::to_string(b.resources.bram36) + " and " +
                     std::to_string(b.resources.uram) + "; pick a smaller config");
  // What Yosys measured (a LUT count is what the spec cannot estimate).
  struct Measured {
    const char* field;
    const char* what;
    double used;
    int64_t available;
  };
  const Board::Synthesis& y = b.synthesis;
  for (const Measured& m : {Measured{"lut", "LUTs", double(y.lut), b.resources.lut},
                            Measured{"ff", "flip-flops", double(y.ff), b.resources.ff},
                            Measured{"dsp", "DSP slices", double(y.dsp), b.resources.dsp},
                            Measured{"bram36", "BRAM36", y.bram36, b.resources.bram36},
                            Measured{"uram", "UltraRAMs", double(y.uram), b.resources.uram}})
    if (m.used > double(m.available)) {
      std::ostringstream used;
      used << m.used;
      throw r.fail(std::string("accelerator.yosys.") + m.field,
                   "config '" + cfg->name() + "' takes " + used.str() + " " + m.what +
                       " as Yosys maps it but " + b.part + " has " + std::to_string(m.available) +
                       "; pick a smaller config");
    }
  if (cfg->value("clock_mhz") != b.fabricMhz)
    throw r.fail("clocks.fabric.mhz", std::to_string(b.fabricMhz) + " MHz differs from the " +
                                          std::to_string(cfg->value("clock_mhz")) +
                                          " MHz config '" + cfg->name() +
                                          "' is designed (and timed) for");
  if (cfg->value("axi_width") != b.memoryDataWidth)
    throw r.fail("axi.memory.data_width",
                 std::to_string(b.memoryDataWidth) + " bits differs from config '" + cfg->name() +
                     "''s " + std::to_string(cfg->value("axi_width")) + "-bit AXI master");
}

std::string sourceBoardsDir() {
  return KILN_BOARDS_DIR;
}

}  // namespace

Expected<Board> parseBoard(const std::string& yaml, const std::string& origin) {
  return catchErrors([&]() -> Board {
    YAML::Node root;
    try {
      root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
      throw Error(origin + ": not valid YAML: " + e.what());
    }
    if (!root.IsMap()) throw Error(origin + ": a board description must be a YAML mapping");
    Reader r(root, origin);
    Board b;
    b.origin = origin;
    b.name = r.str("name");
    b.vendor = r.str("vendor");
    b.part = r.str("part");
    b.family = r.str("family");
    b.processingSystem = r.str("processing_system");
    b.cpu = {r.str("cpu.arch"), r.str("cpu.model"), r.num("cpu.cores"), r.num("cpu.mhz")};
    b.ddr = {static_cast<uint64_t>(r.num("memory.ddr_base", 0)),
             static_cast<uint64_t>(r.num("memory.ddr_size"))};
    b.fabricClock = r.str("clocks.fabric.name");
    b.fabricMhz = r.num("clocks.fabric.mhz");
    b.controlPort = r.str("axi.control.port");
    b.control = {static_cast<uint64_t>(r.num("axi.control.base", 0)),
                 static_cast<uint64_t>(r.num("axi.control.size"))};
    b.memoryPort = r.str("axi.memory.port");
    b.memoryDataWidth = r.num("axi.memory.data_width");
    b.resources = {r.num("resources.lut"), r.num("resources.ff"), r.num("resources.dsp"),
                   r.num("resources.bram36"), r.num("resources.uram", 0)};
    b.acceleratorConfig = r.str("accelerator.config");
    b.synthesis = {r.num("accelerator.yosys.lut"), r.num("accelerator.yosys.ff"),
                   r.num("accelerator.yosys.dsp", 0), r.real("accelerator.yosys.bram36"),
                   r.num("accelerator.yosys.uram", 0)};
    check(b, r);
    return b;
  });
}

Expected<Board> loadBoard(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Error(path + ": cannot open board description");
  std::stringstream ss;
  ss << f.rdbuf();
  return parseBoard(ss.str(), path);
}

Expected<Board> findBoard(const std::string& nameOrPath) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(nameOrPath, ec) && fs::is_regular_file(nameOrPath, ec))
    return loadBoard(nameOrPath);
  fs::path p = fs::path(sourceBoardsDir()) / (nameOrPath + ".yaml");
  if (fs::exists(p, ec)) return loadBoard(p.string());
  std::string list;
  for (const std::string& n : boardNames()) list += (list.empty() ? "" : ", ") + n;
  return Error("unknown board '" + nameOrPath + "' (boards: " + list + ")");
}

std::vector<std::string> boardNames() {
  namespace fs = std::filesystem;
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(sourceBoardsDir(), ec))
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace kiln::boards

namespace kiln::boards {

namespace {
// A Tcl word that stays one word whatever it holds.
std::string tclWord(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '$' || c == '[' || c == ']') out += '\\';
    out += c;
  }
  return out + "\"";
}
}  // namespace

std::string vivadoParams(const Board& b, const VivadoInputs& in) {
  std::ostringstream os;
  os << "# Generated by `kiln board build` for " << b.name << " (" << b.origin
     << "); read by build.tcl.\n";
  auto set = [&](const std::string& key, const std::string& value) {
    os << "set kiln(" << key << ") " << value << "\n";
  };
  set("board", tclWord(b.name));
  set("part", tclWord(b.part));
  set("family", tclWord(b.family));
  set("fabric_mhz", std::to_string(b.fabricMhz));
  set("control_port", tclWord(b.controlPort));
  set("control_base", tclWord(hex(b.control.base)));
  set("control_size", tclWord(hex(b.control.size)));
  set("memory_port", tclWord(b.memoryPort));
  set("memory_width", std::to_string(b.memoryDataWidth));
  std::string files = "[list";
  for (const std::string& f : in.rtlFiles) files += " " + tclWord(f);
  set("rtl_files", files + "]");
  set("top", tclWord(in.top));
  set("ctrl_intf", tclWord(in.ctrlInterface));
  set("mem_intf", tclWord(in.memInterface));
  set("out_dir", tclWord(in.outDir));
  set("jobs", std::to_string(in.jobs));
  return os.str();
}

}  // namespace kiln::boards
