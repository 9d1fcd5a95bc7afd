// The micro-op loop sequencer of GEMM and ALU instructions: walks
//
//   for i0 in 0 .. iter_out-1: for i1 in 0 .. iter_in-1: for u in uop_begin .. uop_end-1
//
// reading micro-op u from the uop buffer and emitting one iteration per cycle with its
// three tile indices, each the micro-op's field plus i0 * factor_out + i1 * factor_in.
// The indices are IdxW bits wide (never wrapping), so the consumer can check them
// against its buffers. Loop offsets are kept as running sums: no multipliers.
//
// Two stages: the issue stage reads the micro-op; the output stage holds it (the uop
// buffer's read data holds while nothing is issued) until the consumer takes it. A
// consumer that is always ready gets one iteration per cycle.
module kiln_uop_loop #(
  parameter int unsigned FactorW = 16,
  localparam int unsigned IdxW    = 32,
  localparam int unsigned UopW    = kiln_accel_pkg::UOP_WIDTH,
  localparam int unsigned UopAddrW = $clog2(kiln_accel_pkg::UOP_DEPTH),
  localparam int unsigned BeginW  = kiln_accel_pkg::GEMM_UOP_BEGIN_W,
  localparam int unsigned EndW    = kiln_accel_pkg::GEMM_UOP_END_W,
  localparam int unsigned IterW   = kiln_accel_pkg::GEMM_ITER_OUT_W
) (
  input  logic                clk_i,
  input  logic                rst_ni,
  // Start a loop nest (ignored while busy). An empty nest emits nothing.
  input  logic                start_i,
  input  logic [BeginW-1:0]   uop_begin_i,
  input  logic [EndW-1:0]     uop_end_i,
  input  logic [IterW-1:0]    iter_out_i,
  input  logic [IterW-1:0]    iter_in_i,
  input  logic [FactorW-1:0]  acc_factor_out_i,
  input  logic [FactorW-1:0]  acc_factor_in_i,
  input  logic [FactorW-1:0]  inp_factor_out_i,
  input  logic [FactorW-1:0]  inp_factor_in_i,
  input  logic [FactorW-1:0]  wgt_factor_out_i,
  input  logic [FactorW-1:0]  wgt_factor_in_i,
  // Stop early (a fault): drops what is in flight.
  input  logic                abort_i,
  // The uop buffer's read port.
  output logic                uop_re_o,
  output logic [UopAddrW-1:0] uop_raddr_o,
  input  logic [UopW-1:0]     uop_rdata_i,
  // Iterations.
  output logic                out_valid_o,
  input  logic                out_ready_i,
  output logic [IdxW-1:0]     out_acc_o,
  output logic [IdxW-1:0]     out_inp_o,
  output logic [IdxW-1:0]     out_wgt_o,
  // A nest is running or an iteration waits to be taken.
  output logic                busy_o
);
  localparam int unsigned AccIdxLsb = kiln_accel_pkg::UOP_ACC_IDX_LSB;
  localparam int unsigned AccIdxW   = kiln_accel_pkg::UOP_ACC_IDX_W;
  localparam int unsigned InpIdxLsb = kiln_accel_pkg::UOP_INP_IDX_LSB;
  localparam int unsigned InpIdxW   = kiln_accel_pkg::UOP_INP_IDX_W;
  localparam int unsigned WgtIdxLsb = kiln_accel_pkg::UOP_WGT_IDX_LSB;
  localparam int unsigned WgtIdxW   = kiln_accel_pkg::UOP_WGT_IDX_W;

  // The nest's bounds and factors, held while it runs.
  logic [BeginW-1:0]  begin_q;
  logic [EndW-1:0]    end_q;
  logic [IterW-1:0]   iter_out_q, iter_in_q;
  logic [FactorW-1:0] acc_fo_q, acc_fi_q, inp_fo_q, inp_fi_q, wgt_fo_q, wgt_fi_q;
  // Loop counters and running offsets (i0 * factor_out, i1 * factor_in).
  logic               running_q, running_d;
  logic [EndW-1:0]    u_q, u_d;
  logic [IterW-1:0]   i0_q, i0_d, i1_q, i1_d;
  logic [IdxW-1:0]    acc_oo_q, acc_oo_d, acc_oi_q, acc_oi_d;
  logic [IdxW-1:0]    inp_oo_q, inp_oo_d, inp_oi_q, inp_oi_d;
  logic [IdxW-1:0]    wgt_oo_q, wgt_oo_d, wgt_oi_q, wgt_oi_d;
  // The output stage.
  logic               out_valid_q, out_valid_d;
  logic [IdxW-1:0]    out_acc_off_q, out_inp_off_q, out_wgt_off_q;

  logic issue, empty_nest;
  assign issue = running_q && (!out_valid_q || out_ready_i) && !abort_i;
  assign empty_nest = iter_out_i == '0 || iter_in_i == '0 || EndW'(uop_begin_i) >= uop_end_i;

  always_comb begin
    running_d   = running_q;
    u_d         = u_q;
    i0_d        = i0_q;
    i1_d        = i1_q;
    acc_oo_d    = acc_oo_q;
    acc_oi_d    = acc_oi_q;
    inp_oo_d    = inp_oo_q;
    inp_oi_d    = inp_oi_q;
    wgt_oo_d    = wgt_oo_q;
    wgt_oi_d    = wgt_oi_q;
    out_valid_d = out_valid_q && !out_ready_i;
    if (issue) begin
      out_valid_d = 1'b1;
      u_d = u_q + EndW'(1);
      if (u_d == end_q) begin
        u_d = EndW'(begin_q);
        i1_d = i1_q + IterW'(1);
        acc_oi_d = acc_oi_q + IdxW'(acc_fi_q);
        inp_oi_d = inp_oi_q + IdxW'(inp_fi_q);
        wgt_oi_d = wgt_oi_q + IdxW'(wgt_fi_q);
        if (i1_d == iter_in_q) begin
          i1_d = '0;
          acc_oi_d = '0;
          inp_oi_d = '0;
          wgt_oi_d = '0;
          i0_d = i0_q + IterW'(1);
          acc_oo_d = acc_oo_q + IdxW'(acc_fo_q);
          inp_oo_d = inp_oo_q + IdxW'(inp_fo_q);
          wgt_oo_d = wgt_oo_q + IdxW'(wgt_fo_q);
          if (i0_d == iter_out_q) running_d = 1'b0;
        end
      end
    end
    if (start_i && !running_q && !out_valid_q) begin
      running_d = !empty_nest;
      u_d       = EndW'(uop_begin_i);
      i0_d      = '0;
      i1_d      = '0;
      acc_oo_d  = '0;
      acc_oi_d  = '0;
      inp_oo_d  = '0;
      inp_oi_d  = '0;
      wgt_oo_d  = '0;
      wgt_oi_d  = '0;
    end
    if (abort_i) begin
      running_d   = 1'b0;
      out_valid_d = 1'b0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      running_q   <= 1'b0;
      out_valid_q <= 1'b0;
    end else begin
      running_q   <= running_d;
      out_valid_q <= out_valid_d;
    end
  end

  always_ff @(posedge clk_i) begin
    u_q      <= u_d;
    i0_q     <= i0_d;
    i1_q     <= i1_d;
    acc_oo_q <= acc_oo_d;
    acc_oi_q <= acc_oi_d;
    inp_oo_q <= inp_oo_d;
    inp_oi_q <= inp_oi_d;
    wgt_oo_q <= wgt_oo_d;
    wgt_oi_q <= wgt_oi_d;
    if (start_i && !running_q && !out_valid_q) begin
      begin_q    <= uop_begin_i;
      end_q      <= uop_end_i;
      iter_out_q <= iter_out_i;
      iter_in_q  <= iter_in_i;
      acc_fo_q   <= acc_factor_out_i;
      acc_fi_q   <= acc_factor_in_i;
      inp_fo_q   <= inp_factor_out_i;
      inp_fi_q   <= inp_factor_in_i;
      wgt_fo_q   <= wgt_factor_out_i;
      wgt_fi_q   <= wgt_factor_in_i;
    end
    if (issue) begin
      out_acc_off_q <= acc_oo_q + acc_oi_q;
      out_inp_off_q <= inp_oo_q + inp_oi_q;
      out_wgt_off_q <= wgt_oo_q + wgt_oi_q;
    end
  end

  assign uop_re_o    = issue;
  assign uop_raddr_o = u_q[UopAddrW-1:0];

  assign out_valid_o = out_valid_q;
  assign out_acc_o = IdxW'(uop_rdata_i[AccIdxLsb +: AccIdxW]) + out_acc_off_q;
  assign out_inp_o = IdxW'(uop_rdata_i[InpIdxLsb +: InpIdxW]) + out_inp_off_q;
  assign out_wgt_o = IdxW'(uop_rdata_i[WgtIdxLsb +: WgtIdxW]) + out_wgt_off_q;

  assign busy_o = running_q || out_valid_q;

  // Reserved micro-op bits (above the fields) are not looked at.
  logic unused_uop;
  assign unused_uop = ^uop_rdata_i;
endmodule
