// Frame encoding and decoding of the RPC protocol (see kiln/rpc/protocol.h).
#include "kiln/rpc/protocol.h"

#include <cstring>

namespace kiln::rpc {

namespace {
template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
}
template <typename T>
T get(const uint8_t* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= uint64_t{p[i]} << (8 * i);
  return static_cast<T>(v);
}
}  // namespace

std::vector<uint8_t> encodeFrame(const Message& m) {
  const std::string header = m.header.dump();
  std::vector<uint8_t> out;
  out.reserve(kFrameHeaderBytes + header.size() + m.body.size());
  put<uint32_t>(out, kMagic);
  put<uint16_t>(out, kVersion);
  put<uint16_t>(out, 0);
  put<uint32_t>(out, static_cast<uint32_t>(header.size()));
  put<uint64_t>(out, m.body.size());
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), m.body.begin(), m.body.end());
  return out;
}

void writeTensors(Message& m, const std::vector<std::pair<std::string, NDArray>>& tensors) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, t] : tensors) {
    list.push_back(
        {{"name", name}, {"dtype", std::string(dtypeName(t.dtype()))}, {"shape", t.shape()}});
    const auto* p = static_cast<const uint8_t*>(t.rawData());
    m.body.insert(m.body.end(), p, p + t.nbytes());
  }
  m.header["tensors"] = list;
}

std::vector<std::pair<std::string, NDArray>> readTensors(const Message& m) {
  std::vector<std::pair<std::string, NDArray>> out;
  size_t offset = 0;
  try {
    for (const auto& t : m.header.at("tensors")) {
      NDArray a(parseDType(t.at("dtype").get<std::string>()), t.at("shape").get<Shape>());
      if (offset + a.nbytes() > m.body.size())
        throw Error("RPC message lists more tensor bytes than its body holds");
      std::memcpy(a.rawData(), m.body.data() + offset, a.nbytes());
      offset += a.nbytes();
      out.emplace_back(t.at("name").get<std::string>(), std::move(a));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("RPC message has a malformed tensor list: ") + e.what());
  }
  if (offset != m.body.size())
    throw Error("RPC message body holds bytes its tensor list does not describe");
  return out;
}

void FrameDecoder::feed(std::span<const uint8_t> bytes) {
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  while (buffer_.size() >= kFrameHeaderBytes) {
    const uint8_t* p = buffer_.data();
    if (get<uint32_t>(p) != kMagic)
      throw Error("not a Kiln RPC frame (bad magic): is the peer speaking this protocol?");
    const uint16_t version = get<uint16_t>(p + 4);
    if (version != kVersion)
      throw Error("RPC protocol version " + std::to_string(version) +
                  " is not supported (this peer speaks version " + std::to_string(kVersion) +
                  "); update the older side");
    const uint32_t hlen = get<uint32_t>(p + 8);
    const uint64_t blen = get<uint64_t>(p + 12);
    if (hlen > limits_.maxHeader)
      throw Error("RPC message header of " + std::to_string(hlen) + " bytes exceeds the limit of " +
                  std::to_string(limits_.maxHeader));
    if (blen > limits_.maxBody)
      throw Error("RPC message body of " + std::to_string(blen) + " bytes exceeds the limit of " +
                  std::to_string(limits_.maxBody));
    const size_t total = kFrameHeaderBytes + hlen + static_cast<size_t>(blen);
    if (buffer_.size() < total) return;
    Message m;
    try {
      m.header = nlohmann::json::parse(buffer_.begin() + kFrameHeaderBytes,
                                       buffer_.begin() + kFrameHeaderBytes + hlen);
    } catch (const nlohmann::json::exception& e) {
      throw Error(std::string("RPC message header is not valid JSON: ") + e.what());
    }
    if (!m.header.is_object() || !m.header.contains("op") || !m.header["op"].is_string())
      throw Error("RPC message header must be a JSON object with a string \"op\"");
    m.body.assign(buffer_.begin() + kFrameHeaderBytes + hlen,
                  buffer_.begin() + static_cast<std::ptrdiff_t>(total));
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(total));
    ready_.push_back(std::move(m));
  }
}

std::optional<Message> FrameDecoder::next() {
  if (ready_.empty()) return std::nullopt;
  Message m = std::move(ready_.front());
  ready_.pop_front();
  return m;
}

}  // namespace kiln::rpc
