// The sim-rtl back end for one Verilated model class (see kiln/sim/rtl_backend.h).
#pragma once

#include <verilated.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kiln/sim/rtl_backend.h"
#include "kiln/sim/verilator_ports.h"

namespace kiln::sim {

template <typename Model>
class RtlBackend : public driver::Backend {
 public:
  RtlBackend(const accel::Config& config, size_t dramBytes, RtlOptions options)
      : config_(config),
        options_(options),
        beat_(static_cast<size_t>(config.value("axi_width") / 8)),
        dram_(dramBytes) {
    construct();
  }
  ~RtlBackend() override { model_->final(); }

  std::string name() const override { return "sim-rtl (" + config_.name() + ")"; }

  uint32_t readReg(uint32_t offset) override {
    model_->s_axil_arvalid_i = 1;
    model_->s_axil_araddr_i = offset;
    model_->s_axil_rready_i = 1;
    uint32_t v = 0;
    for (int n = 0; n < 1000; ++n) {
      model_->clk_i = 0;
      model_->eval();
      const bool ar = model_->s_axil_arvalid_i && model_->s_axil_arready_o;
      const bool r = model_->s_axil_rvalid_o;
      v = model_->s_axil_rdata_o;
      tick();
      if (ar) model_->s_axil_arvalid_i = 0;
      if (r) break;
    }
    model_->s_axil_rready_i = 0;
    return v;
  }

  void writeReg(uint32_t offset, uint32_t value) override {
    model_->s_axil_awvalid_i = 1;
    model_->s_axil_awaddr_i = offset;
    model_->s_axil_wvalid_i = 1;
    model_->s_axil_wdata_i = value;
    model_->s_axil_wstrb_i = 0xf;
    model_->s_axil_bready_i = 1;
    bool aw = false, w = false;
    for (int n = 0; n < 1000; ++n) {
      model_->clk_i = 0;
      model_->eval();
      const bool awNow = model_->s_axil_awvalid_i && model_->s_axil_awready_o;
      const bool wNow = model_->s_axil_wvalid_i && model_->s_axil_wready_o;
      const bool b = model_->s_axil_bvalid_o;
      tick();
      aw |= awNow;
      w |= wNow;
      if (aw) model_->s_axil_awvalid_i = 0;
      if (w) model_->s_axil_wvalid_i = 0;
      if (b) break;
    }
    model_->s_axil_bready_i = 0;
  }

  driver::DmaBuffer allocate(size_t bytes, size_t alignment) override {
    size_t offset = (next_ + alignment - 1) / alignment * alignment;
    if (offset + bytes > dram_.size())
      throw Error(name() + ": out of simulated DRAM (" + std::to_string(dram_.size() >> 20) +
                  " MiB)");
    next_ = offset + bytes;
    ++live_;
    return {dram_.data() + offset, offset, bytes};
  }
  void release(const driver::DmaBuffer&) override {
    if (--live_ == 0) next_ = 0;
  }

  void wait(std::chrono::microseconds) override {
    for (uint64_t i = 0; i < options_.cyclesPerWait; ++i) tick();
  }

  void reset() override {
    model_->final();
    reads_.clear();
    writes_.clear();
    bresps_.clear();
    construct();
  }

  uint64_t cycles() const { return cycles_; }

 private:
  struct Burst {
    uint32_t id;
    uint64_t addr;
    uint32_t len;  // beats - 1
    uint32_t beat;
    bool err;
    uint64_t due;  // the cycle its first read beat may come
  };

  void construct() {
    context_ = std::make_unique<VerilatedContext>();
    model_ = std::make_unique<Model>(context_.get());
    model_->rst_ni = 0;
    tick();
    tick();
    model_->rst_ni = 1;
    tick();
  }

  void tick() {
    Model& m = *model_;
    m.clk_i = 0;
    m.m_axi_rvalid_i = 0;
    std::vector<uint8_t> beat(beat_);
    if (!reads_.empty() && reads_.front().due <= cycles_) {
      Burst& b = reads_.front();
      const uint64_t addr = b.addr + uint64_t{b.beat} * beat_;
      const bool ok = addr + beat_ <= dram_.size();
      if (ok) std::memcpy(beat.data(), &dram_[addr], beat_);
      setBytes(m.m_axi_rdata_i, std::span<const uint8_t>(beat));
      m.m_axi_rvalid_i = 1;
      m.m_axi_rid_i = b.id;
      m.m_axi_rresp_i = ok ? 0 : 2;
      m.m_axi_rlast_i = b.beat == b.len;
    }
    m.m_axi_arready_i = 1;
    m.m_axi_awready_i = 1;
    m.m_axi_wready_i = !writes_.empty();
    m.m_axi_bvalid_i = !bresps_.empty() && bresps_.front().second <= cycles_;
    m.m_axi_bresp_i = !bresps_.empty() && bresps_.front().first ? 2 : 0;
    m.m_axi_bid_i = 0;
    m.eval();
    const bool ar = m.m_axi_arvalid_o && m.m_axi_arready_i;
    const bool r = m.m_axi_rvalid_i && m.m_axi_rready_o;
    const bool aw = m.m_axi_awvalid_o && m.m_axi_awready_i;
    const bool w = m.m_axi_wvalid_o && m.m_axi_wready_i;
    const bool bh = m.m_axi_bvalid_i && m.m_axi_bready_o;
    Burst arBurst{m.m_axi_arid_o,  m.m_axi_araddr_o,
                  m.m_axi_arlen_o, 0,
                  false,           cycles_ + static_cast<uint64_t>(options_.dramLatency)};
    Burst awBurst{0, m.m_axi_awaddr_o, m.m_axi_awlen_o, 0, false, 0};
    const std::vector<uint8_t> wdata = getBytes(m.m_axi_wdata_o, beat_);
    m.clk_i = 1;
    m.eval();
    ++cycles_;
    if (ar) reads_.push_back(arBurst);
    if (r && ++reads_.front().beat > reads_.front().len) reads_.pop_front();
    if (aw) writes_.push_back(awBurst);
    if (w) {
      Burst& b = writes_.front();
      const uint64_t addr = b.addr + uint64_t{b.beat} * beat_;
      if (addr + beat_ <= dram_.size())
        std::memcpy(&dram_[addr], wdata.data(), beat_);
      else
        b.err = true;
      if (++b.beat > b.len) {
        // The write response comes dramLatency cycles after the last beat.
        bresps_.push_back(
            {b.err, cycles_ - 1 + static_cast<uint64_t>(std::max(options_.dramLatency, 1))});
        writes_.pop_front();
      }
    }
    if (bh) bresps_.pop_front();
  }

  accel::Config config_;
  RtlOptions options_;
  size_t beat_;
  std::vector<uint8_t> dram_;
  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Model> model_;
  std::deque<Burst> reads_, writes_;
  std::deque<std::pair<bool, uint64_t>> bresps_;  // error, the cycle it may come
  uint64_t cycles_ = 0;
  size_t next_ = 0;
  int live_ = 0;
};

}  // namespace kiln::sim
