// `kiln rpc serve`: RPC to a browser. Serves the RPC page; the page (opened with the token in
// its URL's fragment) connects back over WebSocket and runs what clients send it
// (`kiln run PACKAGE --rpc ws://HOST:PORT`). See runtime/rpc's browser_relay.h and docs/webgl.md.
#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <random>

#include "commands.h"
#include "kiln/rpc/browser_relay.h"

namespace kiln::cli {

const std::map<std::string, std::string>& webRuntimeFiles();  // embed_web.cmake

namespace {
std::atomic<bool> stopRequested{false};
void onSignal(int) {
  stopRequested = true;
}
}  // namespace

Runner addRpc(CLI::App& app) {
  struct Opts {
    std::string bind = "127.0.0.1", tokenFile;
    int port = 9190;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* rpc = app.add_subcommand("rpc", "RPC to a browser running WebGL");
  rpc->require_subcommand(1);
  CLI::App* serve = rpc->add_subcommand(
      "serve", "Serve the RPC page; a browser that opens it runs packages that hosts send");
  serve->add_option("--bind", o->bind, "Address to listen on (default loopback)");
  serve->add_option("--port", o->port, "Port (0: any free one)")->check(CLI::Range(0, 65535));
  serve->add_option("--token-file", o->tokenFile,
                    "File holding the token (else KILN_RPC_TOKEN, else a fresh random one)");
  return [o]() {
    rpc::RelayOptions opts;
    opts.bind = o->bind;
    opts.port = static_cast<uint16_t>(o->port);
    if (!o->tokenFile.empty()) {
      std::ifstream tf(o->tokenFile);
      if (!tf) throw Error("--token-file " + o->tokenFile + ": cannot open file");
      std::getline(tf, opts.token);
    } else if (const char* t = std::getenv("KILN_RPC_TOKEN")) {
      opts.token = t;
    } else {
      std::random_device rd;
      const char* hex = "0123456789abcdef";
      for (int i = 0; i < 32; ++i) opts.token += hex[rd() % 16];
    }
    const auto& web = webRuntimeFiles();
    opts.pages = {{"/", web.at("rpc.html")},
                  {"/index.html", web.at("rpc.html")},
                  {"/rpc.js", web.at("rpc.js")},
                  {"/kiln.js", web.at("kiln.js")}};
    opts.log = [](const std::string& line) { std::cout << "rpc      " << line << std::endl; };
    auto relay = rpc::BrowserRelay::listen(opts);
    if (!relay) throw relay.error();
    const std::string where = o->bind + ":" + std::to_string((*relay)->port());
    std::cout << "listening http://" << where << "/\n"
              << "page     open http://" << where << "/#token=" << opts.token << " in a browser\n"
              << "clients  kiln run PACKAGE --rpc ws://" << where << " (token in KILN_RPC_TOKEN "
              << "or --rpc-token-file)" << std::endl;
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    (*relay)->serve(stopRequested);
    return 0;
  };
}

}  // namespace kiln::cli
