// The load module: executes LOAD of inp and wgt tiles from its command queue, in order,
// under the dependency-token protocol (it pops compute_to_load and pushes load_to_compute;
// flags naming a "previous" queue are a TOKEN_FLAG fault). Reserved bits set are BAD_INSN.
module kiln_load #(
  localparam int unsigned InsnW    = kiln_accel_pkg::INSN_WIDTH,
  localparam int unsigned CmdW     = InsnW + 32,
  localparam int unsigned BeatW    = kiln_accel_pkg::AXI_WIDTH,
  localparam int unsigned InpTileW = kiln_accel_pkg::INP_TILE_BITS,
  localparam int unsigned WgtTileW = kiln_accel_pkg::WGT_TILE_BITS,
  localparam int unsigned ElemW    = InpTileW > WgtTileW ? InpTileW : WgtTileW,
  localparam int unsigned InpAddrW = $clog2(kiln_accel_pkg::INP_DEPTH),
  localparam int unsigned WgtAddrW = $clog2(kiln_accel_pkg::WGT_DEPTH)
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
  // Token queues: compute_to_load (popped), load_to_compute (pushed).
  input  logic                c2l_can_pop_i,
  output logic                c2l_pop_o,
  input  logic                l2c_can_push_i,
  output logic                l2c_push_o,
  // The inp and wgt buffers' write ports.
  output logic                inp_we_o,
  output logic [InpAddrW-1:0] inp_waddr_o,
  output logic [InpTileW-1:0] inp_wdata_o,
  output logic                wgt_we_o,
  output logic [WgtAddrW-1:0] wgt_waddr_o,
  output logic [WgtTileW-1:0] wgt_wdata_o,
  // A fault (one cycle).
  output logic                error_o,
  output logic [7:0]          error_code_o,
  output logic [31:0]         error_insn_o,
  output logic                busy_o,
  // Counters.
  output logic                insn_done_o,
  output logic                exec_busy_o,
  output logic                stall_token_o,
  output logic                stall_push_o,
  output logic                stall_dram_o,
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

  logic exec_start, exec_done, flag_error;
  logic unused_stall_prev, unused_prev_pop, unused_prev_push;
  kiln_insn_sync #(.HasPrev(1'b0), .HasNext(1'b1)) u_sync (
    .clk_i, .rst_ni, .clear_i, .halt_i,
    .insn_valid_i   (cmd_valid_i),
    .pop_prev_i     (insn[kiln_accel_pkg::INSN_POP_PREV_LSB]),
    .pop_next_i     (insn[kiln_accel_pkg::INSN_POP_NEXT_LSB]),
    .push_prev_i    (insn[kiln_accel_pkg::INSN_PUSH_PREV_LSB]),
    .push_next_i    (insn[kiln_accel_pkg::INSN_PUSH_NEXT_LSB]),
    .prev_can_pop_i (1'b0),
    .next_can_pop_i (c2l_can_pop_i),
    .prev_can_push_i(1'b0),
    .next_can_push_i(l2c_can_push_i),
    .prev_pop_o     (unused_prev_pop),
    .next_pop_o     (c2l_pop_o),
    .prev_push_o    (unused_prev_push),
    .next_push_o    (l2c_push_o),
    .exec_start_o   (exec_start),
    .exec_done_i    (exec_done),
    .insn_done_o    (cmd_pop_o),
    .flag_error_o   (flag_error),
    .stall_pop_prev_o(unused_stall_prev),
    .stall_pop_next_o(stall_token_o),
    .stall_push_o   (stall_push_o),
    .exec_busy_o    (exec_busy_o)
  );
  assign insn_done_o = cmd_pop_o;

  logic reserved_set, is_wgt_q, dma_done;
  logic [7:0] dma_err;
  assign reserved_set = (insn >> kiln_accel_pkg::MEMORY_BITS) != '0;
  always_ff @(posedge clk_i) begin
    if (exec_start) begin
      is_wgt_q <= insn[kiln_accel_pkg::MEMORY_MEMORY_TYPE_LSB +: kiln_accel_pkg::MEMORY_MEMORY_TYPE_W]
                  == kiln_accel_pkg::MEM_WGT;
    end
  end
  logic is_wgt;
  assign is_wgt = insn[kiln_accel_pkg::MEMORY_MEMORY_TYPE_LSB +: kiln_accel_pkg::MEMORY_MEMORY_TYPE_W]
                  == kiln_accel_pkg::MEM_WGT;

  logic wr_valid;
  logic [31:0] wr_addr;
  logic [ElemW-1:0] wr_data;
  // Input and weight tiles are whole beats (a rule of the spec).
  kiln_dma_load #(.ElemW(ElemW), .Narrow(1'b0)) u_dma (
    .clk_i, .rst_ni, .halt_i,
    .start_i      (exec_start && !reserved_set),
    .sram_base_i  (insn[kiln_accel_pkg::MEMORY_SRAM_BASE_LSB +: kiln_accel_pkg::MEMORY_SRAM_BASE_W]),
    .dram_base_i  (insn[kiln_accel_pkg::MEMORY_DRAM_BASE_LSB +: 32]),
    .y_size_i     (insn[kiln_accel_pkg::MEMORY_Y_SIZE_LSB +: 16]),
    .x_size_i     (insn[kiln_accel_pkg::MEMORY_X_SIZE_LSB +: 16]),
    .x_stride_i   (insn[kiln_accel_pkg::MEMORY_X_STRIDE_LSB +: 16]),
    .y_pad_0_i    (insn[kiln_accel_pkg::MEMORY_Y_PAD_0_LSB +: 4]),
    .y_pad_1_i    (insn[kiln_accel_pkg::MEMORY_Y_PAD_1_LSB +: 4]),
    .x_pad_0_i    (insn[kiln_accel_pkg::MEMORY_X_PAD_0_LSB +: 4]),
    .x_pad_1_i    (insn[kiln_accel_pkg::MEMORY_X_PAD_1_LSB +: 4]),
    .elem_log2_i  (is_wgt ? 5'($clog2(WgtTileW / 8)) : 5'($clog2(InpTileW / 8))),
    .depth_i      (is_wgt ? 32'(kiln_accel_pkg::WGT_DEPTH) : 32'(kiln_accel_pkg::INP_DEPTH)),
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

  assign inp_we_o    = wr_valid && !is_wgt_q;
  assign inp_waddr_o = wr_addr[InpAddrW-1:0];
  assign inp_wdata_o = wr_data[InpTileW-1:0];
  assign wgt_we_o    = wr_valid && is_wgt_q;
  assign wgt_waddr_o = wr_addr[WgtAddrW-1:0];
  assign wgt_wdata_o = wr_data[WgtTileW-1:0];

  assign exec_done    = dma_done && dma_err == kiln_accel_pkg::ERR_NONE;
  assign error_o      = flag_error || (exec_start && reserved_set) ||
                        (dma_done && dma_err != kiln_accel_pkg::ERR_NONE);
  assign error_code_o = flag_error ? kiln_accel_pkg::ERR_TOKEN_FLAG :
                        (exec_start && reserved_set) ? kiln_accel_pkg::ERR_BAD_INSN : dma_err;
  assign error_insn_o = cmd_data_i[InsnW +: 32];
  assign busy_o       = exec_busy_o;
  assign stall_dram_o = exec_busy_o && !wr_valid;

  logic unused;
  assign unused = ^{wr_addr, wr_data, unused_stall_prev, unused_prev_pop, unused_prev_push};
endmodule
