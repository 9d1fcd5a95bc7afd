// The dependency-token protocol around one module's instructions (load, compute, store):
// before an instruction starts, pop one token from each queue its pop flags name, waiting
// while one is empty; after it completes, push one to each queue its push flags name,
// waiting while one is full. A flag naming a queue the module lacks (HasPrev, HasNext) is a
// TOKEN_FLAG fault.
//
// insn_valid_i is the head of the module's command queue; exec_start_o starts it (one
// cycle) and exec_done_i ends it; insn_done_o (one cycle) pops the command queue.
module kiln_insn_sync #(
  parameter bit HasPrev = 1'b1,
  parameter bit HasNext = 1'b1
) (
  input  logic clk_i,
  input  logic rst_ni,
  input  logic clear_i,        // a new run: forget the instruction (its engine is idle)
  input  logic halt_i,         // a fault somewhere: start nothing new
  input  logic insn_valid_i,
  input  logic pop_prev_i,
  input  logic pop_next_i,
  input  logic push_prev_i,
  input  logic push_next_i,
  // The token queues: the ones this module pops from and pushes to.
  input  logic prev_can_pop_i,
  input  logic next_can_pop_i,
  input  logic prev_can_push_i,
  input  logic next_can_push_i,
  output logic prev_pop_o,
  output logic next_pop_o,
  output logic prev_push_o,
  output logic next_push_o,
  // The instruction.
  output logic exec_start_o,
  input  logic exec_done_i,
  output logic insn_done_o,
  output logic flag_error_o,   // one cycle
  // Where the cycles go (performance counters).
  output logic stall_pop_prev_o,
  output logic stall_pop_next_o,
  output logic stall_push_o,
  output logic exec_busy_o
);
  typedef enum logic [1:0] {
    Idle = 2'd0,
    Exec = 2'd1,
    Push = 2'd2
  } state_e;
  state_e state_q, state_d;

  logic bad_flags, pops_ready, pushes_ready;
  assign bad_flags = (!HasPrev && (pop_prev_i || push_prev_i)) ||
                     (!HasNext && (pop_next_i || push_next_i));
  assign pops_ready = (!pop_prev_i || prev_can_pop_i) && (!pop_next_i || next_can_pop_i);
  assign pushes_ready = (!push_prev_i || prev_can_push_i) && (!push_next_i || next_can_push_i);

  always_comb begin
    state_d      = state_q;
    exec_start_o = 1'b0;
    insn_done_o  = 1'b0;
    flag_error_o = 1'b0;
    prev_pop_o   = 1'b0;
    next_pop_o   = 1'b0;
    prev_push_o  = 1'b0;
    next_push_o  = 1'b0;
    unique case (state_q)
      Idle: begin
        if (insn_valid_i && !halt_i) begin
          if (bad_flags) begin
            flag_error_o = 1'b1;
          end else if (pops_ready) begin
            prev_pop_o   = pop_prev_i;
            next_pop_o   = pop_next_i;
            exec_start_o = 1'b1;
            state_d      = Exec;
          end
        end
      end
      Exec: if (exec_done_i) state_d = Push;
      default: begin
        if (pushes_ready) begin
          prev_push_o = push_prev_i;
          next_push_o = push_next_i;
          insn_done_o = 1'b1;
          state_d     = Idle;
        end
      end
    endcase
    if (clear_i) state_d = Idle;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) state_q <= Idle;
    else state_q <= state_d;
  end

  assign stall_pop_prev_o = state_q == Idle && insn_valid_i && !halt_i && !bad_flags &&
                            pop_prev_i && !prev_can_pop_i;
  assign stall_pop_next_o = state_q == Idle && insn_valid_i && !halt_i && !bad_flags &&
                            pop_next_i && !next_can_pop_i;
  assign stall_push_o = state_q == Push && !pushes_ready;
  assign exec_busy_o  = state_q == Exec;
endmodule
