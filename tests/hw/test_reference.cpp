// The bit-exact reference, instruction by instruction: strided and padded loads of every
// memory type, GEMM tiles (hand-written and randomized on every config), every ALU
// operation with its edge cases, requantization rounding and saturation, and strided
// stores. Expected values are computed here, independently of the library.
#include <gtest/gtest.h>

#include <climits>
#include <random>
#include <string>

#include "accel_test_util.h"
#include "kiln/accel/reference.h"

namespace kiln::accel {
namespace {

using test::assembly;
using test::builtinConfig;
using test::putBytes;
using test::putInt32s;
using test::putUops;
using test::runOk;

// The small config: 1x4x4 core, 4-byte input tiles, 16-byte weight tiles, 16-byte
// accumulator tiles (4 x int32), 4-byte output tiles and micro-ops.
class SmallMachine : public ::testing::Test {
 protected:
  Config config = builtinConfig("small");
  Machine m{config, 64 * 1024};
};

TEST_F(SmallMachine, LoadWithStrideAndPaddingPlacesEveryTile) {
  // DRAM input tile e holds bytes 4e .. 4e+3.
  for (int e = 0; e < 16; ++e)
    putBytes(m, 4 * e, {int8_t(4 * e), int8_t(4 * e + 1), int8_t(4 * e + 2), int8_t(4 * e + 3)});
  std::fill(m.inp().begin(), m.inp().end(), int8_t{0x55});
  RunStats stats = runOk(m, assembly(config, R"(
    LOAD memory_type=inp sram_base=3 dram_base=1 y_size=2 x_size=3 x_stride=5 y_pad_0=1 y_pad_1=2 x_pad_0=2 x_pad_1=1 push_next
    GEMM pop_prev
    FINISH
  )"));
  // 5 rows (1 + 2 + 2) of 6 entries (2 + 3 + 1) from entry 3.
  for (int entry = 0; entry < 40; ++entry) {
    for (int i = 0; i < 4; ++i) {
      int expected = 0x55;
      if (entry >= 3 && entry < 3 + 5 * 6) {
        int r = (entry - 3) / 6, c = (entry - 3) % 6;
        bool data = r >= 1 && r < 3 && c >= 2 && c < 5;
        expected = data ? 4 * (1 + (r - 1) * 5 + (c - 2)) + i : 0;
      }
      ASSERT_EQ(m.inp()[entry * 4 + i], expected) << "inp entry " << entry << " byte " << i;
    }
  }
  EXPECT_EQ(stats.of(Module::kLoad).insns, 1u);
  EXPECT_EQ(stats.of(Module::kLoad).dma_read_bytes, 2u * 3u * 4u) << "padding is not read";
  EXPECT_EQ(stats.of(Module::kCompute).insns, 2u);
  EXPECT_EQ(stats.of(Module::kFetch).dma_read_bytes, 3u * 16u);
}

TEST_F(SmallMachine, AccumulatorLoadsWidenAndFillTheOutputTiles) {
  putInt32s(m, 0, {INT32_MIN, -1, 0x12345678, 200});
  putBytes(m, 1024, {-128, -1, 127, 5, 9, 8, 7, 6});
  runOk(m, assembly(config, R"(
    LOAD memory_type=acc sram_base=10 dram_base=0 y_size=1 x_size=1 x_stride=1 x_pad_1=1
    LOAD memory_type=acc8 sram_base=20 dram_base=256 y_size=1 x_size=2 x_stride=2
    FINISH
  )"));
  auto acc = [&](int entry, int e) { return m.acc()[entry * 4 + e]; };
  auto out = [&](int entry, int e) { return m.out()[entry * 4 + e]; };
  EXPECT_EQ(acc(10, 0), INT32_MIN);
  EXPECT_EQ(acc(10, 2), 0x12345678);
  EXPECT_EQ(out(10, 2), 0x78) << "out holds the low byte of each accumulator";
  EXPECT_EQ(out(10, 3), -56) << "200's low byte, as int8";
  EXPECT_EQ(acc(11, 1), 0) << "x_pad_1 writes a zero tile";
  EXPECT_EQ(acc(20, 0), -128) << "acc8 sign-extends";
  EXPECT_EQ(acc(20, 2), 127);
  EXPECT_EQ(acc(21, 0), 9);
  EXPECT_EQ(out(21, 3), 6);
}

TEST_F(SmallMachine, MicroOpAndWeightLoads) {
  putUops(m, 4, {{.acc_idx = 1, .inp_idx = 2, .wgt_idx = 3}, {.acc_idx = 255, .wgt_idx = 63}});
  std::vector<int8_t> w(16);
  for (int i = 0; i < 16; ++i) w[i] = static_cast<int8_t>(-i);
  putBytes(m, 16 * 100, w);
  runOk(m, assembly(config, R"(
    LOAD memory_type=uop sram_base=7 dram_base=4 y_size=1 x_size=2 x_stride=2
    LOAD memory_type=wgt sram_base=63 dram_base=100 y_size=1 x_size=1 x_stride=1 push_next
    GEMM pop_prev
    FINISH
  )"));
  EXPECT_EQ(m.uops()[7], (Uop{.acc_idx = 1, .inp_idx = 2, .wgt_idx = 3}));
  EXPECT_EQ(m.uops()[8], (Uop{.acc_idx = 255, .wgt_idx = 63}));
  EXPECT_EQ(m.wgt()[63 * 16 + 15], -15);
}

// C[m][n] = bias[m][n] + sum_k A[m][k] * W[n][k] for a 2 x 8 x 8 problem tiled 2 x 2 x 2,
// with the micro-ops covering k and the two loops covering m and n.
TEST_F(SmallMachine, GemmTileAccumulatesOverMicroOpsAndLoops) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> byte(-128, 127);
  int8_t A[2][8], W[8][8];
  int32_t bias[2][8];
  for (auto& row : A)
    for (auto& v : row) v = static_cast<int8_t>(byte(rng));
  for (auto& row : W)
    for (auto& v : row) v = static_cast<int8_t>(byte(rng));
  for (auto& row : bias)
    for (auto& v : row) v = byte(rng) * 1000;
  bias[1][7] = INT32_MAX - 10;  // this one wraps if its dot product is positive
  for (int k = 0; k < 8; ++k) A[1][k] = W[7][k] = 100;
  // inp tile (m, kt) at element 2m + kt; wgt tile (n, kt) at 2n + kt; acc (m, n) at 2m + n.
  for (int mm = 0; mm < 2; ++mm)
    for (int kt = 0; kt < 2; ++kt)
      putBytes(m, 4 * (2 * mm + kt), std::vector<int8_t>(&A[mm][4 * kt], &A[mm][4 * kt + 4]));
  for (int n = 0; n < 2; ++n)
    for (int kt = 0; kt < 2; ++kt) {
      std::vector<int8_t> tile;
      for (int o = 0; o < 4; ++o)
        for (int i = 0; i < 4; ++i) tile.push_back(W[4 * n + o][4 * kt + i]);
      putBytes(m, 1024 + 16 * (2 * n + kt), tile);
    }
  std::vector<int32_t> b;
  for (auto& row : bias) b.insert(b.end(), row, row + 8);
  putInt32s(m, 4096, b);
  putUops(m, 2048 / 4,
          {{.acc_idx = 0, .inp_idx = 0, .wgt_idx = 0}, {.acc_idx = 0, .inp_idx = 1, .wgt_idx = 1}});
  RunStats stats = runOk(m, assembly(config, R"(
    LOAD memory_type=inp sram_base=0 dram_base=0 y_size=1 x_size=4 x_stride=4
    LOAD memory_type=wgt sram_base=0 dram_base=64 y_size=1 x_size=4 x_stride=4 push_next
    LOAD memory_type=uop sram_base=0 dram_base=512 y_size=1 x_size=2 x_stride=2
    LOAD memory_type=acc sram_base=0 dram_base=256 y_size=1 x_size=4 x_stride=4
    GEMM pop_prev uop_begin=0 uop_end=2 iter_out=2 iter_in=2 acc_factor_out=2 acc_factor_in=1 inp_factor_out=2 wgt_factor_in=2 push_next
    STORE memory_type=out sram_base=0 dram_base=3000 y_size=2 x_size=2 x_stride=2 pop_prev push_prev
    FINISH pop_next
  )"));
  for (int mm = 0; mm < 2; ++mm) {
    for (int n = 0; n < 8; ++n) {
      uint32_t sum = static_cast<uint32_t>(bias[mm][n]);
      for (int k = 0; k < 8; ++k) sum += static_cast<uint32_t>(A[mm][k] * W[n][k]);
      int32_t expected = static_cast<int32_t>(sum);
      int entry = 2 * mm + n / 4;
      ASSERT_EQ(m.acc()[entry * 4 + n % 4], expected) << "C[" << mm << "][" << n << "]";
      ASSERT_EQ(static_cast<int8_t>(m.dram()[3000 * 4 + entry * 4 + n % 4]),
                static_cast<int8_t>(expected))
          << "stored C[" << mm << "][" << n << "]";
    }
  }
  EXPECT_LT(m.acc()[3 * 4 + 3], 0) << "INT32_MAX - 10 + 80000 wraps";
  EXPECT_EQ(stats.gemm_uops, 2u * 2u * 2u);
  EXPECT_EQ(stats.of(Module::kCompute).dma_read_bytes, 2u * 4u + 4u * 16u);
  EXPECT_EQ(stats.of(Module::kStore).dma_write_bytes, 4u * 4u);
}

TEST_F(SmallMachine, ResetZeroesTheAddressedTilesOnly) {
  std::fill(m.acc().begin(), m.acc().end(), 77);
  std::fill(m.out().begin(), m.out().end(), int8_t{77});
  putUops(m, 0, {{.acc_idx = 5}});
  runOk(m, assembly(config, R"(
    LOAD memory_type=uop sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1
    GEMM reset uop_begin=0 uop_end=1 iter_out=2 iter_in=1 acc_factor_out=3
    ALU reset alu_op=ADD uop_begin=0 uop_end=1 iter_out=1 iter_in=1 acc_factor_out=0
    FINISH
  )"));
  // GEMM resets entries 5 and 8, ALU entry 5 again.
  for (int entry = 0; entry < 12; ++entry) {
    int expected = entry == 5 || entry == 8 ? 0 : 77;
    EXPECT_EQ(m.acc()[entry * 4 + 1], expected) << "acc entry " << entry;
    EXPECT_EQ(m.out()[entry * 4 + 1], expected) << "out entry " << entry;
  }
}

// Runs one ALU micro-op on dst (acc 0), src (acc 1) and aux (acc 2) and returns acc 0.
std::vector<int32_t> aluOnce(const std::string& op_fields, const std::vector<int32_t>& dst,
                             const std::vector<int32_t>& src, const std::vector<int32_t>& aux) {
  Config config = builtinConfig("small");
  Machine m(config, 4096);
  std::vector<int32_t> tiles = dst;
  tiles.insert(tiles.end(), src.begin(), src.end());
  tiles.insert(tiles.end(), aux.begin(), aux.end());
  putInt32s(m, 0, tiles);
  putUops(m, 256, {{.acc_idx = 0, .inp_idx = 1, .wgt_idx = 2}});
  runOk(m, assembly(config,
                    "LOAD memory_type=acc sram_base=0 dram_base=0 y_size=1 x_size=3 "
                    "x_stride=3\n"
                    "LOAD memory_type=uop sram_base=0 dram_base=256 y_size=1 x_size=1 "
                    "x_stride=1\n"
                    "ALU uop_begin=0 uop_end=1 iter_out=1 iter_in=1 " +
                        op_fields + "\nFINISH\n"));
  for (int e = 0; e < 4; ++e)
    EXPECT_EQ(m.out()[e], static_cast<int8_t>(m.acc()[e])) << "out follows acc";
  return std::vector<int32_t>(m.acc().begin(), m.acc().begin() + 4);
}

using V = std::vector<int32_t>;

TEST(Alu, MinMaxAddMulWithTilesAndImmediates) {
  V dst = {5, -7, INT32_MAX, INT32_MIN}, src = {3, -9, 1, -1}, none = {0, 0, 0, 0};
  EXPECT_EQ(aluOnce("alu_op=MIN", dst, src, none), (V{3, -9, 1, INT32_MIN}));
  EXPECT_EQ(aluOnce("alu_op=MAX", dst, src, none), (V{5, -7, INT32_MAX, -1}));
  EXPECT_EQ(aluOnce("alu_op=MAX use_imm imm=0", dst, src, none), (V{5, 0, INT32_MAX, 0})) << "ReLU";
  EXPECT_EQ(aluOnce("alu_op=MIN use_imm imm=-6", dst, src, none), (V{-6, -7, -6, INT32_MIN}));
  EXPECT_EQ(aluOnce("alu_op=ADD", dst, src, none), (V{8, -16, INT32_MIN, INT32_MAX}))
      << "addition wraps";
  EXPECT_EQ(aluOnce("alu_op=ADD use_imm imm=-32768", dst, src, none),
            (V{-32763, -32775, INT32_MAX - 32768, INT32_MAX - 32767}));
  EXPECT_EQ(aluOnce("alu_op=MUL", V{65536, -3, INT32_MIN, 46341}, V{65536, 7, -1, 46341}, none),
            (V{0, -21, INT32_MIN, static_cast<int32_t>(2147488281u)}))
      << "multiplication keeps the low 32 bits";
  EXPECT_EQ(aluOnce("alu_op=MUL use_imm imm=-2", dst, src, none), (V{-10, 14, 2, 0}))
      << "INT32_MAX x -2 wraps to 2, INT32_MIN x -2 to 0";
}

TEST(Alu, ShiftRightTakesASignedSixBitAmount) {
  V none = {0, 0, 0, 0};
  EXPECT_EQ(aluOnce("alu_op=SHR", V{-7, 1024, INT32_MIN, 3}, V{1, 3, 31, -2}, none),
            (V{-4, 128, -1, 12}))
      << "arithmetic right shift floors; a negative amount shifts left";
  EXPECT_EQ(aluOnce("alu_op=SHR", V{0x40000000, 5, 5, -1}, V{-1, -32, 64, 63}, none),
            (V{INT32_MIN, 0, 5, -2}))
      << "-32 shifts everything out, 64 is 0 and 63 is -1 in six bits";
  EXPECT_EQ(aluOnce("alu_op=SHR use_imm imm=2", V{-7, 7, 100, -100}, none, none),
            (V{-2, 1, 25, -25}));
}

TEST(Alu, MultiplyAccumulateForDepthwise) {
  V dst = {10, -10, INT32_MAX, 0}, src = {3, -4, 1, 7}, aux = {5, 6, 1, -8};
  EXPECT_EQ(aluOnce("alu_op=MAC", dst, src, aux), (V{25, -34, INT32_MIN, -56}));
  EXPECT_EQ(aluOnce("alu_op=MAC use_imm imm=-3", dst, src, aux), (V{1, 2, INT32_MAX - 3, -21}));
}

TEST(Requantize, RoundsToNearestTiesUpAndSaturates) {
  const int32_t half = 1 << 30;  // 0.5 in Q31
  EXPECT_EQ(requantize(3, half, 31, 8), 2) << "1.5 rounds up";
  EXPECT_EQ(requantize(-3, half, 31, 8), -1) << "-1.5 rounds towards +infinity";
  EXPECT_EQ(requantize(5, half, 31, 8), 3) << "2.5 rounds up";
  EXPECT_EQ(requantize(-5, half, 31, 8), -2) << "-2.5 rounds towards +infinity";
  EXPECT_EQ(requantize(-7, half, 31, 8), -3) << "-3.5 rounds towards +infinity";
  EXPECT_EQ(requantize(7, -half, 31, 8), -3) << "a negative multiplier";
  EXPECT_EQ(requantize(9, 0x55555555, 31, 8), 6) << "9 x 2/3 = 6 exactly less a hair";
  EXPECT_EQ(requantize(1000, half, 31, 8), 127);
  EXPECT_EQ(requantize(-1000, half, 31, 8), -128);
  EXPECT_EQ(requantize(255, 1, 1, 8), 127) << "127.5 rounds to 128, which saturates";
  EXPECT_EQ(requantize(-257, 1, 1, 8), -128) << "-128.5 rounds to -128";
  EXPECT_EQ(requantize(-259, 1, 1, 8), -128) << "-129.5 rounds to -129, which saturates";
  EXPECT_EQ(requantize(100, 1, 0, 8), 100) << "a zero shift does not round";
  EXPECT_EQ(requantize(100, 2, 0, 8), 127);
  EXPECT_EQ(requantize(INT32_MIN, INT32_MIN, 63, 8), 1) << "2^62 / 2^63 = 0.5 rounds up";
  EXPECT_EQ(requantize(INT32_MAX, INT32_MAX, 62, 8), 1);
  EXPECT_EQ(requantize(INT32_MIN, INT32_MAX, 62, 8), -1);
  EXPECT_EQ(requantize(INT32_MIN, INT32_MIN, 0, 8), 127) << "the largest product saturates";
}

TEST(Alu, RequantizePerChannelFromTilesAndWithAnImmediateShift) {
  const int32_t half = 1 << 30;
  // Per channel: multiplier in src, shift in aux.
  EXPECT_EQ(
      aluOnce("alu_op=REQUANT", V{3, -3, 1000, 255}, V{half, half, half, 1}, V{31, 31, 31, 1}),
      (V{2, -1, 127, 127}));
  // The shift operand is its low six bits: 64 + 31 acts as 31.
  EXPECT_EQ(aluOnce("alu_op=REQUANT", V{5, 5, 5, 5}, V{half, half, half, half}, V{31, 95, 30, 32}),
            (V{3, 3, 5, 1}));
  // One shift for every channel from imm; multipliers still per channel.
  EXPECT_EQ(
      aluOnce("alu_op=REQUANT use_imm imm=4", V{40, 40, -40, 8}, V{1, 2, 1, 1}, V{0, 0, 0, 0}),
      (V{3, 5, -2, 1}));  // 2.5 -> 3, 5, -2.5 -> -2, 0.5 -> 1
}

// ALU loops: dst and src move with their factors, aux stays; src may alias dst.
TEST_F(SmallMachine, AluLoopsAddressDstSrcAndAux) {
  std::vector<int32_t> values;
  for (int entry = 0; entry < 40; ++entry)
    for (int e = 0; e < 4; ++e) values.push_back(entry * 10 + e);
  putInt32s(m, 0, values);
  putUops(m, 1000, {{.acc_idx = 0, .inp_idx = 20, .wgt_idx = 39}, {.acc_idx = 30, .inp_idx = 30}});
  runOk(m, assembly(config, R"(
    LOAD memory_type=acc sram_base=0 dram_base=0 y_size=1 x_size=40 x_stride=40
    LOAD memory_type=uop sram_base=0 dram_base=1000 y_size=1 x_size=2 x_stride=2
    ALU alu_op=MAC uop_begin=0 uop_end=1 iter_out=2 iter_in=3 acc_factor_out=4 acc_factor_in=1 inp_factor_out=10 inp_factor_in=2
    ALU alu_op=ADD uop_begin=1 uop_end=2 iter_out=1 iter_in=1
    FINISH
  )"));
  for (int i0 = 0; i0 < 2; ++i0) {
    for (int i1 = 0; i1 < 3; ++i1) {
      int d = i0 * 4 + i1, s = 20 + i0 * 10 + i1 * 2;
      for (int e = 0; e < 4; ++e) {
        int32_t expected = (d * 10 + e) + (s * 10 + e) * (39 * 10 + e);
        ASSERT_EQ(m.acc()[d * 4 + e], expected) << "dst " << d << " element " << e;
      }
    }
  }
  EXPECT_EQ(m.acc()[3 * 4], 30) << "entry 3 is not a destination";
  EXPECT_EQ(m.acc()[30 * 4 + 2], 2 * 302) << "src aliasing dst doubles it";
}

TEST_F(SmallMachine, StoreWritesStridedRowsAndNothingElse) {
  for (int entry = 0; entry < 6; ++entry)
    for (int e = 0; e < 4; ++e) m.out()[entry * 4 + e] = static_cast<int8_t>(entry * 16 + e);
  std::fill(m.dram().begin(), m.dram().end(), uint8_t{0xee});
  RunStats stats = runOk(m, assembly(config, R"(
    STORE memory_type=out sram_base=0 dram_base=100 y_size=2 x_size=3 x_stride=5 push_prev
    FINISH pop_next
  )"));
  for (int element = 95; element < 112; ++element) {
    int y = (element - 100) / 5, x = (element - 100) % 5;
    bool written = element >= 100 && y < 2 && x < 3;
    for (int b = 0; b < 4; ++b) {
      int expected = written ? (y * 3 + x) * 16 + b : 0xee;
      ASSERT_EQ(m.dram()[element * 4 + b], expected) << "DRAM element " << element;
    }
  }
  EXPECT_EQ(stats.of(Module::kStore).dma_write_bytes, 24u);
}

TEST_F(SmallMachine, BinaryStreamsRunLikeDecodedOnes) {
  std::vector<Insn> stream = assembly(config, R"(
    LOAD memory_type=acc8 sram_base=0 dram_base=0 y_size=1 x_size=1 x_stride=1
    FINISH
  )");
  putBytes(m, 0, {-5, 6, -7, 8});
  std::vector<uint8_t> bytes = encodeStream(config.layout(), stream);
  Expected<RunStats> r = m.run(std::span<const uint8_t>(bytes));
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(m.acc()[2], -7);
  bytes[16] = 7;  // FINISH becomes opcode 7
  r = m.run(std::span<const uint8_t>(bytes));
  EXPECT_EQ(r.message(), "instruction 1: unknown opcode 7");
  ASSERT_TRUE(m.fault().has_value());
  EXPECT_EQ(m.fault()->insn, 1u);
  EXPECT_EQ(m.fault()->errorCode(), "BAD_INSN");
}

// Matrix products of random sizes and data on every config, tiled as a compiler would:
// micro-ops over the reduction, the outer loop over rows, the inner over output tiles.
TEST(Gemm, RandomTiledProductsMatchAPlainMatmulOnEveryConfig) {
  for (const std::string& name : test::allConfigs()) {
    Config config = builtinConfig(name);
    const Params& p = config.params();
    ASSERT_EQ(p.batch, 1) << "the test tiles rows one per input tile";
    std::mt19937 rng(99);
    for (int trial = 0; trial < 3; ++trial) {
      const int M = 1 + rng() % 5, NT = 1 + rng() % 3, KT = 1 + rng() % 3;
      const int bi = p.block_in, bo = p.block_out, N = NT * bo, K = KT * bi;
      std::uniform_int_distribution<int> byte(-128, 127);
      std::vector<int8_t> A(M * K), W(N * K);
      for (auto& v : A) v = static_cast<int8_t>(byte(rng));
      for (auto& v : W) v = static_cast<int8_t>(byte(rng));
      Machine m(config, 1 << 20);
      // DRAM: A row-major as input tiles (m, kt) at element m*KT + kt; W as weight tiles
      // (n, kt) at element n*KT + kt, each tile o-major; the micro-ops after them.
      const size_t w_base = 256 * 1024;
      putBytes(m, 0, A);
      for (int n = 0; n < NT; ++n)
        for (int kt = 0; kt < KT; ++kt) {
          std::vector<int8_t> tile;
          for (int o = 0; o < bo; ++o)
            for (int i = 0; i < bi; ++i) tile.push_back(W[(n * bo + o) * K + kt * bi + i]);
          putBytes(m, w_base + config.elementBytes(MemType::kWgt) * (n * KT + kt), tile);
        }
      std::vector<Uop> uops;
      for (int kt = 0; kt < KT; ++kt)
        uops.push_back({.acc_idx = 0,
                        .inp_idx = static_cast<uint32_t>(kt),
                        .wgt_idx = static_cast<uint32_t>(kt)});
      putUops(m, 1024, uops);
      std::string text =
          "LOAD memory_type=inp sram_base=0 dram_base=0 y_size=" + std::to_string(M) +
          " x_size=" + std::to_string(KT) + " x_stride=" + std::to_string(KT) + "\n" +
          "LOAD memory_type=wgt sram_base=0 dram_base=" +
          std::to_string(w_base / config.elementBytes(MemType::kWgt)) +
          " y_size=1 x_size=" + std::to_string(NT * KT) + " x_stride=1 push_next\n" +
          "LOAD memory_type=uop sram_base=0 dram_base=1024 y_size=1 x_size=" + std::to_string(KT) +
          " x_stride=1\n" + "GEMM reset uop_begin=0 uop_end=1 iter_out=" + std::to_string(M) +
          " iter_in=" + std::to_string(NT) + " acc_factor_out=" + std::to_string(NT) +
          " acc_factor_in=1\n" + "GEMM pop_prev uop_begin=0 uop_end=" + std::to_string(KT) +
          " iter_out=" + std::to_string(M) + " iter_in=" + std::to_string(NT) +
          " acc_factor_out=" + std::to_string(NT) +
          " acc_factor_in=1 inp_factor_out=" + std::to_string(KT) +
          " wgt_factor_in=" + std::to_string(KT) + "\nFINISH\n";
      RunStats stats = runOk(m, assembly(config, text));
      for (int r = 0; r < M; ++r)
        for (int n = 0; n < N; ++n) {
          int32_t expected = 0;
          for (int k = 0; k < K; ++k) expected += A[r * K + k] * W[n * K + k];
          ASSERT_EQ(m.acc()[(r * NT + n / bo) * bo + n % bo], expected)
              << name << " trial " << trial << ": C[" << r << "][" << n << "] of a " << M << "x"
              << K << " by " << K << "x" << N << " product";
        }
      EXPECT_EQ(stats.gemm_uops, static_cast<uint64_t>(M * NT + M * NT * KT)) << name;
    }
  }
}

}  // namespace
}  // namespace kiln::accel
