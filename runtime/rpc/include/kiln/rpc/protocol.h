// Kiln's RPC protocol, defined once for every peer: a browser page driving WebGL, a board
// running packages on its accelerator, the host that sends them work.
//
// A message is one frame:
//   magic    u32  "KRPC" (0x4350524b little-endian)
//   version  u16  protocol version (1)
//   flags    u16  reserved, 0
//   hlen     u32  header bytes
//   blen     u64  body bytes
//   header        UTF-8 JSON object with at least {"op": "..."}
//   body          raw bytes (a tensor, a package file), possibly empty
// All integers little-endian. A peer refuses (with an "error" message, then closes) a frame
// with a wrong magic or version, a header or body over its limits, or a header that is not
// a JSON object with a string "op". Over TCP frames follow each other on the stream; over
// WebSocket each frame is one binary message.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "kiln/runtime/error.h"
#include "kiln/runtime/ndarray.h"

namespace kiln::rpc {

inline constexpr uint32_t kMagic = 0x4350524b;
inline constexpr uint16_t kVersion = 1;
inline constexpr size_t kFrameHeaderBytes = 20;

struct Limits {
  size_t maxHeader = 1 << 20;   // 1 MiB of JSON
  size_t maxBody = 512u << 20;  // 512 MiB (a whole package's weights)
};

struct Message {
  nlohmann::json header;
  std::vector<uint8_t> body;

  std::string op() const { return header.value("op", ""); }
};

std::vector<uint8_t> encodeFrame(const Message& m);

// Tensors in a message: header["tensors"] lists {name, dtype, shape} in order, and the body is
// their bytes back to back. readTensors checks the listing against the body's size.
void writeTensors(Message& m, const std::vector<std::pair<std::string, NDArray>>& tensors);
std::vector<std::pair<std::string, NDArray>> readTensors(const Message& m);

// Turns a byte stream into messages. Throws kiln::Error, saying what is wrong, on a frame
// that breaks the protocol or the limits; the connection is then unusable.
class FrameDecoder {
 public:
  explicit FrameDecoder(Limits limits = {}) : limits_(limits) {}
  void feed(std::span<const uint8_t> bytes);
  std::optional<Message> next();
  // Bytes the decoder still needs to finish the frame it is in (for bounded reads).
  size_t pending() const { return buffer_.size(); }

 private:
  Limits limits_;
  std::vector<uint8_t> buffer_;
  std::deque<Message> ready_;
};

}  // namespace kiln::rpc
