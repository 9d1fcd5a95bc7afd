// The RPC server and client over TCP sockets (POSIX).
#include "kiln/rpc/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>

namespace kiln::rpc {

namespace {

std::string sysError(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

void sendAll(int fd, const std::vector<uint8_t>& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(sysError("RPC send failed"));
    }
    sent += static_cast<size_t>(n);
  }
}

// Reads until the decoder has a message; throws on timeout, close or a protocol error.
Message receive(int fd, FrameDecoder& decoder, std::chrono::milliseconds timeout) {
  std::vector<uint8_t> buf(1 << 16);
  while (true) {
    if (auto m = decoder.next()) return std::move(*m);
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r == 0) throw Error("RPC peer sent nothing for " + std::to_string(timeout.count()) + " ms");
    if (r < 0) {
      if (errno == EINTR) continue;
      throw Error(sysError("RPC poll failed"));
    }
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n == 0) throw Error("RPC peer closed the connection");
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(sysError("RPC receive failed"));
    }
    decoder.feed(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)));
  }
}

Message reply(const std::string& op, nlohmann::json fields = nlohmann::json::object()) {
  Message m;
  m.header = std::move(fields);
  m.header["op"] = op;
  return m;
}

Message errorReply(const std::string& message) {
  return reply("error", {{"message", message}});
}

bool constantTimeEqual(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i)
    diff |= static_cast<unsigned char>((i < a.size() ? a[i] : 0) ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

std::filesystem::path sessionFile(const Session& s, const nlohmann::json& header) {
  // A plain name, or one folder level of plain names (a package's accel/N.insn): no leading
  // dot in either part, so nothing climbs out of the session's directory.
  static const std::regex plain(
      "[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,127})?");
  std::string name = header.value("name", "");
  if (!std::regex_match(name, plain))
    throw Error("file name '" + name +
                "' is not a plain name ([A-Za-z0-9._-], no leading dot, at most 128 characters, "
                "at most one folder: DIR/NAME)");
  return s.dir / name;
}

const char* const kBuiltins[] = {"hello", "ping", "put", "get", "bye"};

}  // namespace

Expected<std::unique_ptr<Server>> Server::listen(ServerOptions options) {
  return catchErrors([&]() -> std::unique_ptr<Server> {
    if (options.token.size() < 16)
      throw Error(
          "the RPC server needs a token of at least 16 characters (--token-file or "
          "KILN_RPC_TOKEN)");
    if (options.workDir.empty()) throw Error("the RPC server needs a work directory");
    std::filesystem::create_directories(options.workDir);
    std::unique_ptr<Server> s(new Server());
    s->options_ = std::move(options);
    sockaddr_storage addr{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
    if (inet_pton(AF_INET, s->options_.bind.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(s->options_.port);
      len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, s->options_.bind.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(s->options_.port);
      len = sizeof(sockaddr_in6);
    } else {
      throw Error("bind address '" + s->options_.bind + "' is not an IPv4 or IPv6 address");
    }
    s->listenFd_ = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->listenFd_ < 0) throw Error(sysError("socket"));
    int one = 1;
    ::setsockopt(s->listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(s->listenFd_, reinterpret_cast<sockaddr*>(&addr), len) != 0)
      throw Error(
          sysError("cannot bind " + s->options_.bind + ":" + std::to_string(s->options_.port)));
    if (::listen(s->listenFd_, 4) != 0) throw Error(sysError("listen"));
    ::getsockname(s->listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
    s->port_ = ntohs(addr.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
    return s;
  });
}

Server::~Server() {
  if (listenFd_ >= 0) ::close(listenFd_);
}

void Server::on(const std::string& op, Handler handler) {
  for (const char* b : kBuiltins)
    if (op == b) throw Error("RPC operation '" + op + "' is built in");
  handlers_[op] = std::move(handler);
}

void Server::serve(const std::atomic<bool>& stop) {
  while (!stop) {
    pollfd p{listenFd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    serveOne();
  }
}

void Server::serveOne() {
  int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return;
  try {
    session(fd);
  } catch (const Error&) {
    // The session has already told its peer what went wrong where it could.
  }
  ::close(fd);
}

void Server::session(int fd) {
  FrameDecoder decoder(options_.limits);
  Session s;
  auto send = [&](const Message& m) { sendAll(fd, encodeFrame(m)); };
  Message hello;
  try {
    hello = receive(fd, decoder, options_.idleTimeout);
  } catch (const Error& e) {
    send(errorReply(e.what()));
    throw;
  }
  if (hello.op() != "hello" || !hello.header.contains("token") ||
      !hello.header["token"].is_string() ||
      !constantTimeEqual(hello.header["token"].get<std::string>(), options_.token)) {
    send(
        errorReply("authentication failed: open with {\"op\": \"hello\", \"token\": ...} and the "
                   "server's token"));
    return;
  }
  s.client = hello.header.value("client", "");
  s.dir = options_.workDir / ("session-" + std::to_string(++sessions_));
  std::filesystem::remove_all(s.dir);
  std::filesystem::create_directories(s.dir);
  nlohmann::json ops = nlohmann::json::array();
  for (const char* b : kBuiltins) ops.push_back(b);
  for (auto& [name, _] : handlers_) ops.push_back(name);
  send(reply("welcome", {{"server", "kiln-rpc"}, {"version", kVersion}, {"ops", ops}}));

  while (true) {
    Message req;
    try {
      req = receive(fd, decoder, options_.idleTimeout);
    } catch (const Error& e) {
      // A protocol violation or an idle peer ends the session (after saying why, if we can).
      try {
        send(errorReply(e.what()));
      } catch (const Error&) {
      }
      break;
    }
    const std::string op = req.op();
    try {
      if (op == "bye") {
        send(reply("ok"));
        break;
      } else if (op == "ping") {
        send(reply("pong"));
      } else if (op == "put") {
        std::filesystem::path p = sessionFile(s, req.header);
        std::filesystem::create_directories(p.parent_path());
        std::ofstream f(p, std::ios::binary);
        f.write(reinterpret_cast<const char*>(req.body.data()),
                static_cast<std::streamsize>(req.body.size()));
        if (!f) throw Error("cannot write " + p.filename().string());
        send(reply("ok", {{"bytes", req.body.size()}}));
      } else if (op == "get") {
        std::filesystem::path p = sessionFile(s, req.header);
        std::ifstream f(p, std::ios::binary);
        if (!f) throw Error("no file '" + p.filename().string() + "' in this session");
        Message m = reply("ok");
        m.body.assign(std::istreambuf_iterator<char>(f), {});
        send(m);
      } else if (auto h = handlers_.find(op); h != handlers_.end()) {
        send(h->second(req, s));
      } else {
        std::string list;
        for (auto& o : ops) list += (list.empty() ? "" : ", ") + o.get<std::string>();
        throw Error("unknown operation '" + op + "' (this server offers: " + list + ")");
      }
    } catch (const Error& e) {
      send(errorReply(e.what()));
    } catch (const std::exception& e) {
      send(errorReply(std::string("internal error: ") + e.what()));
    }
  }
  std::filesystem::remove_all(s.dir);
}

Expected<std::unique_ptr<Client>> Client::connect(const std::string& host, uint16_t port,
                                                  const std::string& token,
                                                  std::chrono::milliseconds timeout,
                                                  Limits limits) {
  return catchErrors([&]() -> std::unique_ptr<Client> {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0)
      throw Error("cannot resolve RPC host '" + host + "': " + gai_strerror(rc));
    std::unique_ptr<Client> c(new Client());
    c->timeout_ = timeout;
    c->decoder_ = FrameDecoder(limits);
    for (addrinfo* a = res; a; a = a->ai_next) {
      c->fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (c->fd_ < 0) continue;
      if (::connect(c->fd_, a->ai_addr, a->ai_addrlen) == 0) break;
      ::close(c->fd_);
      c->fd_ = -1;
    }
    ::freeaddrinfo(res);
    if (c->fd_ < 0)
      throw Error(sysError("cannot connect to RPC server " + host + ":" + std::to_string(port)));
    int one = 1;
    ::setsockopt(c->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Message hello = reply("hello", {{"token", token}, {"client", "kiln"}});
    Expected<Message> w = c->call(hello);
    if (!w) throw w.error();
    c->welcome_ = w->header;
    return c;
  });
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

Expected<Message> Client::call(const Message& request) {
  return catchErrors([&]() -> Message {
    sendAll(fd_, encodeFrame(request));
    Message m = receive(fd_, decoder_, timeout_);
    if (m.op() == "error")
      throw Error("RPC server: " + m.header.value("message", std::string("unknown error")));
    return m;
  });
}

}  // namespace kiln::rpc
