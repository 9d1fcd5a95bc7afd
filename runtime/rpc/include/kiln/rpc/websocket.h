// Kiln RPC over WebSocket (RFC 6455), for peers that are web pages: each RPC frame (see
// protocol.h) travels as one binary WebSocket message. Just what that needs: the opening
// handshake, binary messages (fragmented ones reassembled), ping/pong and close, with the
// RPC size limits checked before a payload is read. POSIX sockets; part of the runtime.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/rpc/protocol.h"

namespace kiln::rpc {

// Sec-WebSocket-Accept for a Sec-WebSocket-Key (base64 of SHA-1 of key + the RFC's GUID).
std::string websocketAccept(const std::string& key);

// An HTTP/1.1 request head: method, path and headers (names lower-cased).
struct HttpRequest {
  std::string method, path;
  std::map<std::string, std::string> headers;
};
// Reads a request head (at most 16 KiB) from fd; throws kiln::Error on a malformed one.
HttpRequest readHttpRequest(int fd, std::chrono::milliseconds timeout);

// One open WebSocket. A server-side socket expects masked frames from its peer (a browser or
// a client) and sends unmasked ones; a client-side one the reverse.
class WebSocket {
 public:
  WebSocket(int fd, bool clientSide, Limits limits);
  ~WebSocket();
  WebSocket(const WebSocket&) = delete;
  WebSocket& operator=(const WebSocket&) = delete;

  // Answers the upgrade request `req` already read from fd (101 Switching Protocols);
  // throws kiln::Error when it is not a valid WebSocket upgrade.
  static std::unique_ptr<WebSocket> accept(int fd, const HttpRequest& req, Limits limits);
  // Connects to ws://host:port/path and performs the handshake.
  static std::unique_ptr<WebSocket> connect(const std::string& host, uint16_t port,
                                            const std::string& path,
                                            std::chrono::milliseconds timeout, Limits limits);

  // The next RPC message (one binary WebSocket message holding one frame). Throws kiln::Error
  // on a close, a timeout, a malformed WebSocket frame, or an RPC frame that breaks the
  // protocol or the limits.
  Message receive(std::chrono::milliseconds timeout);
  void send(const Message& m);
  // Sends a close frame (status 1000 or 1008/1009 with a reason) and closes the socket.
  void close(uint16_t status = 1000, const std::string& reason = "");
  int fd() const { return fd_; }

 private:
  void sendFrame(uint8_t opcode, const uint8_t* data, size_t n);
  void readExact(uint8_t* p, size_t n, std::chrono::milliseconds timeout);
  int fd_;
  bool clientSide_;
  Limits limits_;
  bool closed_ = false;
};

// A host's client of a page-backed server (`kiln rpc serve`): connects over WebSocket, says
// hello with the token, then calls alternate with replies, like rpc::Client over TCP.
class WsClient {
 public:
  // url: ws://HOST:PORT[/PATH] (path defaults to /ws).
  static Expected<std::unique_ptr<WsClient>> connect(
      const std::string& url, const std::string& token,
      std::chrono::milliseconds timeout = std::chrono::minutes(10), Limits limits = {});
  // An "error" reply becomes a kiln::Error with its message.
  Expected<Message> call(const Message& request);
  const nlohmann::json& welcome() const { return welcome_; }

 private:
  std::unique_ptr<WebSocket> ws_;
  std::chrono::milliseconds timeout_{};
  nlohmann::json welcome_;
};

}  // namespace kiln::rpc
