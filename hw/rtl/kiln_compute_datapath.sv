// The compute datapath: the five on-chip buffers, the micro-op loop sequencer, the GEMM
// core and the tensor ALU, executing one GEMM or ALU instruction at a time.
//
// An instruction is checked when it is taken (reserved bits, an unknown ALU operation or
// uop_begin > uop_end: BAD_INSN; uop_end past the uop buffer: SRAM_RANGE), then its loop
// nest runs, one micro-op iteration per cycle for GEMM and one per tile read for the ALU.
// Every index an iteration uses is checked against its buffer; the first one outside
// stops the instruction with SRAM_RANGE after the iterations before it have written their
// results. The instruction completes (done_o or error_o for a cycle) once the pipelines
// have drained.
//
// The buffers' other ports: inp and wgt are written by the load module, uop and acc by
// the compute module's LOADs, out is read by the store module. Every write of an acc tile
// also writes the out tile of the same index with the low OUT_WIDTH bits of each element.
// While no instruction runs, ext_acc_r* reads the acc buffer (for LOAD and for tests).
module kiln_compute_datapath #(
  localparam int unsigned InsnW    = kiln_accel_pkg::INSN_WIDTH,
  localparam int unsigned AccW     = kiln_accel_pkg::ACC_WIDTH,
  localparam int unsigned OutW     = kiln_accel_pkg::OUT_WIDTH,
  localparam int unsigned Elems    = kiln_accel_pkg::BATCH * kiln_accel_pkg::BLOCK_OUT,
  localparam int unsigned UopW     = kiln_accel_pkg::UOP_WIDTH,
  localparam int unsigned InpTileW = kiln_accel_pkg::INP_TILE_BITS,
  localparam int unsigned WgtTileW = kiln_accel_pkg::WGT_TILE_BITS,
  localparam int unsigned AccTileW = kiln_accel_pkg::ACC_TILE_BITS,
  localparam int unsigned OutTileW = kiln_accel_pkg::OUT_TILE_BITS,
  localparam int unsigned UopDepth = kiln_accel_pkg::UOP_DEPTH,
  localparam int unsigned InpDepth = kiln_accel_pkg::INP_DEPTH,
  localparam int unsigned WgtDepth = kiln_accel_pkg::WGT_DEPTH,
  localparam int unsigned AccDepth = kiln_accel_pkg::ACC_DEPTH,
  localparam int unsigned UopAddrW = $clog2(UopDepth),
  localparam int unsigned InpAddrW = $clog2(InpDepth),
  localparam int unsigned WgtAddrW = $clog2(WgtDepth),
  localparam int unsigned AccAddrW = $clog2(AccDepth)
) (
  input  logic                clk_i,
  input  logic                rst_ni,
  // A GEMM or ALU instruction.
  input  logic                insn_valid_i,
  output logic                insn_ready_o,
  input  logic [InsnW-1:0]    insn_i,
  // It completed (one cycle), or stopped on a fault with error_code_o.
  output logic                done_o,
  output logic                error_o,
  output logic [7:0]          error_code_o,
  // Buffer write ports.
  input  logic                uop_we_i,
  input  logic [UopAddrW-1:0] uop_waddr_i,
  input  logic [UopW-1:0]     uop_wdata_i,
  input  logic                inp_we_i,
  input  logic [InpAddrW-1:0] inp_waddr_i,
  input  logic [InpTileW-1:0] inp_wdata_i,
  input  logic                wgt_we_i,
  input  logic [WgtAddrW-1:0] wgt_waddr_i,
  input  logic [WgtTileW-1:0] wgt_wdata_i,
  input  logic                ext_acc_we_i,  // only while idle
  input  logic [AccAddrW-1:0] ext_acc_waddr_i,
  input  logic [AccTileW-1:0] ext_acc_wdata_i,
  // Reads from outside (acc only while idle).
  input  logic                ext_acc_re_i,
  input  logic [AccAddrW-1:0] ext_acc_raddr_i,
  output logic [AccTileW-1:0] ext_acc_rdata_o,
  input  logic                out_re_i,
  input  logic [AccAddrW-1:0] out_raddr_i,
  output logic [OutTileW-1:0] out_rdata_o,
  // An instruction is running; a GEMM or ALU micro-op iteration starts (counters).
  output logic                busy_o,
  output logic                gemm_uop_o,
  output logic                alu_uop_o
);
  localparam int unsigned FactorW = 16;
  localparam int unsigned IdxW    = 32;
  localparam int unsigned FieldW  = 32;
  localparam int unsigned BeginW  = kiln_accel_pkg::GEMM_UOP_BEGIN_W;
  localparam int unsigned EndW    = kiln_accel_pkg::GEMM_UOP_END_W;
  localparam int unsigned IterW   = kiln_accel_pkg::GEMM_ITER_OUT_W;

  // --- The instruction's fields -----------------------------------------------------------
  logic [InsnW-1:0] insn_q;
  logic is_alu;
  assign is_alu = insn_q[kiln_accel_pkg::INSN_OPCODE_LSB +: kiln_accel_pkg::INSN_OPCODE_W] ==
                  kiln_accel_pkg::OPCODE_ALU;

  // Bits [lsb +: width] of an instruction (width <= 32), zero-extended.
  function automatic logic [FieldW-1:0] field(input logic [InsnW-1:0] insn,
                                        input int unsigned lsb, input int unsigned width);
    logic [InsnW-1:0] shifted;
    shifted = insn >> lsb;
    field = FieldW'(shifted & ((InsnW'(1) << width) - InsnW'(1)));
  endfunction

  logic              reset_bit, use_imm;
  logic [BeginW-1:0] uop_begin;
  logic [EndW-1:0]   uop_end;
  logic [IterW-1:0]  iter_out, iter_in;
  logic [FactorW-1:0] acc_fo, acc_fi, inp_fo, inp_fi, wgt_fo, wgt_fi;
  logic [kiln_accel_pkg::ALU_ALU_OP_W-1:0] alu_op;
  logic [kiln_accel_pkg::ALU_IMM_W-1:0]    imm;
  logic reserved_set;

  assign alu_op  = insn_q[kiln_accel_pkg::ALU_ALU_OP_LSB +: kiln_accel_pkg::ALU_ALU_OP_W];
  assign use_imm = insn_q[kiln_accel_pkg::ALU_USE_IMM_LSB];
  assign imm     = insn_q[kiln_accel_pkg::ALU_IMM_LSB +: kiln_accel_pkg::ALU_IMM_W];

  always_comb begin
    if (is_alu) begin
      reset_bit = insn_q[kiln_accel_pkg::ALU_RESET_LSB];
      uop_begin = BeginW'(field(insn_q, kiln_accel_pkg::ALU_UOP_BEGIN_LSB, kiln_accel_pkg::ALU_UOP_BEGIN_W));
      uop_end   = EndW'(field(insn_q, kiln_accel_pkg::ALU_UOP_END_LSB, kiln_accel_pkg::ALU_UOP_END_W));
      iter_out  = IterW'(field(insn_q, kiln_accel_pkg::ALU_ITER_OUT_LSB, kiln_accel_pkg::ALU_ITER_OUT_W));
      iter_in   = IterW'(field(insn_q, kiln_accel_pkg::ALU_ITER_IN_LSB, kiln_accel_pkg::ALU_ITER_IN_W));
      acc_fo = FactorW'(field(insn_q, kiln_accel_pkg::ALU_ACC_FACTOR_OUT_LSB, kiln_accel_pkg::ALU_ACC_FACTOR_OUT_W));
      acc_fi = FactorW'(field(insn_q, kiln_accel_pkg::ALU_ACC_FACTOR_IN_LSB, kiln_accel_pkg::ALU_ACC_FACTOR_IN_W));
      inp_fo = FactorW'(field(insn_q, kiln_accel_pkg::ALU_INP_FACTOR_OUT_LSB, kiln_accel_pkg::ALU_INP_FACTOR_OUT_W));
      inp_fi = FactorW'(field(insn_q, kiln_accel_pkg::ALU_INP_FACTOR_IN_LSB, kiln_accel_pkg::ALU_INP_FACTOR_IN_W));
      wgt_fo = '0;
      wgt_fi = '0;
      reserved_set = (insn_q >> kiln_accel_pkg::ALU_BITS) != '0;
    end else begin
      reset_bit = insn_q[kiln_accel_pkg::GEMM_RESET_LSB];
      uop_begin = BeginW'(field(insn_q, kiln_accel_pkg::GEMM_UOP_BEGIN_LSB, kiln_accel_pkg::GEMM_UOP_BEGIN_W));
      uop_end   = EndW'(field(insn_q, kiln_accel_pkg::GEMM_UOP_END_LSB, kiln_accel_pkg::GEMM_UOP_END_W));
      iter_out  = IterW'(field(insn_q, kiln_accel_pkg::GEMM_ITER_OUT_LSB, kiln_accel_pkg::GEMM_ITER_OUT_W));
      iter_in   = IterW'(field(insn_q, kiln_accel_pkg::GEMM_ITER_IN_LSB, kiln_accel_pkg::GEMM_ITER_IN_W));
      acc_fo = FactorW'(field(insn_q, kiln_accel_pkg::GEMM_ACC_FACTOR_OUT_LSB, kiln_accel_pkg::GEMM_ACC_FACTOR_OUT_W));
      acc_fi = FactorW'(field(insn_q, kiln_accel_pkg::GEMM_ACC_FACTOR_IN_LSB, kiln_accel_pkg::GEMM_ACC_FACTOR_IN_W));
      inp_fo = FactorW'(field(insn_q, kiln_accel_pkg::GEMM_INP_FACTOR_OUT_LSB, kiln_accel_pkg::GEMM_INP_FACTOR_OUT_W));
      inp_fi = FactorW'(field(insn_q, kiln_accel_pkg::GEMM_INP_FACTOR_IN_LSB, kiln_accel_pkg::GEMM_INP_FACTOR_IN_W));
      wgt_fo = FactorW'(field(insn_q, kiln_accel_pkg::GEMM_WGT_FACTOR_OUT_LSB, kiln_accel_pkg::GEMM_WGT_FACTOR_OUT_W));
      wgt_fi = FactorW'(field(insn_q, kiln_accel_pkg::GEMM_WGT_FACTOR_IN_LSB, kiln_accel_pkg::GEMM_WGT_FACTOR_IN_W));
      reserved_set = (insn_q >> kiln_accel_pkg::GEMM_BITS) != '0;
    end
  end

  // --- Control -----------------------------------------------------------------------------
  typedef enum logic [1:0] {
    Idle  = 2'd0,
    Check = 2'd1,
    Run   = 2'd2,
    Drain = 2'd3
  } state_e;
  state_e state_q, state_d;
  logic [7:0] err_q, err_d;
  logic start, abort, seq_busy, gemm_busy, alu_busy;

  logic bad_insn, uop_range;
  assign bad_insn = reserved_set || EndW'(uop_begin) > uop_end ||
                    (is_alu && alu_op > kiln_accel_pkg::ALU_REQUANT);
  assign uop_range = FieldW'(uop_end) > UopDepth;

  // The iteration the sequencer offers, and whether its indices fit the buffers.
  logic seq_valid, seq_ready, unit_ready;
  logic [IdxW-1:0] seq_acc, seq_inp, seq_wgt;
  logic alu_uses_src, alu_uses_aux, idx_bad;
  assign alu_uses_aux = !use_imm && (alu_op == kiln_accel_pkg::ALU_MAC ||
                                     alu_op == kiln_accel_pkg::ALU_REQUANT);
  assign alu_uses_src = !use_imm || alu_op == kiln_accel_pkg::ALU_MAC ||
                        alu_op == kiln_accel_pkg::ALU_REQUANT;
  always_comb begin
    idx_bad = seq_acc >= AccDepth;
    if (!reset_bit) begin
      if (is_alu) begin
        if (alu_uses_src && seq_inp >= AccDepth) idx_bad = 1'b1;
        if (alu_uses_aux && seq_wgt >= AccDepth) idx_bad = 1'b1;
      end else begin
        if (seq_inp >= InpDepth || seq_wgt >= WgtDepth) idx_bad = 1'b1;
      end
    end
  end
  assign abort = state_q == Run && seq_valid && idx_bad;
  assign seq_ready = unit_ready && !idx_bad;

  always_comb begin
    state_d = state_q;
    err_d   = err_q;
    start   = 1'b0;
    unique case (state_q)
      Idle: if (insn_valid_i) state_d = Check;
      Check: begin
        err_d = kiln_accel_pkg::ERR_NONE;
        if (bad_insn) err_d = kiln_accel_pkg::ERR_BAD_INSN;
        else if (uop_range) err_d = kiln_accel_pkg::ERR_SRAM_RANGE;
        start   = err_d == kiln_accel_pkg::ERR_NONE;
        state_d = start ? Run : Drain;
      end
      Run: begin
        if (abort) begin
          err_d   = kiln_accel_pkg::ERR_SRAM_RANGE;
          state_d = Drain;
        end else if (!seq_busy) begin
          state_d = Drain;
        end
      end
      default: if (!gemm_busy && !alu_busy) state_d = Idle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= Idle;
      err_q   <= kiln_accel_pkg::ERR_NONE;
    end else begin
      state_q <= state_d;
      err_q   <= err_d;
    end
  end
  always_ff @(posedge clk_i) begin
    if (state_q == Idle && insn_valid_i) insn_q <= insn_i;
  end

  assign insn_ready_o = state_q == Idle;
  assign busy_o       = state_q != Idle;
  assign done_o       = state_q == Drain && state_d == Idle && err_q == kiln_accel_pkg::ERR_NONE;
  assign error_o      = state_q == Drain && state_d == Idle && err_q != kiln_accel_pkg::ERR_NONE;
  assign error_code_o = err_q;

  // --- The sequencer, the GEMM core and the tensor ALU ---------------------------------------
  logic                uop_re;
  logic [UopAddrW-1:0] uop_raddr;
  logic [UopW-1:0]     uop_rdata;

  kiln_uop_loop #(.FactorW(FactorW)) u_loop (
    .clk_i, .rst_ni,
    .start_i         (start),
    .uop_begin_i     (uop_begin),
    .uop_end_i       (uop_end),
    .iter_out_i      (iter_out),
    .iter_in_i       (iter_in),
    .acc_factor_out_i(acc_fo),
    .acc_factor_in_i (acc_fi),
    .inp_factor_out_i(inp_fo),
    .inp_factor_in_i (inp_fi),
    .wgt_factor_out_i(wgt_fo),
    .wgt_factor_in_i (wgt_fi),
    .abort_i         (abort),
    .uop_re_o        (uop_re),
    .uop_raddr_o     (uop_raddr),
    .uop_rdata_i     (uop_rdata),
    .out_valid_o     (seq_valid),
    .out_ready_i     (seq_ready),
    .out_acc_o       (seq_acc),
    .out_inp_o       (seq_inp),
    .out_wgt_o       (seq_wgt),
    .busy_o          (seq_busy)
  );

  logic go;
  assign go = state_q == Run && seq_valid && !idx_bad;

  logic                inp_re, wgt_re;
  logic [InpAddrW-1:0] inp_raddr;
  logic [WgtAddrW-1:0] wgt_raddr;
  logic [InpTileW-1:0] inp_rdata;
  logic [WgtTileW-1:0] wgt_rdata;
  logic                acc_re, gemm_acc_re, alu_acc_re;
  logic [AccAddrW-1:0] acc_raddr, gemm_acc_raddr, alu_acc_raddr;
  logic [AccTileW-1:0] acc_rdata;
  logic                acc_we, gemm_acc_we, alu_acc_we;
  logic [AccAddrW-1:0] acc_waddr, gemm_acc_waddr, alu_acc_waddr;
  logic [AccTileW-1:0] acc_wdata, gemm_acc_wdata, alu_acc_wdata;
  logic                alu_in_ready;

  kiln_gemm_core u_gemm (
    .clk_i, .rst_ni,
    .in_valid_i (go && !is_alu),
    .in_reset_i (reset_bit),
    .in_acc_i   (seq_acc[AccAddrW-1:0]),
    .in_inp_i   (seq_inp[InpAddrW-1:0]),
    .in_wgt_i   (seq_wgt[WgtAddrW-1:0]),
    .inp_re_o   (inp_re),
    .inp_raddr_o(inp_raddr),
    .inp_rdata_i(inp_rdata),
    .wgt_re_o   (wgt_re),
    .wgt_raddr_o(wgt_raddr),
    .wgt_rdata_i(wgt_rdata),
    .acc_re_o   (gemm_acc_re),
    .acc_raddr_o(gemm_acc_raddr),
    .acc_rdata_i(acc_rdata),
    .acc_we_o   (gemm_acc_we),
    .acc_waddr_o(gemm_acc_waddr),
    .acc_wdata_o(gemm_acc_wdata),
    .busy_o     (gemm_busy)
  );

  kiln_tensor_alu u_alu (
    .clk_i, .rst_ni,
    .op_i       (alu_op),
    .reset_i    (reset_bit),
    .use_imm_i  (use_imm),
    .imm_i      (imm),
    .in_valid_i (go && is_alu),
    .in_ready_o (alu_in_ready),
    .in_dst_i   (seq_acc[AccAddrW-1:0]),
    .in_src_i   (seq_inp[AccAddrW-1:0]),
    .in_aux_i   (seq_wgt[AccAddrW-1:0]),
    .acc_re_o   (alu_acc_re),
    .acc_raddr_o(alu_acc_raddr),
    .acc_rdata_i(acc_rdata),
    .acc_we_o   (alu_acc_we),
    .acc_waddr_o(alu_acc_waddr),
    .acc_wdata_o(alu_acc_wdata),
    .busy_o     (alu_busy)
  );
  assign unit_ready = is_alu ? alu_in_ready : 1'b1;
  assign gemm_uop_o = go && !is_alu;
  assign alu_uop_o  = go && is_alu && alu_in_ready;

  // --- Buffers -------------------------------------------------------------------------------
  // One instruction runs at a time, so the acc ports go to whichever unit is active.
  always_comb begin
    acc_re    = ext_acc_re_i && state_q == Idle;
    acc_raddr = ext_acc_raddr_i;
    if (gemm_acc_re) begin
      acc_re    = 1'b1;
      acc_raddr = gemm_acc_raddr;
    end else if (alu_acc_re) begin
      acc_re    = 1'b1;
      acc_raddr = alu_acc_raddr;
    end
    acc_we    = ext_acc_we_i && state_q == Idle;
    acc_waddr = ext_acc_waddr_i;
    acc_wdata = ext_acc_wdata_i;
    if (gemm_acc_we) begin
      acc_we    = 1'b1;
      acc_waddr = gemm_acc_waddr;
      acc_wdata = gemm_acc_wdata;
    end else if (alu_acc_we) begin
      acc_we    = 1'b1;
      acc_waddr = alu_acc_waddr;
      acc_wdata = alu_acc_wdata;
    end
  end

  logic [OutTileW-1:0] out_wdata;
  always_comb begin
    for (int unsigned e = 0; e < Elems; e++) begin
      out_wdata[e * OutW +: OutW] = acc_wdata[e * AccW +: OutW];
    end
  end

  kiln_sram #(.Width(UopW), .Depth(UopDepth)) u_uop_buf (
    .clk_i,
    .we_i(uop_we_i), .waddr_i(uop_waddr_i), .wdata_i(uop_wdata_i),
    .re_i(uop_re), .raddr_i(uop_raddr), .rdata_o(uop_rdata)
  );
  kiln_sram #(.Width(InpTileW), .Depth(InpDepth)) u_inp_buf (
    .clk_i,
    .we_i(inp_we_i), .waddr_i(inp_waddr_i), .wdata_i(inp_wdata_i),
    .re_i(inp_re), .raddr_i(inp_raddr), .rdata_o(inp_rdata)
  );
  kiln_sram #(.Width(WgtTileW), .Depth(WgtDepth),
              .UltraRam(kiln_accel_pkg::WGT_IN_URAM != 0)) u_wgt_buf (
    .clk_i,
    .we_i(wgt_we_i), .waddr_i(wgt_waddr_i), .wdata_i(wgt_wdata_i),
    .re_i(wgt_re), .raddr_i(wgt_raddr), .rdata_o(wgt_rdata)
  );
  kiln_sram #(.Width(AccTileW), .Depth(AccDepth), .WriteFirst(1'b1)) u_acc_buf (
    .clk_i,
    .we_i(acc_we), .waddr_i(acc_waddr), .wdata_i(acc_wdata),
    .re_i(acc_re), .raddr_i(acc_raddr), .rdata_o(acc_rdata)
  );
  kiln_sram #(.Width(OutTileW), .Depth(AccDepth)) u_out_buf (
    .clk_i,
    .we_i(acc_we), .waddr_i(acc_waddr), .wdata_i(out_wdata),
    .re_i(out_re_i), .raddr_i(out_raddr_i), .rdata_o(out_rdata_o)
  );
  assign ext_acc_rdata_o = acc_rdata;

  // Index bits above the buffers' address widths are checked, not used as addresses.
  logic unused_idx;
  assign unused_idx = ^{seq_acc, seq_inp, seq_wgt};
endmodule
