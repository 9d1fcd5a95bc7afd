// The RPC server and client over TCP.
//
// The server binds to the address it is told (loopback unless asked otherwise), requires
// every connection to open with {"op": "hello", "token": ...} carrying its token (compared in
// constant time), enforces the protocol's size limits and an idle timeout, and runs only the
// operations registered with it: the built-in ones below, and whatever the embedding program
// adds (a board adds "run"). It never executes code it receives.
//
// Built-in operations:
//   hello {token, client?}      -> welcome {server, version, ops}
//   ping                        -> pong
//   put {name} + body           -> ok {bytes}    stores a file in the session's directory
//   get {name}                  -> ok + body
//   bye                         -> ok, then the server closes the connection
// Any failure answers {"op": "error", "message": ...}. File names are plain names
// ([A-Za-z0-9._-], no leading dot), so a peer cannot reach outside its session directory.
// Connections are served one at a time: one accelerator, one user.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "kiln/rpc/protocol.h"

namespace kiln::rpc {

struct Session {
  std::filesystem::path dir;  // files the peer has put
  std::string client;         // the name the peer gave in hello
};

using Handler = std::function<Message(const Message& request, Session& session)>;

struct ServerOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 0;              // 0: any free port (see Server::port)
  std::string token;              // required, at least 16 characters
  std::filesystem::path workDir;  // session directories are made inside it
  Limits limits;
  std::chrono::milliseconds idleTimeout{std::chrono::minutes(5)};
};

class Server {
 public:
  static Expected<std::unique_ptr<Server>> listen(ServerOptions options);
  ~Server();
  uint16_t port() const { return port_; }
  // Adds an operation (replacing a built-in one of the same name is refused).
  void on(const std::string& op, Handler handler);
  // Serves connections until `stop` becomes true (checked at least every 200 ms).
  void serve(const std::atomic<bool>& stop);
  // Serves exactly one connection, then returns (tests, one-shot tools).
  void serveOne();

 private:
  Server() = default;
  void session(int fd);

  ServerOptions options_;
  int listenFd_ = -1;
  uint16_t port_ = 0;
  std::map<std::string, Handler> handlers_;
  int sessions_ = 0;
};

class Client {
 public:
  static Expected<std::unique_ptr<Client>> connect(
      const std::string& host, uint16_t port, const std::string& token,
      std::chrono::milliseconds timeout = std::chrono::seconds(30), Limits limits = {});
  ~Client();
  // Sends a request and waits for its reply; an "error" reply becomes a kiln::Error.
  Expected<Message> call(const Message& request);
  const nlohmann::json& welcome() const { return welcome_; }

 private:
  Client() = default;
  int fd_ = -1;
  std::chrono::milliseconds timeout_{};
  FrameDecoder decoder_;
  nlohmann::json welcome_;
};

}  // namespace kiln::rpc
