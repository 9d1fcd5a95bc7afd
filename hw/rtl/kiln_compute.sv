// The compute module: executes, in order and under the dependency-token protocol (all four
// queues), LOAD of micro-ops and accumulator tiles (acc, and acc8 sign-extended), GEMM and
// ALU (on kiln_compute_datapath, which holds the five buffers) and FINISH, which raises
// finish_o. Reserved bits set are BAD_INSN.
module kiln_compute #(
  localparam int unsigned InsnW    = kiln_accel_pkg::INSN_WIDTH,
  localparam int unsigned CmdW     = InsnW + 32,
  localparam int unsigned BeatW    = kiln_accel_pkg::AXI_WIDTH,
  localparam int unsigned AccW     = kiln_accel_pkg::ACC_WIDTH,
  localparam int unsigned OutW     = kiln_accel_pkg::OUT_WIDTH,
  localparam int unsigned Elems    = kiln_accel_pkg::BATCH * kiln_accel_pkg::BLOCK_OUT,
  localparam int unsigned UopW     = kiln_accel_pkg::UOP_WIDTH,
  localparam int unsigned InpTileW = kiln_accel_pkg::INP_TILE_BITS,
  localparam int unsigned WgtTileW = kiln_accel_pkg::WGT_TILE_BITS,
  localparam int unsigned AccTileW = kiln_accel_pkg::ACC_TILE_BITS,
  localparam int unsigned OutTileW = kiln_accel_pkg::OUT_TILE_BITS,
  localparam int unsigned ElemW    = AccTileW > UopW ? AccTileW : UopW,
  localparam int unsigned UopAddrW = $clog2(kiln_accel_pkg::UOP_DEPTH),
  localparam int unsigned InpAddrW = $clog2(kiln_accel_pkg::INP_DEPTH),
  localparam int unsigned WgtAddrW = $clog2(kiln_accel_pkg::WGT_DEPTH),
  localparam int unsigned AccAddrW = $clog2(kiln_accel_pkg::ACC_DEPTH)
) (
  input  logic                clk_i,
  input  logic                rst_ni,
  input  logic                clear_i,
  input  logic                halt_i,
  input  logic [63:0]         dram_offset_i,
  // The command queue's head.
  input  logic                cmd_valid_i,
  output logic                cmd_pop_o,
  input  logic [CmdW-1:0]     cmd_data_i,
  // Token queues: load_to_compute and store_to_compute (popped), compute_to_load and
  // compute_to_store (pushed).
  input  logic                l2c_can_pop_i,
  output logic                l2c_pop_o,
  input  logic                s2c_can_pop_i,
  output logic                s2c_pop_o,
  input  logic                c2l_can_push_i,
  output logic                c2l_push_o,
  input  logic                c2s_can_push_i,
  output logic                c2s_push_o,
  // The buffers' ports for the load and store modules.
  input  logic                inp_we_i,
  input  logic [InpAddrW-1:0] inp_waddr_i,
  input  logic [InpTileW-1:0] inp_wdata_i,
  input  logic                wgt_we_i,
  input  logic [WgtAddrW-1:0] wgt_waddr_i,
  input  logic [WgtTileW-1:0] wgt_wdata_i,
  input  logic                out_re_i,
  input  logic [AccAddrW-1:0] out_raddr_i,
  output logic [OutTileW-1:0] out_rdata_o,
  // FINISH executed (one cycle); a fault (one cycle).
  output logic                finish_o,
  output logic                error_o,
  output logic [7:0]          error_code_o,
  output logic [31:0]         error_insn_o,
  output logic                busy_o,
  // Counters.
  output logic                insn_done_o,
  output logic                busy_gemm_o,
  output logic                busy_alu_o,
  output logic                busy_load_o,
  output logic                stall_load_token_o,
  output logic                stall_store_token_o,
  output logic                stall_push_o,
  output logic                stall_dram_o,
  output logic                gemm_uop_o,
  output logic                alu_uop_o,
  output logic [15:0]         dma_bytes_o,
  // AXI4 read channels.
  output logic                ar_valid_o,
  input  logic                ar_ready_i,
  output logic [63:0]         ar_addr_o,
  output logic [7:0]          ar_len_o,
  input  logic                r_valid_i,
  output logic                r_ready_o,
  input  logic [BeatW-1:0]    r_data_i,
  input  logic                r_err_i
);
  logic [InsnW-1:0] insn;
  assign insn = cmd_data_i[InsnW-1:0];

  logic exec_start, exec_done, flag_error, exec_busy;
  kiln_insn_sync #(.HasPrev(1'b1), .HasNext(1'b1)) u_sync (
    .clk_i, .rst_ni, .clear_i, .halt_i,
    .insn_valid_i   (cmd_valid_i),
    .pop_prev_i     (insn[kiln_accel_pkg::INSN_POP_PREV_LSB]),
    .pop_next_i     (insn[kiln_accel_pkg::INSN_POP_NEXT_LSB]),
    .push_prev_i    (insn[kiln_accel_pkg::INSN_PUSH_PREV_LSB]),
    .push_next_i    (insn[kiln_accel_pkg::INSN_PUSH_NEXT_LSB]),
    .prev_can_pop_i (l2c_can_pop_i),
    .next_can_pop_i (s2c_can_pop_i),
    .prev_can_push_i(c2l_can_push_i),
    .next_can_push_i(c2s_can_push_i),
    .prev_pop_o     (l2c_pop_o),
    .next_pop_o     (s2c_pop_o),
    .prev_push_o    (c2l_push_o),
    .next_push_o    (c2s_push_o),
    .exec_start_o   (exec_start),
    .exec_done_i    (exec_done),
    .insn_done_o    (cmd_pop_o),
    .flag_error_o   (flag_error),
    .stall_pop_prev_o(stall_load_token_o),
    .stall_pop_next_o(stall_store_token_o),
    .stall_push_o   (stall_push_o),
    .exec_busy_o    (exec_busy)
  );
  assign insn_done_o = cmd_pop_o;

  // What the instruction is.
  logic [kiln_accel_pkg::INSN_OPCODE_W-1:0] opcode;
  logic [kiln_accel_pkg::MEMORY_MEMORY_TYPE_W-1:0] mem;
  logic is_load, is_finish, is_datapath, bad;
  assign opcode = insn[kiln_accel_pkg::INSN_OPCODE_LSB +: kiln_accel_pkg::INSN_OPCODE_W];
  assign mem = insn[kiln_accel_pkg::MEMORY_MEMORY_TYPE_LSB +: kiln_accel_pkg::MEMORY_MEMORY_TYPE_W];
  assign is_load = opcode == kiln_accel_pkg::OPCODE_LOAD;
  assign is_finish = opcode == kiln_accel_pkg::OPCODE_FINISH;
  assign is_datapath = opcode == kiln_accel_pkg::OPCODE_GEMM || opcode == kiln_accel_pkg::OPCODE_ALU;
  assign bad = (is_load && (insn >> kiln_accel_pkg::MEMORY_BITS) != '0) ||
               (is_finish && (insn >> kiln_accel_pkg::FINISH_BITS) != '0);

  logic load_q, datapath_q;
  logic [kiln_accel_pkg::MEMORY_MEMORY_TYPE_W-1:0] mem_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      load_q     <= 1'b0;
      datapath_q <= 1'b0;
      mem_q      <= '0;
    end else if (exec_start) begin
      load_q     <= is_load;
      datapath_q <= is_datapath;
      mem_q      <= mem;
    end
  end

  // LOAD of uop, acc and acc8.
  logic [4:0] elem_log2;
  logic [31:0] depth;
  always_comb begin
    elem_log2 = 5'($clog2(AccTileW / 8));
    depth = 32'(kiln_accel_pkg::ACC_DEPTH);
    if (mem == kiln_accel_pkg::MEM_UOP) begin
      elem_log2 = 5'($clog2(UopW / 8));
      depth = 32'(kiln_accel_pkg::UOP_DEPTH);
    end else if (mem == kiln_accel_pkg::MEM_ACC8) begin
      elem_log2 = 5'($clog2(OutTileW / 8));
    end
  end

  logic dma_done, wr_valid;
  logic [7:0] dma_err;
  logic [31:0] wr_addr;
  logic [ElemW-1:0] wr_data;
  kiln_dma_load #(.ElemW(ElemW)) u_dma (
    .clk_i, .rst_ni, .halt_i,
    .start_i      (exec_start && is_load && !bad),
    .sram_base_i  (insn[kiln_accel_pkg::MEMORY_SRAM_BASE_LSB +: kiln_accel_pkg::MEMORY_SRAM_BASE_W]),
    .dram_base_i  (insn[kiln_accel_pkg::MEMORY_DRAM_BASE_LSB +: 32]),
    .y_size_i     (insn[kiln_accel_pkg::MEMORY_Y_SIZE_LSB +: 16]),
    .x_size_i     (insn[kiln_accel_pkg::MEMORY_X_SIZE_LSB +: 16]),
    .x_stride_i   (insn[kiln_accel_pkg::MEMORY_X_STRIDE_LSB +: 16]),
    .y_pad_0_i    (insn[kiln_accel_pkg::MEMORY_Y_PAD_0_LSB +: 4]),
    .y_pad_1_i    (insn[kiln_accel_pkg::MEMORY_Y_PAD_1_LSB +: 4]),
    .x_pad_0_i    (insn[kiln_accel_pkg::MEMORY_X_PAD_0_LSB +: 4]),
    .x_pad_1_i    (insn[kiln_accel_pkg::MEMORY_X_PAD_1_LSB +: 4]),
    .elem_log2_i  (elem_log2),
    .depth_i      (depth),
    .dram_offset_i,
    .done_o       (dma_done),
    .error_code_o (dma_err),
    .wr_valid_o   (wr_valid),
    .wr_addr_o    (wr_addr),
    .wr_data_o    (wr_data),
    .ar_valid_o, .ar_ready_i, .ar_addr_o, .ar_len_o,
    .r_valid_i, .r_ready_o, .r_data_i, .r_err_i,
    .dma_bytes_o
  );

  logic [AccTileW-1:0] acc_wdata;
  always_comb begin
    acc_wdata = wr_data[AccTileW-1:0];
    if (mem_q == kiln_accel_pkg::MEM_ACC8) begin
      for (int unsigned e = 0; e < Elems; e++) begin
        acc_wdata[e * AccW +: AccW] = AccW'($signed(wr_data[e * OutW +: OutW]));
      end
    end
  end

  // GEMM and ALU.
  logic dp_done, dp_error, dp_busy, unused_dp_ready;
  logic [7:0] dp_err;
  logic [AccTileW-1:0] unused_acc_rdata;
  kiln_compute_datapath u_datapath (
    .clk_i, .rst_ni,
    .insn_valid_i   (exec_start && is_datapath),
    .insn_ready_o   (unused_dp_ready),
    .insn_i         (insn),
    .done_o         (dp_done),
    .error_o        (dp_error),
    .error_code_o   (dp_err),
    .uop_we_i       (wr_valid && mem_q == kiln_accel_pkg::MEM_UOP),
    .uop_waddr_i    (wr_addr[UopAddrW-1:0]),
    .uop_wdata_i    (wr_data[UopW-1:0]),
    .inp_we_i, .inp_waddr_i, .inp_wdata_i,
    .wgt_we_i, .wgt_waddr_i, .wgt_wdata_i,
    .ext_acc_we_i   (wr_valid && mem_q != kiln_accel_pkg::MEM_UOP),
    .ext_acc_waddr_i(wr_addr[AccAddrW-1:0]),
    .ext_acc_wdata_i(acc_wdata),
    .ext_acc_re_i   (1'b0),
    .ext_acc_raddr_i('0),
    .ext_acc_rdata_o(unused_acc_rdata),
    .out_re_i, .out_raddr_i, .out_rdata_o,
    .busy_o         (dp_busy),
    .gemm_uop_o, .alu_uop_o
  );

  // FINISH completes in the cycle after it starts (the sync waits for exec_done after it).
  logic finish_done_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) finish_done_q <= 1'b0;
    else finish_done_q <= finish_o;
  end
  assign finish_o  = exec_start && is_finish && !bad;
  assign exec_done = finish_done_q || (dma_done && dma_err == kiln_accel_pkg::ERR_NONE) || dp_done;
  assign error_o   = flag_error || (exec_start && bad) ||
                     (dma_done && dma_err != kiln_accel_pkg::ERR_NONE) || dp_error;
  always_comb begin
    error_code_o = kiln_accel_pkg::ERR_NONE;
    if (flag_error) error_code_o = kiln_accel_pkg::ERR_TOKEN_FLAG;
    else if (exec_start && bad) error_code_o = kiln_accel_pkg::ERR_BAD_INSN;
    else if (dp_error) error_code_o = dp_err;
    else if (dma_done) error_code_o = dma_err;
  end
  assign error_insn_o = cmd_data_i[InsnW +: 32];
  assign busy_o       = dp_busy;  // a GEMM or ALU still running (it always completes)

  logic gemm_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) gemm_q <= 1'b0;
    else if (exec_start) gemm_q <= opcode == kiln_accel_pkg::OPCODE_GEMM;
  end
  assign busy_gemm_o  = exec_busy && datapath_q && gemm_q;
  assign busy_alu_o   = exec_busy && datapath_q && !gemm_q;
  assign busy_load_o  = exec_busy && load_q;
  assign stall_dram_o = busy_load_o && !wr_valid;

  logic unused;
  assign unused = ^{wr_addr, wr_data, unused_dp_ready, unused_acc_rdata};
endmodule
