// DRAM images (`kiln sim --dram`): segments survive a write and a read, a raw file is DRAM
// from address 0, and a damaged image is refused with a message saying what is wrong.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kiln/sim/dram_image.h"

namespace kiln::sim {
namespace {

TEST(DramImage, SegmentsRoundTripThroughAFile) {
  DramImage image;
  image.size = 4096;
  image.segments.push_back({16, {1, 2, 3}});
  image.segments.push_back({1000, {9, 8, 7, 6}});
  std::string path = (std::filesystem::temp_directory_path() /
                      ("kiln_dram_image_" + std::to_string(::getpid()) + ".img"))
                         .string();
  writeDramImage(path, image);
  Expected<DramImage> back = readDramImage(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(back.ok()) << back.message();
  EXPECT_EQ(back->size, 4096u);
  ASSERT_EQ(back->segments.size(), 2u);
  EXPECT_EQ(back->segments[1].address, 1000u);
  EXPECT_EQ(back->segments[1].bytes, (std::vector<uint8_t>{9, 8, 7, 6}));
  std::vector<uint8_t> dram(back->requiredBytes());
  back->applyTo(dram);
  EXPECT_EQ(dram[17], 2) << "segment 0 byte 1 lands at address 17";
  EXPECT_EQ(dram[1003], 6);
}

TEST(DramImage, AFileWithoutTheMagicIsRawDramFromAddressZero) {
  std::vector<uint8_t> raw = {5, 6, 7};
  DramImage image = parseDramImage(raw, "raw.bin");
  ASSERT_EQ(image.segments.size(), 1u);
  EXPECT_EQ(image.segments[0].address, 0u);
  EXPECT_EQ(image.requiredBytes(), 3u);
}

TEST(DramImage, DamagedImagesAreRefused) {
  DramImage image;
  image.segments.push_back({0, {1, 2, 3, 4}});
  std::vector<uint8_t> bytes = serializeDramImage(image);
  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 1);
  try {
    parseDramImage(cut, "cut.img");
    ADD_FAILURE() << "a cut-short image was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.img is cut short in segment 0"), std::string::npos)
        << e.what();
  }
  std::vector<uint8_t> small(2);
  try {
    image.applyTo(small);
    ADD_FAILURE() << "a segment past the end of DRAM was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln::sim
