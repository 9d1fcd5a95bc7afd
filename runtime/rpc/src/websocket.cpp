// Kiln RPC over WebSocket: handshake, framing and the client (see kiln/rpc/websocket.h).
#include "kiln/rpc/websocket.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <random>
#include <sstream>

namespace kiln::rpc {

namespace {

// SHA-1 (FIPS 180-4), only for the handshake's accept key.
std::array<uint8_t, 20> sha1(const std::string& msg) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::vector<uint8_t> m(msg.begin(), msg.end());
  const uint64_t bits = uint64_t(m.size()) * 8;
  m.push_back(0x80);
  while (m.size() % 64 != 56) m.push_back(0);
  for (int i = 7; i >= 0; --i) m.push_back(uint8_t(bits >> (8 * i)));
  auto rol = [](uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
  for (size_t off = 0; off < m.size(); off += 64) {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i)
      w[i] = uint32_t(m[off + 4 * i]) << 24 | uint32_t(m[off + 4 * i + 1]) << 16 |
             uint32_t(m[off + 4 * i + 2]) << 8 | uint32_t(m[off + 4 * i + 3]);
    for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      const uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rol(b, 30);
      b = a;
      a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  std::array<uint8_t, 20> out{};
  for (int i = 0; i < 20; ++i) out[size_t(i)] = uint8_t(h[i / 4] >> (24 - 8 * (i % 4)));
  return out;
}

std::string base64(const uint8_t* p, size_t n) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = uint32_t(p[i]) << 16;
    if (i + 1 < n) v |= uint32_t(p[i + 1]) << 8;
    if (i + 2 < n) v |= p[i + 2];
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += i + 1 < n ? abc[(v >> 6) & 63] : '=';
    out += i + 2 < n ? abc[v & 63] : '=';
  }
  return out;
}

void sendAll(int fd, const uint8_t* p, size_t n) {
  size_t sent = 0;
  while (sent < n) {
    ssize_t r = ::send(fd, p + sent, n - sent, MSG_NOSIGNAL);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw Error(std::string("WebSocket send failed: ") + std::strerror(errno));
    }
    sent += size_t(r);
  }
}

void waitReadable(int fd, std::chrono::milliseconds timeout, const char* what) {
  while (true) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, int(timeout.count()));
    if (r > 0) return;
    if (r == 0)
      throw Error(std::string(what) + ": nothing received for " + std::to_string(timeout.count()) +
                  " ms");
    if (errno != EINTR) throw Error(std::string(what) + ": poll failed");
  }
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string websocketAccept(const std::string& key) {
  auto d = sha1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  return base64(d.data(), d.size());
}

HttpRequest readHttpRequest(int fd, std::chrono::milliseconds timeout) {
  std::string head;
  char c;
  while (head.size() < 16384) {
    waitReadable(fd, timeout, "HTTP request");
    ssize_t n = ::recv(fd, &c, 1, 0);
    if (n <= 0) throw Error("HTTP request: the peer closed the connection");
    head += c;
    if (head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0) break;
  }
  if (head.size() >= 16384) throw Error("HTTP request head over 16 KiB");
  std::istringstream in(head);
  HttpRequest r;
  std::string line, version;
  std::getline(in, line);
  std::istringstream first(line);
  if (!(first >> r.method >> r.path >> version) || version.rfind("HTTP/1.", 0) != 0)
    throw Error("not an HTTP/1.1 request: " + line.substr(0, 80));
  while (std::getline(in, line) && line != "\r") {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(0, 1);
    while (!v.empty() && (v.back() == '\r' || v.back() == ' ')) v.pop_back();
    r.headers[lower(line.substr(0, colon))] = v;
  }
  return r;
}

WebSocket::WebSocket(int fd, bool clientSide, Limits limits)
    : fd_(fd), clientSide_(clientSide), limits_(limits) {}

WebSocket::~WebSocket() {
  if (fd_ >= 0) ::close(fd_);
}

std::unique_ptr<WebSocket> WebSocket::accept(int fd, const HttpRequest& req, Limits limits) {
  auto h = [&](const char* k) {
    auto it = req.headers.find(k);
    return it == req.headers.end() ? std::string() : it->second;
  };
  if (req.method != "GET" || lower(h("upgrade")) != "websocket" || h("sec-websocket-key").empty())
    throw Error("not a WebSocket upgrade request");
  if (h("sec-websocket-version") != "13")
    throw Error("WebSocket version " + h("sec-websocket-version") + " (this server speaks 13)");
  const std::string resp =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      websocketAccept(h("sec-websocket-key")) + "\r\n\r\n";
  sendAll(fd, reinterpret_cast<const uint8_t*>(resp.data()), resp.size());
  return std::make_unique<WebSocket>(fd, false, limits);
}

std::unique_ptr<WebSocket> WebSocket::connect(const std::string& host, uint16_t port,
                                              const std::string& path,
                                              std::chrono::milliseconds timeout, Limits limits) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int e = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); e != 0)
    throw Error("cannot resolve " + host + ": " + ::gai_strerror(e));
  int fd = -1;
  for (addrinfo* a = res; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd < 0)
    throw Error("cannot connect to ws://" + host + ":" + std::to_string(port) +
                " (is `kiln rpc serve` running there?)");
  auto ws = std::make_unique<WebSocket>(fd, true, limits);
  std::mt19937_64 rng(std::random_device{}());
  uint8_t nonce[16];
  for (uint8_t& b : nonce) b = uint8_t(rng());
  const std::string key = base64(nonce, 16);
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" +
                          std::to_string(port) +
                          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: " +
                          key + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  sendAll(fd, reinterpret_cast<const uint8_t*>(req.data()), req.size());
  // The response head, read like a request head (status line instead of a request line).
  std::string head;
  char c;
  while (head.size() < 16384 &&
         !(head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0)) {
    waitReadable(fd, timeout, "WebSocket handshake");
    if (::recv(fd, &c, 1, 0) <= 0) throw Error("WebSocket handshake: the server closed");
    head += c;
  }
  if (head.rfind("HTTP/1.1 101", 0) != 0)
    throw Error("WebSocket handshake refused: " + head.substr(0, head.find('\r')));
  if (lower(head).find(lower(websocketAccept(key))) == std::string::npos &&
      head.find(websocketAccept(key)) == std::string::npos)
    throw Error("WebSocket handshake: wrong Sec-WebSocket-Accept from the server");
  return ws;
}

void WebSocket::readExact(uint8_t* p, size_t n, std::chrono::milliseconds timeout) {
  size_t got = 0;
  while (got < n) {
    waitReadable(fd_, timeout, "WebSocket");
    ssize_t r = ::recv(fd_, p + got, n - got, 0);
    if (r == 0) throw Error("WebSocket peer closed the connection");
    if (r < 0) {
      if (errno == EINTR) continue;
      throw Error(std::string("WebSocket receive failed: ") + std::strerror(errno));
    }
    got += size_t(r);
  }
}

void WebSocket::sendFrame(uint8_t opcode, const uint8_t* data, size_t n) {
  std::vector<uint8_t> f;
  f.push_back(uint8_t(0x80 | opcode));
  const uint8_t mask = clientSide_ ? 0x80 : 0;
  if (n < 126) {
    f.push_back(uint8_t(mask | n));
  } else if (n < 65536) {
    f.push_back(uint8_t(mask | 126));
    f.push_back(uint8_t(n >> 8));
    f.push_back(uint8_t(n));
  } else {
    f.push_back(uint8_t(mask | 127));
    for (int i = 7; i >= 0; --i) f.push_back(uint8_t(uint64_t(n) >> (8 * i)));
  }
  uint8_t key[4] = {0, 0, 0, 0};
  if (clientSide_) {
    std::mt19937 rng(std::random_device{}());
    for (uint8_t& k : key) k = uint8_t(rng());
    f.insert(f.end(), key, key + 4);
  }
  const size_t start = f.size();
  f.insert(f.end(), data, data + n);
  if (clientSide_)
    for (size_t i = 0; i < n; ++i) f[start + i] ^= key[i % 4];
  sendAll(fd_, f.data(), f.size());
}

void WebSocket::send(const Message& m) {
  std::vector<uint8_t> frame = encodeFrame(m);
  sendFrame(0x2, frame.data(), frame.size());
}

void WebSocket::close(uint16_t status, const std::string& reason) {
  if (closed_ || fd_ < 0) return;
  closed_ = true;
  std::vector<uint8_t> payload = {uint8_t(status >> 8), uint8_t(status)};
  payload.insert(payload.end(), reason.begin(),
                 reason.begin() + long(std::min<size_t>(reason.size(), 120)));
  try {
    sendFrame(0x8, payload.data(), payload.size());
  } catch (const Error&) {
    // the peer is gone already
  }
  ::shutdown(fd_, SHUT_RDWR);
}

Message WebSocket::receive(std::chrono::milliseconds timeout) {
  std::vector<uint8_t> message;
  bool inMessage = false;
  const size_t maxMessage = kFrameHeaderBytes + limits_.maxHeader + limits_.maxBody;
  while (true) {
    uint8_t h[2];
    readExact(h, 2, timeout);
    const bool fin = h[0] & 0x80;
    const uint8_t opcode = h[0] & 0x0F;
    if (h[0] & 0x70) throw Error("malformed WebSocket frame: reserved bits set");
    const bool masked = h[1] & 0x80;
    if (masked == clientSide_)
      throw Error(
          std::string("malformed WebSocket frame: ") +
          (clientSide_ ? "a server must not mask its frames" : "a client must mask its frames"));
    uint64_t len = h[1] & 0x7F;
    if (len == 126) {
      uint8_t e[2];
      readExact(e, 2, timeout);
      len = uint64_t(e[0]) << 8 | e[1];
    } else if (len == 127) {
      uint8_t e[8];
      readExact(e, 8, timeout);
      len = 0;
      for (uint8_t b : e) len = len << 8 | b;
    }
    uint8_t key[4] = {0, 0, 0, 0};
    if (masked) readExact(key, 4, timeout);
    if (opcode >= 0x8 && (len > 125 || !fin))
      throw Error("malformed WebSocket frame: control frame too long or fragmented");
    if (opcode < 0x8 && message.size() + len > maxMessage)
      throw Error("RPC message of " + std::to_string(message.size() + len) +
                  " bytes exceeds the limit of " + std::to_string(maxMessage));
    std::vector<uint8_t> payload(static_cast<size_t>(len));
    readExact(payload.data(), payload.size(), timeout);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] ^= key[i % 4];
    if (opcode == 0x8) {
      closed_ = true;
      std::string reason =
          payload.size() > 2 ? std::string(payload.begin() + 2, payload.end()) : "";
      throw Error("WebSocket closed by the peer" + (reason.empty() ? "" : ": " + reason));
    }
    if (opcode == 0x9) {  // ping
      sendFrame(0xA, payload.data(), payload.size());
      continue;
    }
    if (opcode == 0xA) continue;  // pong
    if (opcode == 0x1)
      throw Error("malformed RPC message: a text WebSocket message (RPC frames are binary)");
    if (opcode == 0x2) {
      if (inMessage)
        throw Error("malformed WebSocket frame: a new message inside a fragmented one");
      inMessage = true;
    } else if (opcode == 0x0) {
      if (!inMessage) throw Error("malformed WebSocket frame: a continuation outside a message");
    } else {
      throw Error("malformed WebSocket frame: unknown opcode " + std::to_string(opcode));
    }
    message.insert(message.end(), payload.begin(), payload.end());
    if (!fin) continue;
    FrameDecoder d(limits_);
    d.feed(message);
    auto m = d.next();
    if (!m || d.pending() != 0)
      throw Error("malformed RPC message: a WebSocket message must hold exactly one RPC frame");
    return std::move(*m);
  }
}

Expected<std::unique_ptr<WsClient>> WsClient::connect(const std::string& url,
                                                      const std::string& token,
                                                      std::chrono::milliseconds timeout,
                                                      Limits limits) {
  return catchErrors([&]() -> std::unique_ptr<WsClient> {
    if (url.rfind("ws://", 0) != 0) throw Error(url + ": expected ws://HOST:PORT");
    std::string rest = url.substr(5), path = "/ws";
    if (auto slash = rest.find('/'); slash != std::string::npos) {
      path = rest.substr(slash);
      rest = rest.substr(0, slash);
    }
    auto colon = rest.rfind(':');
    if (colon == std::string::npos || colon + 1 == rest.size())
      throw Error(url + ": expected ws://HOST:PORT");
    int port = 0;
    try {
      port = std::stoi(rest.substr(colon + 1));
    } catch (const std::exception&) {
    }
    if (port <= 0 || port > 65535) throw Error(url + ": bad port");
    std::unique_ptr<WsClient> c(new WsClient());
    c->timeout_ = timeout;
    c->ws_ = WebSocket::connect(rest.substr(0, colon), uint16_t(port), path,
                                std::chrono::seconds(30), limits);
    Message hello;
    hello.header = {{"op", "hello"}, {"token", token}, {"role", "client"}, {"client", "kiln"}};
    c->ws_->send(hello);
    Message w = c->ws_->receive(std::chrono::seconds(30));
    if (w.op() == "error") throw Error("RPC server refused: " + w.header.value("message", ""));
    if (w.op() != "welcome") throw Error("RPC server answered hello with '" + w.op() + "'");
    c->welcome_ = w.header;
    return c;
  });
}

Expected<Message> WsClient::call(const Message& request) {
  return catchErrors([&]() -> Message {
    ws_->send(request);
    Message r = ws_->receive(timeout_);
    if (r.op() == "error")
      throw Error("RPC " + request.op() + ": " + r.header.value("message", ""));
    return r;
  });
}

}  // namespace kiln::rpc
