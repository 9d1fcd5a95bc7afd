// DRAM images: what `kiln sim` loads into the accelerator's DRAM before a run and writes
// after it (see docs/cycle-model.md, "Memory images").
//
// An image is a file that starts with the 8 bytes "KILNDRAM", then little-endian u32 version
// (1), u32 segment count, u64 DRAM size in bytes (0: just large enough for the segments), and
// the segments, each u64 byte address, u64 length and that many bytes. A file that does not
// start with the magic is a raw image: its bytes from DRAM address 0.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kiln/runtime/error.h"

namespace kiln::sim {

struct DramSegment {
  uint64_t address = 0;
  std::vector<uint8_t> bytes;
};

struct DramImage {
  uint64_t size = 0;  // DRAM bytes; 0: the end of the last segment
  std::vector<DramSegment> segments;

  // The DRAM size the image asks for (at least the end of every segment).
  uint64_t requiredBytes() const;
  // Copies the segments into DRAM; throws kiln::Error if one does not fit.
  void applyTo(std::span<uint8_t> dram) const;
};

// Errors name the file and what is wrong with it.
Expected<DramImage> readDramImage(const std::string& path);
DramImage parseDramImage(std::span<const uint8_t> bytes, const std::string& origin);
std::vector<uint8_t> serializeDramImage(const DramImage& image);
// Throws kiln::Error when the file cannot be written.
void writeDramImage(const std::string& path, const DramImage& image);

}  // namespace kiln::sim
