// kiln_fifo (the command and token queues) against a std::deque: random pushes and pops,
// in the same cycle too, through full and empty, and clear.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <random>

#include "Vdut.h"

namespace {

TEST(Fifo, BehavesAsABoundedQueue) {
  auto ctx = std::make_unique<VerilatedContext>();
  auto dut = std::make_unique<Vdut>(ctx.get());
  const size_t depth = KILN_RTL_FIFO_DEPTH;
  auto tick = [&] {
    dut->clk_i = 0;
    dut->eval();
    dut->clk_i = 1;
    dut->eval();
  };
  dut->rst_ni = 0;
  tick();
  dut->rst_ni = 1;
  tick();

  std::deque<uint32_t> model;
  std::mt19937 rng(4);
  size_t fulls = 0, empties = 0;
  for (int cycle = 0; cycle < 20000; ++cycle) {
    // Phases of mostly pushing and mostly popping, so the queue fills and drains.
    bool filling = (cycle / 200) % 2 == 0;
    bool push = rng() % 4 < (filling ? 3u : 1u);
    bool pop = rng() % 4 < (filling ? 1u : 3u);
    bool clear = rng() % 5000 == 0;
    uint32_t data = rng() & 0xff;
    dut->in_valid_i = push;
    dut->in_data_i = data;
    dut->out_ready_i = pop;
    dut->clear_i = clear;
    dut->eval();
    ASSERT_EQ(dut->count_o, model.size()) << "cycle " << cycle;
    ASSERT_EQ(dut->in_ready_o != 0, model.size() < depth) << "cycle " << cycle;
    ASSERT_EQ(dut->out_valid_o != 0, !model.empty()) << "cycle " << cycle;
    if (!model.empty()) ASSERT_EQ(dut->out_data_o, model.front()) << "cycle " << cycle;
    fulls += model.size() == depth;
    empties += model.empty();
    bool did_pop = pop && !model.empty();
    bool did_push = push && model.size() < depth;
    if (did_pop) model.pop_front();
    if (did_push) model.push_back(data);
    if (clear) model.clear();
    tick();
  }
  EXPECT_GT(fulls, 100u) << "the queue was rarely full";
  EXPECT_GT(empties, 100u) << "the queue was rarely empty";
}

}  // namespace
