// `kiln rpc serve`: the host side of RPC to a browser. A page cannot listen for connections,
// so this server stands between: it serves the page over HTTP, the page connects back over
// WebSocket as the "device", and clients (`kiln run PACKAGE --rpc ws://HOST:PORT`) connect
// over WebSocket too; each client request goes to the page and its reply comes back.
//
// Every WebSocket peer opens with the protocol's hello ({"op": "hello", "token", "role":
// "device" | "client"}); the token is compared in constant time, a wrong one is refused and
// the connection closed. Frames are the protocol's (protocol.h), one per binary WebSocket
// message, under its size limits; a frame that breaks them is answered with an error saying
// so and that connection closed, and the server goes on serving.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "kiln/rpc/websocket.h"

namespace kiln::rpc {

struct RelayOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port (see BrowserRelay::port)
  std::string token;  // required, at least 16 characters
  Limits limits;
  // Files served over plain HTTP GET (the page and its scripts), by path ("/" included).
  std::map<std::string, std::string> pages;
  std::chrono::milliseconds clientIdle{std::chrono::minutes(5)};
  std::chrono::milliseconds deviceReply{std::chrono::minutes(10)};
  std::function<void(const std::string&)> log;  // one line per event, if set
};

class BrowserRelay {
 public:
  static Expected<std::unique_ptr<BrowserRelay>> listen(RelayOptions options);
  ~BrowserRelay();
  uint16_t port() const { return port_; }
  // Serves until `stop` becomes true (checked at least every 200 ms).
  void serve(const std::atomic<bool>& stop);

 private:
  BrowserRelay() = default;
  void handle(int fd);
  void clientSession(WebSocket& ws);
  void say(const std::string& line) const {
    if (options_.log) options_.log(line);
  }
  RelayOptions options_;
  int listenFd_ = -1;
  uint16_t port_ = 0;
  std::unique_ptr<WebSocket> device_;
  std::string deviceName_;
};

}  // namespace kiln::rpc
