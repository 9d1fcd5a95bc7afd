// kiln_axil_regs, the AXI4-Lite register slave, against the spec's register map: the
// read-write registers with byte strobes, CONTROL's self-clearing START, STATUS fields,
// CONFIG_HASH and ISA_VERSION from the config, 64-bit counters read low word first (the
// high word latched), CLEAR_COUNTERS, and unmapped offsets reading zero.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "Vdut.h"
#include "kiln/accel/config.h"

namespace {

class Regs : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = kiln::accel::Config::builtin(KILN_RTL_CONFIG);
    ASSERT_TRUE(config.ok());
    config_ = std::make_unique<kiln::accel::Config>(std::move(*config));
    ctx_ = std::make_unique<VerilatedContext>();
    dut_ = std::make_unique<Vdut>(ctx_.get());
    dut_->rst_ni = 0;
    tick();
    dut_->rst_ni = 1;
    tick();
  }
  void tick() {
    dut_->clk_i = 0;
    dut_->eval();
    dut_->clk_i = 1;
    dut_->eval();
    if (dut_->start_o) ++starts_;
  }
  // The address and data arrive in different cycles, as an interconnect may send them.
  void write(uint32_t addr, uint32_t data, uint8_t strb = 0xf) {
    dut_->s_axil_awvalid_i = 1;
    dut_->s_axil_awaddr_i = addr;
    dut_->eval();
    ASSERT_TRUE(dut_->s_axil_awready_o);
    tick();
    dut_->s_axil_awvalid_i = 0;
    dut_->s_axil_wvalid_i = 1;
    dut_->s_axil_wdata_i = data;
    dut_->s_axil_wstrb_i = strb;
    dut_->eval();
    ASSERT_TRUE(dut_->s_axil_wready_o);
    tick();
    dut_->s_axil_wvalid_i = 0;
    dut_->s_axil_bready_i = 1;
    for (int n = 0; n < 10 && !dut_->s_axil_bvalid_o; ++n) tick();
    ASSERT_TRUE(dut_->s_axil_bvalid_o);
    EXPECT_EQ(dut_->s_axil_bresp_o, 0);
    tick();
    dut_->s_axil_bready_i = 0;
  }
  uint32_t read(uint32_t addr) {
    dut_->s_axil_arvalid_i = 1;
    dut_->s_axil_araddr_i = addr;
    dut_->eval();
    EXPECT_TRUE(dut_->s_axil_arready_o);
    tick();
    dut_->s_axil_arvalid_i = 0;
    dut_->s_axil_rready_i = 1;
    for (int n = 0; n < 10 && !dut_->s_axil_rvalid_o; ++n) tick();
    EXPECT_TRUE(dut_->s_axil_rvalid_o);
    EXPECT_EQ(dut_->s_axil_rresp_o, 0);
    uint32_t v = dut_->s_axil_rdata_o;
    tick();
    dut_->s_axil_rready_i = 0;
    return v;
  }
  void setInc(int counter, uint16_t inc) {
    int bit = counter * 16;
    auto& w = dut_->counter_inc_i[bit / 32];
    w = (w & ~(0xffffu << (bit % 32))) | (uint32_t{inc} << (bit % 32));
  }

  std::unique_ptr<kiln::accel::Config> config_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vdut> dut_;
  int starts_ = 0;
};

TEST_F(Regs, IdentityRegistersComeFromTheConfig) {
  EXPECT_EQ(read(0x024), config_->hash());
  EXPECT_EQ(read(0x028), static_cast<uint32_t>(config_->value("isa_version")));
  EXPECT_EQ(read(0x0c), 0u) << "an unmapped offset reads zero";
}

TEST_F(Regs, ReadWriteRegistersHonourStrobes) {
  const uint32_t offsets[] = {0x010, 0x014, 0x018, 0x01c, 0x020};
  for (uint32_t off : offsets) write(off, 0x11223344u + off);
  for (uint32_t off : offsets) EXPECT_EQ(read(off), 0x11223344u + off) << "offset " << off;
  write(0x018, 0xaabbccdd, 0b0101);
  EXPECT_EQ(read(0x018), 0x11bb33ddu);
  EXPECT_EQ(dut_->insn_count_o, read(0x018));
  EXPECT_EQ(dut_->insn_addr_o, (uint64_t{0x11223344u + 0x14} << 32) | (0x11223344u + 0x10));
  EXPECT_EQ(dut_->dram_base_o, (uint64_t{0x11223344u + 0x20} << 32) | (0x11223344u + 0x1c));
  write(0x024, 0);  // read-only: ignored
  EXPECT_EQ(read(0x024), config_->hash());
}

TEST_F(Regs, StartIsOneCyclePulseAndStatusHasItsFields) {
  write(0x000, 1);
  EXPECT_EQ(starts_, 1);
  EXPECT_EQ(read(0x000), 0u) << "CONTROL's bits clear themselves";
  dut_->done_i = 1;
  dut_->busy_i = 0;
  dut_->error_i = 1;
  dut_->error_code_i = 5;
  dut_->error_insn_i = 1234;
  EXPECT_EQ(read(0x004), 0x0505u);
  EXPECT_EQ(read(0x008), 1234u);
  dut_->busy_i = 1;
  dut_->done_i = 0;
  dut_->error_i = 0;
  dut_->error_code_i = 0;
  EXPECT_EQ(read(0x004), 0x2u);
}

TEST_F(Regs, CountersReadLowThenLatchedHighAndClear) {
  // Counter 3 counts 0xffff a cycle: its low word overflows within a few 10^5 cycles.
  setInc(3, 0xffff);
  setInc(26, 1);
  for (int i = 0; i < 200000; ++i) tick();
  setInc(3, 0);
  setInc(26, 0);
  uint32_t lo = read(0x100 + 8 * 3);
  for (int i = 0; i < 5; ++i) tick();
  uint32_t hi = read(0x100 + 8 * 3 + 4);
  uint64_t v = (uint64_t{hi} << 32) | lo;
  EXPECT_GT(hi, 0u);
  EXPECT_EQ(v % 0xffff, 0u);
  EXPECT_GE(v / 0xffff, 200000u);
  uint32_t lo26 = read(0x100 + 8 * 26);
  EXPECT_GE(lo26, 200000u);
  EXPECT_EQ(read(0x100 + 8 * 26 + 4), 0u);
  write(0x000, 2);  // CLEAR_COUNTERS
  EXPECT_EQ(starts_, 0);
  EXPECT_EQ(read(0x100 + 8 * 3), 0u);
  EXPECT_EQ(read(0x100 + 8 * 3 + 4), 0u);
}

}  // namespace
