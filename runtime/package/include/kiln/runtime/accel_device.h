// The accelerator device of a program that runs packages with the runtime alone (kiln-run and
// kiln-rpc, on a board or any machine): --device board (this board's FPGA: its registers
// through /dev/mem and DMA memory from u-dma-buf or XRT, as --board describes), sim-func (the
// driver's functional reference of the accelerator) or none (refuse accelerator packages,
// saying why). The options are read and checked once, at start-up, so a wrong board file is
// reported before anything runs; every package the program loads is then attached the same way.
// (The host's `kiln run DIR --device` adds the cycle model and the RTL, which need the host.)
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace kiln {

class Package;

class AccelDevice {
 public:
  AccelDevice();
  ~AccelDevice();

  // Adds --device, --board, --timeout-ms, --dma, --devmem, --udmabuf and --udmabuf-sysfs.
  void addOptions(CLI::App& app);
  // After parsing: checks the options and reads the board file; throws an Error that says
  // what to pass (or that this runtime was built without the driver).
  void open();
  // "none", "board" or "sim-func".
  const std::string& name() const;
  // Attaches the device to p when p runs on the accelerator and returns where it runs: "cpu"
  // (no accelerator steps) or the device's name. Throws, saying what to start the program
  // with, when p needs a device and there is none.
  std::string attach(Package& p) const;

  struct State;

 private:
  std::unique_ptr<State> s_;
};

}  // namespace kiln
