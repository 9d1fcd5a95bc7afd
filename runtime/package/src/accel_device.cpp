// The accelerator device of kiln-run and kiln-rpc (kiln/runtime/accel_device.h): options,
// checks and attaching it to a package, through the driver where the runtime carries it.
#include "kiln/runtime/accel_device.h"

#include <CLI/CLI.hpp>
#include <optional>

#include "kiln/runtime/error.h"
#include "kiln/runtime/package.h"
#if KILN_PACKAGE_ACCEL
#include "kiln/accel/config.h"
#include "kiln/boards/board.h"
#include "kiln/driver/board_backend.h"
#include "kiln/driver/sim_func.h"
#endif

namespace kiln {

struct AccelDevice::State {
  std::string device = "none", board, dma = "udmabuf";
  std::string devmem = "/dev/mem", udmabuf = "/dev/udmabuf0",
              udmabufSysfs = "/sys/class/u-dma-buf/udmabuf0";
  unsigned xrtDevice = 0;
  int timeoutMs = 2000;
#if KILN_PACKAGE_ACCEL
  std::optional<boards::Board> boardDesc;
  driver::BoardPaths paths;
#endif
};

AccelDevice::AccelDevice() : s_(std::make_unique<State>()) {}
AccelDevice::~AccelDevice() = default;

const std::string& AccelDevice::name() const {
  return s_->device;
}

void AccelDevice::addOptions(CLI::App& app) {
  State& s = *s_;
  app.add_option("--device", s.device,
                 "Where accelerator packages run: board (this board's FPGA, see --board), "
                 "sim-func (the functional reference) or none (refuse them; the default)")
      ->check(CLI::IsMember({"none", "board", "sim-func"}));
  app.add_option("--board", s.board,
                 "With --device board: the board description (a boards/*.yaml file)");
  app.add_option("--timeout-ms", s.timeoutMs,
                 "Milliseconds to wait for each accelerator step before reporting a hung device "
                 "(default 2000)")
      ->check(CLI::Range(1, 86400000));
  app.add_option("--dma", s.dma,
                 "With --device board: where DMA buffers come from: udmabuf (the default) or xrt")
      ->check(CLI::IsMember({"udmabuf", "xrt"}));
  app.add_option("--xrt-device", s.xrtDevice, "With --dma xrt: the XRT device index (0)");
  app.add_option("--devmem", s.devmem, "With --device board: the memory device (/dev/mem)");
  app.add_option("--udmabuf", s.udmabuf,
                 "With --device board: the u-dma-buf device (/dev/udmabuf0)");
  app.add_option("--udmabuf-sysfs", s.udmabufSysfs,
                 "With --device board: its sysfs directory (/sys/class/u-dma-buf/udmabuf0)");
}

#if KILN_PACKAGE_ACCEL

void AccelDevice::open() {
  State& s = *s_;
  if (s.device == "board") {
    if (s.board.empty())
      throw Error("--device board needs --board FILE (the board's boards/*.yaml)");
    Expected<boards::Board> b = boards::findBoard(s.board);
    if (!b) throw b.error();
    s.boardDesc = *b;
    if (s.dma == "xrt" && !driver::xrtCompiledIn())
      throw Error("--dma xrt: this runtime was built without XRT's headers; use --dma udmabuf");
  } else if (!s.board.empty()) {
    throw Error("--board applies to --device board");
  }
  s.paths.devmem = s.devmem;
  s.paths.udmabuf = s.udmabuf;
  s.paths.udmabufSysfs = s.udmabufSysfs;
  s.paths.dma = s.dma == "xrt" ? driver::BoardPaths::Dma::kXrt : driver::BoardPaths::Dma::kUdmabuf;
  s.paths.xrtDevice = s.xrtDevice;
}

std::string AccelDevice::attach(Package& p) const {
  const State& s = *s_;
  if (!p.accelConfig()) return "cpu";
  if (s.device == "none")
    throw Error("this package runs on the accelerator (config " + p.accelConfig()->name() +
                "): choose its device with --device board --board FILE (on a board) or "
                "--device sim-func (the functional reference)");
  p.setAccelTimeout(std::chrono::milliseconds(s.timeoutMs));
  if (s.device == "sim-func") {
    p.attachAccelerator(driver::makeSimFuncBackend(*p.accelConfig(), p.accelMemoryBytes()));
  } else {
    Expected<std::unique_ptr<driver::Backend>> b = driver::openBoardBackend(*s.boardDesc, s.paths);
    if (!b) throw b.error();
    p.attachAccelerator(std::move(*b));
  }
  return s.device;
}

#else

void AccelDevice::open() {
  if (s_->device != "none")
    throw Error("--device " + s_->device +
                ": this runtime was built without the accelerator driver (yaml-cpp for the "
                "target was missing at build time)");
}

std::string AccelDevice::attach(Package& p) const {
  (void)p;  // Package::run refuses an accelerator package, saying why
  return "cpu";
}

#endif

}  // namespace kiln
