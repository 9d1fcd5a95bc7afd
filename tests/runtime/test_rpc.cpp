// The RPC protocol and server on loopback: authentication, file transfer, the size limits,
// malformed frames and file names a peer must not use.
#include <gtest/gtest.h>

#include <thread>

#include "kiln/rpc/server.h"

namespace kiln::rpc {
namespace {

const std::string kToken = "0123456789abcdef-test";

struct Running {
  std::unique_ptr<Server> server;
  std::thread thread;
  explicit Running(ServerOptions o) {
    auto s = Server::listen(std::move(o));
    EXPECT_TRUE(s) << s.message();
    server = std::move(*s);
    server->on("add", [](const Message& req, Session&) {
      Message m;
      m.header = {{"op", "ok"},
                  {"sum", req.header.at("a").get<int>() + req.header.at("b").get<int>()}};
      return m;
    });
    thread = std::thread([this] { server->serveOne(); });
  }
  ~Running() { thread.join(); }
};

ServerOptions options(Limits limits = {}) {
  ServerOptions o;
  o.token = kToken;
  o.workDir = std::filesystem::temp_directory_path() / "kiln-rpc-test";
  o.limits = limits;
  o.idleTimeout = std::chrono::seconds(5);
  return o;
}

Message op(const std::string& name, nlohmann::json fields = nlohmann::json::object()) {
  Message m;
  m.header = std::move(fields);
  m.header["op"] = name;
  return m;
}

TEST(Rpc, FrameRoundTripAndIncrementalDecoding) {
  Message m = op("put", {{"name", "x.bin"}});
  m.body = {1, 2, 3, 250};
  std::vector<uint8_t> bytes = encodeFrame(m);
  bytes.insert(bytes.end(), bytes.begin(), bytes.end());  // two frames back to back
  FrameDecoder d;
  for (uint8_t b : bytes) d.feed(std::span<const uint8_t>(&b, 1));  // one byte at a time
  for (int k = 0; k < 2; ++k) {
    auto got = d.next();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->op(), "put");
    EXPECT_EQ(got->body, m.body);
  }
  EXPECT_FALSE(d.next().has_value());
}

TEST(Rpc, DecoderRefusesBadFrames) {
  FrameDecoder d(Limits{64, 64});
  std::vector<uint8_t> junk = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P',
                               '/', '1', '.', '1', 0,   0,   0,   0,   0,   0};
  EXPECT_THROW(d.feed(junk), Error);
  Message big = op("put");
  big.body.assign(65, 0);
  FrameDecoder d2(Limits{64, 64});
  try {
    d2.feed(encodeFrame(big));
    FAIL() << "accepted a body over the limit";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the limit of 64"), std::string::npos) << e.what();
  }
  std::vector<uint8_t> notObject = encodeFrame(op("x"));
  std::string arr = "[1,2]";
  // Rewrite the header to a JSON array of the same length prefix.
  std::vector<uint8_t> f(notObject.begin(), notObject.begin() + kFrameHeaderBytes);
  f[8] = static_cast<uint8_t>(arr.size());
  f.insert(f.end(), arr.begin(), arr.end());
  FrameDecoder d3;
  EXPECT_THROW(d3.feed(f), Error);
}

TEST(Rpc, HelloPutGetAndACustomOperation) {
  Running r(options());
  auto c = Client::connect("127.0.0.1", r.server->port(), kToken);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ((*c)->welcome().value("server", ""), "kiln-rpc");
  Message put = op("put", {{"name", "weights.bin"}});
  put.body = std::vector<uint8_t>(100000, 7);
  Expected<Message> ok = (*c)->call(put);
  ASSERT_TRUE(ok) << ok.message();
  EXPECT_EQ(ok->header.value("bytes", 0), 100000);
  Expected<Message> got = (*c)->call(op("get", {{"name", "weights.bin"}}));
  ASSERT_TRUE(got) << got.message();
  EXPECT_EQ(got->body, put.body);
  Expected<Message> sum = (*c)->call(op("add", {{"a", 2}, {"b", 40}}));
  ASSERT_TRUE(sum) << sum.message();
  EXPECT_EQ(sum->header.value("sum", 0), 42);
  Expected<Message> unknown = (*c)->call(op("exec", {{"cmd", "rm -rf /"}}));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.message().find("unknown operation 'exec'"), std::string::npos)
      << unknown.message();
  EXPECT_TRUE((*c)->call(op("bye")));
}

TEST(Rpc, WrongTokenIsRefused) {
  Running r(options());
  auto c = Client::connect("127.0.0.1", r.server->port(), "not-the-token-at-all");
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("authentication failed"), std::string::npos) << c.message();
}

TEST(Rpc, FileNamesCannotLeaveTheSession) {
  Running r(options());
  auto c = Client::connect("127.0.0.1", r.server->port(), kToken);
  ASSERT_TRUE(c) << c.message();
  for (const char* name : {"../escape", "/etc/passwd", ".hidden", "a/../b", "a/.b", "../a/b",
                           "a/b/c", "a//b", "a/", ""}) {
    Message put = op("put", {{"name", name}});
    put.body = {1};
    Expected<Message> m = (*c)->call(put);
    ASSERT_FALSE(m) << "accepted file name '" << name << "'";
    EXPECT_NE(m.message().find("not a plain name"), std::string::npos) << m.message();
  }
  // One folder level (an accelerator package's accel/N.insn) stays inside the session.
  Message put = op("put", {{"name", "accel/0.insn"}});
  put.body = {7, 8};
  ASSERT_TRUE((*c)->call(put));
  Expected<Message> got = (*c)->call(op("get", {{"name", "accel/0.insn"}}));
  ASSERT_TRUE(got) << got.message();
  EXPECT_EQ(got->body, (std::vector<uint8_t>{7, 8}));
  EXPECT_TRUE((*c)->call(op("bye")));
}

TEST(Rpc, OversizedMessageEndsTheSessionWithAReason) {
  Running r(options(Limits{1 << 10, 1 << 10}));
  auto c = Client::connect("127.0.0.1", r.server->port(), kToken);
  ASSERT_TRUE(c) << c.message();
  Message put = op("put", {{"name", "big.bin"}});
  put.body = std::vector<uint8_t>(4096, 1);
  Expected<Message> m = (*c)->call(put);
  ASSERT_FALSE(m);
  EXPECT_NE(m.message().find("exceeds the limit"), std::string::npos) << m.message();
}

TEST(Rpc, ServerRefusesAShortToken) {
  ServerOptions o = options();
  o.token = "short";
  auto s = Server::listen(o);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("at least 16 characters"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace kiln::rpc
