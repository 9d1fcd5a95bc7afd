// Reading and writing DRAM images (the format is described in dram_image.h).
#include "kiln/sim/dram_image.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

namespace kiln::sim {

namespace {

constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'D', 'R', 'A', 'M'};
constexpr uint32_t kVersion = 1;

uint64_t readLe(std::span<const uint8_t> b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{b[at + i]} << (8 * i);
  return v;
}

void putLe(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

}  // namespace

uint64_t DramImage::requiredBytes() const {
  uint64_t end = size;
  for (const DramSegment& s : segments) end = std::max<uint64_t>(end, s.address + s.bytes.size());
  return end;
}

void DramImage::applyTo(std::span<uint8_t> dram) const {
  for (const DramSegment& s : segments) {
    if (s.address + s.bytes.size() > dram.size())
      throw Error("a DRAM image segment at byte " + std::to_string(s.address) + " of " +
                  std::to_string(s.bytes.size()) + " bytes does not fit in " +
                  std::to_string(dram.size()) + " bytes of DRAM; give a larger DRAM size");
    std::copy(s.bytes.begin(), s.bytes.end(), dram.begin() + static_cast<ptrdiff_t>(s.address));
  }
}

DramImage parseDramImage(std::span<const uint8_t> b, const std::string& origin) {
  DramImage image;
  if (b.size() < 8 || std::memcmp(b.data(), kMagic, 8) != 0) {
    image.segments.push_back({0, std::vector<uint8_t>(b.begin(), b.end())});  // raw
    return image;
  }
  auto need = [&](size_t at, size_t n, const std::string& what) {
    if (at + n > b.size() || at + n < at)
      throw Error("DRAM image " + origin + " is cut short in " + what + " (" +
                  std::to_string(b.size()) + " bytes)");
  };
  need(8, 16, "the header");
  uint64_t version = readLe(b, 8, 4);
  if (version != kVersion)
    throw Error("DRAM image " + origin + " has version " + std::to_string(version) +
                "; this kiln reads version " + std::to_string(kVersion));
  uint64_t count = readLe(b, 12, 4);
  image.size = readLe(b, 16, 8);
  size_t at = 24;
  for (uint64_t i = 0; i < count; ++i) {
    std::string what = "segment " + std::to_string(i);
    need(at, 16, what);
    DramSegment s;
    s.address = readLe(b, at, 8);
    uint64_t length = readLe(b, at + 8, 8);
    at += 16;
    need(at, length, what);
    s.bytes.assign(b.begin() + static_cast<ptrdiff_t>(at),
                   b.begin() + static_cast<ptrdiff_t>(at + length));
    at += length;
    image.segments.push_back(std::move(s));
  }
  if (at != b.size())
    throw Error("DRAM image " + origin + " has " + std::to_string(b.size() - at) +
                " bytes after its last segment");
  return image;
}

Expected<DramImage> readDramImage(const std::string& path) {
  return catchErrors([&] {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot read the DRAM image " + path);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    return parseDramImage(bytes, path);
  });
}

std::vector<uint8_t> serializeDramImage(const DramImage& image) {
  std::vector<uint8_t> out(kMagic, kMagic + 8);
  putLe(out, kVersion, 4);
  putLe(out, image.segments.size(), 4);
  putLe(out, image.size, 8);
  for (const DramSegment& s : image.segments) {
    putLe(out, s.address, 8);
    putLe(out, s.bytes.size(), 8);
    out.insert(out.end(), s.bytes.begin(), s.bytes.end());
  }
  return out;
}

void writeDramImage(const std::string& path, const DramImage& image) {
  std::vector<uint8_t> bytes = serializeDramImage(image);
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw Error("cannot write the DRAM image " + path);
}

}  // namespace kiln::sim
