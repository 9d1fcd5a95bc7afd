// A dependency-token queue: tokens carry no data, so the queue is a counter of Depth at
// most. A push to a full queue and a pop from an empty one are refused (the modules wait
// on can_push_o and can_pop_o before they ask).
module kiln_token_queue #(
  parameter int unsigned Depth = kiln_accel_pkg::TOKEN_QUEUE_DEPTH,
  localparam int unsigned CntW = $clog2(Depth + 1)
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic            clear_i,  // drop every token (a new run)
  input  logic            push_i,
  input  logic            pop_i,
  output logic            can_push_o,
  output logic            can_pop_o
);
  logic [CntW-1:0] count_q, count_d;
  logic push, pop;

  assign can_push_o = count_q != CntW'(Depth);
  assign can_pop_o  = count_q != '0;
  assign push = push_i && can_push_o;
  assign pop  = pop_i && can_pop_o;

  always_comb begin
    count_d = count_q;
    if (push && !pop) count_d = count_q + CntW'(1);
    if (pop && !push) count_d = count_q - CntW'(1);
    if (clear_i) count_d = '0;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) count_q <= '0;
    else count_q <= count_d;
  end
endmodule
