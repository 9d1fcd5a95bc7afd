// kiln-rpc: Kiln's RPC server, for a board or any machine that runs packages for a host.
//   kiln-rpc serve --bind 0.0.0.0 --port 9090 --token-file token.txt
// The token comes from --token-file or KILN_RPC_TOKEN; the server binds only where it is told.
#include <CLI/CLI.hpp>
#include <csignal>
#include <fstream>
#include <iostream>

#include "kiln/rpc/server.h"

namespace {
std::atomic<bool> stopRequested{false};
}

int main(int argc, char** argv) {
  CLI::App app{"kiln-rpc: serve Kiln's RPC protocol (see docs/rpc.md)"};
  app.require_subcommand(1);
  kiln::rpc::ServerOptions o;
  std::string tokenFile, workDir = "/tmp/kiln-rpc";
  CLI::App* serve = app.add_subcommand("serve", "Accept connections and serve requests until interrupted");
  serve->add_option("--bind", o.bind, "Address to listen on (default 127.0.0.1: this machine only)");
  serve->add_option("--port", o.port, "TCP port (default 9090)")->default_val(9090);
  serve->add_option("--token-file", tokenFile, "File holding the token clients must present (else KILN_RPC_TOKEN)");
  serve->add_option("--work-dir", workDir, "Where session files go");
  CLI11_PARSE(app, argc, argv);
  try {
    if (!tokenFile.empty()) {
      std::ifstream f(tokenFile);
      if (!f) throw kiln::Error("--token-file " + tokenFile + ": cannot open file");
      std::getline(f, o.token);
    } else if (const char* t = std::getenv("KILN_RPC_TOKEN")) {
      o.token = t;
    }
    o.workDir = workDir;
    auto server = kiln::rpc::Server::listen(o);
    if (!server) throw server.error();
    std::signal(SIGINT, [](int) { stopRequested = true; });
    std::signal(SIGTERM, [](int) { stopRequested = true; });
    std::cout << "kiln-rpc: listening on " << o.bind << ":" << (*server)->port() << std::endl;
    (*server)->serve(stopRequested);
    return 0;
  } catch (const kiln::Error& e) {
    std::cerr << "kiln-rpc: error: " << e.what() << "\n";
    return 1;
  }
}
