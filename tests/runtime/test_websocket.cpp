// RPC over WebSocket and the browser relay (`kiln rpc serve`) on loopback, without a browser:
// the handshake's accept key, a wrong token, an oversized message, a malformed RPC frame and
// a malformed WebSocket frame are each refused with a message saying so, and the relay goes
// on serving the next client.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <thread>

#include "kiln/rpc/browser_relay.h"

namespace kiln::rpc {
namespace {

const std::string kToken = "0123456789abcdef-ws-test";

struct Relay {
  std::unique_ptr<BrowserRelay> relay;
  std::atomic<bool> stop{false};
  std::thread thread;
  Relay() {
    RelayOptions o;
    o.token = kToken;
    o.limits.maxBody = 4096;
    o.pages = {{"/", "<html>page</html>"}};
    auto r = BrowserRelay::listen(o);
    EXPECT_TRUE(r) << r.message();
    relay = std::move(*r);
    thread = std::thread([this] { relay->serve(stop); });
  }
  ~Relay() {
    stop = true;
    thread.join();
  }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(relay->port()); }
};

Message op(const std::string& name) {
  Message m;
  m.header = {{"op", name}};
  return m;
}

// A raw client: hello with the right token, then whatever the test sends.
std::unique_ptr<WebSocket> helloed(const Relay& r) {
  auto ws = WebSocket::connect("127.0.0.1", r.relay->port(), "/ws", std::chrono::seconds(5), {});
  Message hello = op("hello");
  hello.header["token"] = kToken;
  ws->send(hello);
  EXPECT_EQ(ws->receive(std::chrono::seconds(5)).op(), "welcome");
  return ws;
}

// The relay still serves: a fresh client is welcomed and answered.
void expectServing(const Relay& r) {
  auto c = WsClient::connect(r.url(), kToken, std::chrono::seconds(5));
  ASSERT_TRUE(c) << c.message();
  auto pong = (*c)->call(op("ping"));
  ASSERT_TRUE(pong) << pong.message();
  EXPECT_EQ(pong->op(), "pong");
}

TEST(WebSocketRpc, AcceptKeyIsTheRfcExample) {
  // RFC 6455, section 1.3.
  EXPECT_EQ(websocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketRpc, WrongTokenIsRefused) {
  Relay r;
  auto c = WsClient::connect(r.url(), "not-the-token-at-all", std::chrono::seconds(5));
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("authentication failed"), std::string::npos) << c.message();
  expectServing(r);
}

TEST(WebSocketRpc, RunWithoutAPageSaysToOpenOne) {
  Relay r;
  auto c = WsClient::connect(r.url(), kToken, std::chrono::seconds(5));
  ASSERT_TRUE(c) << c.message();
  auto run = (*c)->call(op("run"));
  ASSERT_FALSE(run);
  EXPECT_NE(run.message().find("no browser page is connected"), std::string::npos) << run.message();
}

TEST(WebSocketRpc, OversizedMessageIsRefused) {
  Relay r;
  auto ws = helloed(r);
  Message big = op("run");
  big.body.assign(8192, 7);  // the relay's limit is 4096
  ws->send(big);
  Message err = ws->receive(std::chrono::seconds(5));
  EXPECT_EQ(err.op(), "error");
  EXPECT_NE(err.header.value("message", "").find("exceeds the limit"), std::string::npos)
      << err.header.dump();
  expectServing(r);
}

TEST(WebSocketRpc, MalformedRpcFrameIsRefused) {
  Relay r;
  auto ws = helloed(r);
  std::vector<uint8_t> frame = encodeFrame(op("ping"));
  frame[0] ^= 0xFF;  // bad magic
  // Sent as a proper WebSocket message holding a broken RPC frame.
  const int fd = ws->fd();
  std::vector<uint8_t> wsFrame = {0x82, uint8_t(0x80 | frame.size()), 1, 2, 3, 4};
  for (size_t i = 0; i < frame.size(); ++i) wsFrame.push_back(frame[i] ^ uint8_t(1 + i % 4));
  ASSERT_EQ(::send(fd, wsFrame.data(), wsFrame.size(), MSG_NOSIGNAL), ssize_t(wsFrame.size()));
  Message err = ws->receive(std::chrono::seconds(5));
  EXPECT_EQ(err.op(), "error");
  EXPECT_NE(err.header.value("message", "").find("bad magic"), std::string::npos)
      << err.header.dump();
  expectServing(r);
}

TEST(WebSocketRpc, UnmaskedClientFrameIsRefused) {
  Relay r;
  auto ws = helloed(r);
  std::vector<uint8_t> frame = encodeFrame(op("ping"));
  std::vector<uint8_t> wsFrame = {0x82, uint8_t(frame.size())};  // no mask: against RFC 6455
  wsFrame.insert(wsFrame.end(), frame.begin(), frame.end());
  ASSERT_EQ(::send(ws->fd(), wsFrame.data(), wsFrame.size(), MSG_NOSIGNAL),
            ssize_t(wsFrame.size()));
  Message err = ws->receive(std::chrono::seconds(5));
  EXPECT_EQ(err.op(), "error");
  EXPECT_NE(err.header.value("message", "").find("must mask"), std::string::npos)
      << err.header.dump();
  expectServing(r);
}

}  // namespace
}  // namespace kiln::rpc
