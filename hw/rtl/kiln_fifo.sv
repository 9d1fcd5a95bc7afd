// A synchronous FIFO with valid/ready on both sides: the command queues (instructions from
// fetch to load, compute and store) and the dependency-token queues (Width = 1).
//
// The storage is an array indexed by wrapping pointers; deep, wide queues become
// distributed or block RAM. Full and empty come from registered pointers, so a push and a
// pop may happen in the same cycle (a full queue accepts a push only after a pop). Depth
// must be a power of two (as the spec requires of every queue depth).
module kiln_fifo #(
  parameter int unsigned Width = 8,
  parameter int unsigned Depth = 4,
  localparam int unsigned PtrW = $clog2(Depth),
  localparam int unsigned CntW = $clog2(Depth + 1)
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic            clear_i,     // drop every entry (a new run)
  input  logic            in_valid_i,
  output logic            in_ready_o,
  input  logic [Width-1:0] in_data_i,
  output logic            out_valid_o,
  input  logic            out_ready_i,
  output logic [Width-1:0] out_data_o,
  output logic [CntW-1:0] count_o
);
  logic [Width-1:0] mem [Depth];
  logic [PtrW-1:0] wptr_q, wptr_d, rptr_q, rptr_d;
  logic [CntW-1:0] count_q, count_d;
  logic push, pop;

  assign in_ready_o  = count_q != CntW'(Depth);
  assign out_valid_o = count_q != '0;
  assign out_data_o  = mem[rptr_q];
  assign count_o     = count_q;
  assign push = in_valid_i && in_ready_o;
  assign pop  = out_valid_o && out_ready_i;

  always_comb begin
    wptr_d  = wptr_q;
    rptr_d  = rptr_q;
    count_d = count_q;
    if (push) wptr_d = wptr_q + PtrW'(1);
    if (pop) rptr_d = rptr_q + PtrW'(1);
    if (push && !pop) count_d = count_q + CntW'(1);
    if (pop && !push) count_d = count_q - CntW'(1);
    if (clear_i) begin
      wptr_d  = '0;
      rptr_d  = '0;
      count_d = '0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wptr_q  <= '0;
      rptr_q  <= '0;
      count_q <= '0;
    end else begin
      wptr_q  <= wptr_d;
      rptr_q  <= rptr_d;
      count_q <= count_d;
    end
  end

  always_ff @(posedge clk_i) begin
    if (push) mem[wptr_q] <= in_data_i;
  end
endmodule
