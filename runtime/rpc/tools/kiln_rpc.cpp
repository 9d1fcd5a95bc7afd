// kiln-rpc: Kiln's RPC server, for a board or any machine that runs packages for a host.
//   kiln-rpc serve --bind 0.0.0.0 --port 9090 --token-file token.txt [--device board --board B]
// The token comes from --token-file or KILN_RPC_TOKEN; the server binds only where it is told.
// Packages compiled for the accelerator run on the device the server is started with, never
// one a client names: --device board (the board back end: /dev/mem and u-dma-buf, as --board
// describes) on a board, --device sim-func (the functional reference) anywhere else.
//   kiln-rpc load-bitstream --board pynq-z1.yaml kiln-pynq-z1.bit
// programs the board's FPGA through the Linux FPGA manager (as root), as `kiln board load` does
// on a machine with the compiler.
// Besides the built-in operations it offers, on the package files a session has put:
//   load                 -> ok {target, inputs, outputs}   (kiln::Package::load on the session)
//   run + input tensors  -> ok + output tensors, {ms}      (the loaded package)
#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <optional>

#include "kiln/rpc/server.h"
#include "kiln/runtime/accel_device.h"
#include "kiln/runtime/package.h"
#if KILN_RPC_ACCEL
#include "kiln/boards/board.h"
#include "kiln/driver/bitstream.h"
#endif

namespace {
std::atomic<bool> stopRequested{false};
}

int main(int argc, char** argv) {
  CLI::App app{"kiln-rpc: serve Kiln's RPC protocol (see docs/rpc.md)"};
  app.require_subcommand(1);
  kiln::rpc::ServerOptions o;
  std::string tokenFile, workDir = "/tmp/kiln-rpc";
  kiln::AccelDevice device;
  CLI::App* serve =
      app.add_subcommand("serve", "Accept connections and serve requests until interrupted");
  serve->add_option("--bind", o.bind,
                    "Address to listen on (default 127.0.0.1: this machine only)");
  serve->add_option("--port", o.port, "TCP port (default 9090)")->default_val(9090);
  serve->add_option("--token-file", tokenFile,
                    "File holding the token clients must present (else KILN_RPC_TOKEN)");
  serve->add_option("--work-dir", workDir, "Where session files go");
  device.addOptions(*serve);
  std::string bitstream, loadBoardName;
  CLI::App* loadBit = app.add_subcommand(
      "load-bitstream", "Program this board's FPGA with a .bit file (as root; the FPGA manager)");
  loadBit->add_option("--board", loadBoardName, "The board description (a boards/*.yaml file)")
      ->required();
  loadBit->add_option("bitstream", bitstream, "The .bit file (kiln board build writes it)")
      ->required();
  CLI11_PARSE(app, argc, argv);
  try {
    if (loadBit->parsed()) {
#if KILN_RPC_ACCEL
      auto b = kiln::boards::findBoard(loadBoardName);
      if (!b) throw b.error();
      kiln::Expected<bool> ok = kiln::driver::loadBitstream(bitstream, *b);
      if (!ok) throw ok.error();
      std::cout << "kiln-rpc: loaded " << bitstream << " on " << b->name << std::endl;
      return 0;
#else
      throw kiln::Error("load-bitstream: this kiln-rpc was built without the driver");
#endif
    }
    if (!tokenFile.empty()) {
      std::ifstream f(tokenFile);
      if (!f) throw kiln::Error("--token-file " + tokenFile + ": cannot open file");
      std::getline(f, o.token);
    } else if (const char* t = std::getenv("KILN_RPC_TOKEN")) {
      o.token = t;
    }
    o.workDir = workDir;
    device.open();  // the board is read (and checked) once, at start-up
    // Attaches the server's device to an accelerator package; other packages need none.
    auto attach = [&device](kiln::Package& p) { return device.attach(p); };
    auto server = kiln::rpc::Server::listen(o);
    if (!server) throw server.error();
    // One loaded package per session directory (a session starts with a fresh directory).
    auto loaded = std::make_shared<std::pair<std::string, std::unique_ptr<kiln::Package>>>();
    auto tensorList = [](const std::vector<kiln::PackageTensor>& ts) {
      nlohmann::json l = nlohmann::json::array();
      for (const auto& t : ts)
        l.push_back({{"name", t.name},
                     {"dtype", std::string(kiln::dtypeName(t.dtype))},
                     {"shape", t.shape}});
      return l;
    };
    (*server)->on("load",
                  [loaded, tensorList, attach](const kiln::rpc::Message&, kiln::rpc::Session& s) {
                    auto p = kiln::Package::load(s.dir.string());
                    if (!p) throw p.error();
                    const std::string on = attach(**p);
                    kiln::rpc::Message m;
                    m.header = {{"op", "ok"},
                                {"target", (*p)->target()},
                                {"device", on},
                                {"inputs", tensorList((*p)->inputs())},
                                {"outputs", tensorList((*p)->outputs())}};
                    *loaded = {s.dir.string(), std::move(*p)};
                    return m;
                  });
    (*server)->on("run", [loaded](const kiln::rpc::Message& req, kiln::rpc::Session& s) {
      if (!loaded->second || loaded->first != s.dir.string())
        throw kiln::Error("no package loaded in this session (op \"load\")");
      std::map<std::string, kiln::NDArray> feeds;
      for (auto& [name, t] : kiln::rpc::readTensors(req)) feeds[name] = std::move(t);
      auto t0 = std::chrono::steady_clock::now();
      std::vector<kiln::NDArray> outs = loaded->second->run(feeds);
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      kiln::rpc::Message m;
      m.header = {{"op", "ok"}, {"ms", ms}};
      std::vector<std::pair<std::string, kiln::NDArray>> named;
      for (size_t k = 0; k < outs.size(); ++k)
        named.emplace_back(loaded->second->outputs()[k].name, outs[k]);
      kiln::rpc::writeTensors(m, named);
      return m;
    });
    std::signal(SIGINT, [](int) { stopRequested = true; });
    std::signal(SIGTERM, [](int) { stopRequested = true; });
    std::cout << "kiln-rpc: listening on " << o.bind << ":" << (*server)->port()
              << ", accelerator packages on " << device.name() << std::endl;
    (*server)->serve(stopRequested);
    return 0;
  } catch (const kiln::Error& e) {
    std::cerr << "kiln-rpc: error: " << e.what() << "\n";
    return 1;
  }
}
