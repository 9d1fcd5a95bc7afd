// The host's relay between RPC clients and a browser page (see kiln/rpc/browser_relay.h).
#include "kiln/rpc/browser_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kiln::rpc {

namespace {

Message reply(const std::string& op, nlohmann::json fields = nlohmann::json::object()) {
  Message m;
  m.header = std::move(fields);
  m.header["op"] = op;
  return m;
}

bool constantTimeEqual(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i)
    diff |= static_cast<unsigned char>((i < a.size() ? a[i] : 0) ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

// Says why, then closes: 1009 for a message over the limits, 1008 for anything else.
void refuse(WebSocket& ws, const std::string& why) {
  try {
    ws.send(reply("error", {{"message", why}}));
  } catch (const Error&) {
  }
  ws.close(why.find("exceeds the limit") != std::string::npos ? 1009 : 1008, why);
}

}  // namespace

Expected<std::unique_ptr<BrowserRelay>> BrowserRelay::listen(RelayOptions options) {
  return catchErrors([&]() -> std::unique_ptr<BrowserRelay> {
    if (options.token.size() < 16)
      throw Error(
          "the RPC token must be at least 16 characters (give --token-file or set "
          "KILN_RPC_TOKEN)");
    std::unique_ptr<BrowserRelay> r(new BrowserRelay());
    r->options_ = std::move(options);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(r->options_.port);
    if (::inet_pton(AF_INET, r->options_.bind.c_str(), &addr.sin_addr) != 1)
      throw Error("--bind " + r->options_.bind + ": not an IPv4 address");
    r->listenFd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(r->listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (r->listenFd_ < 0 ||
        ::bind(r->listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(r->listenFd_, 8) != 0)
      throw Error("cannot listen on " + r->options_.bind + ":" + std::to_string(r->options_.port) +
                  ": " + std::strerror(errno));
    socklen_t len = sizeof addr;
    ::getsockname(r->listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
    r->port_ = ntohs(addr.sin_port);
    return r;
  });
}

BrowserRelay::~BrowserRelay() {
  if (listenFd_ >= 0) ::close(listenFd_);
}

void BrowserRelay::serve(const std::atomic<bool>& stop) {
  while (!stop) {
    pollfd p[2] = {{listenFd_, POLLIN, 0}, {device_ ? device_->fd() : -1, POLLIN, 0}};
    int n = ::poll(p, 2, 200);
    if (n < 0 && errno != EINTR) throw Error(std::string("poll failed: ") + std::strerror(errno));
    if (n <= 0) continue;
    if (device_ && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      // The page says something unasked (or goes away): read it to see which.
      try {
        Message m = device_->receive(std::chrono::seconds(5));
        say("page " + deviceName_ + " sent an unrequested '" + m.op() + "'; ignored");
      } catch (const Error& e) {
        say("page " + deviceName_ + " disconnected: " + e.what());
        device_.reset();
      }
    }
    if (p[0].revents & POLLIN) {
      int fd = ::accept(listenFd_, nullptr, nullptr);
      if (fd >= 0) handle(fd);
    }
  }
}

void BrowserRelay::handle(int fd) {
  HttpRequest req;
  try {
    req = readHttpRequest(fd, std::chrono::seconds(10));
  } catch (const Error& e) {
    say(std::string("bad HTTP request: ") + e.what());
    ::close(fd);
    return;
  }
  auto upgrade = req.headers.find("upgrade");
  if (upgrade == req.headers.end()) {
    // The page and its scripts; nothing else.
    std::string path = req.path.substr(0, req.path.find_first_of("?#"));
    auto it = options_.pages.find(path);
    std::string resp;
    if (req.method == "GET" && it != options_.pages.end()) {
      const std::string type = path.ends_with(".js") ? "text/javascript" : "text/html";
      resp = "HTTP/1.1 200 OK\r\nContent-Type: " + type +
             "; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: " +
             std::to_string(it->second.size()) + "\r\nConnection: close\r\n\r\n" + it->second;
    } else {
      resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    }
    ::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL);
    ::close(fd);
    return;
  }
  std::unique_ptr<WebSocket> ws;
  try {
    ws = WebSocket::accept(fd, req, options_.limits);
  } catch (const Error& e) {
    say(std::string("refused a connection: ") + e.what());
    const std::string resp = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    ::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL);
    ::close(fd);
    return;
  }
  try {
    Message hello = ws->receive(std::chrono::seconds(10));
    if (hello.op() != "hello") return refuse(*ws, "the first message must be hello");
    if (!constantTimeEqual(hello.header.value("token", ""), options_.token)) {
      say("refused a peer: wrong token");
      return refuse(*ws, "authentication failed: wrong token");
    }
    const std::string role = hello.header.value("role", "client");
    const std::string name = hello.header.value("client", "?");
    nlohmann::json ops = {"ping", "load", "run", "bye"};
    ws->send(reply("welcome", {{"server", "kiln-rpc-serve"},
                               {"version", kVersion},
                               {"ops", ops},
                               {"device", device_ ? deviceName_ : ""}}));
    if (role == "device") {
      if (device_) say("page " + deviceName_ + " replaced");
      device_ = std::move(ws);
      deviceName_ = name;
      say("page connected: " + name);
      return;
    }
    if (role != "client") return refuse(*ws, "unknown role '" + role + "' (device or client)");
    say("client connected: " + name);
    clientSession(*ws);
  } catch (const Error& e) {
    say(std::string("closed a connection: ") + e.what());
    refuse(*ws, e.what());
  }
}

void BrowserRelay::clientSession(WebSocket& ws) {
  while (true) {
    Message m = ws.receive(options_.clientIdle);  // a protocol violation throws: refused above
    if (m.op() == "bye") {
      ws.send(reply("ok"));
      ws.close();
      say("client left");
      return;
    }
    if (m.op() == "ping") {
      ws.send(reply("pong"));
      continue;
    }
    if (m.op() != "load" && m.op() != "run") {
      ws.send(reply("error",
                    {{"message", "unknown operation '" + m.op() + "' (ping, load, run, bye)"}}));
      continue;
    }
    if (!device_) {
      ws.send(reply("error", {{"message", "no browser page is connected: open http://" +
                                              options_.bind + ":" + std::to_string(port_) +
                                              "/#token=<token> in a browser first"}}));
      continue;
    }
    try {
      device_->send(m);
      ws.send(device_->receive(options_.deviceReply));
    } catch (const Error& e) {
      say(std::string("page ") + deviceName_ + " failed: " + e.what());
      device_.reset();
      ws.send(
          reply("error", {{"message", std::string("the browser page went away: ") + e.what()}}));
    }
  }
}

}  // namespace kiln::rpc
