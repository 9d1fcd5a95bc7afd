// The store module: executes STORE of out tiles from its command queue, in order, under
// the dependency-token protocol (it pops compute_to_store and pushes store_to_compute;
// flags naming a "next" queue are a TOKEN_FLAG fault). Padding or reserved bits set are
// BAD_INSN.
module kiln_store #(
  localparam int unsigned InsnW    = kiln_accel_pkg::INSN_WIDTH,
  localparam int unsigned CmdW     = InsnW + 32,
  localparam int unsigned BeatW    = kiln_accel_pkg::AXI_WIDTH,
  localparam int unsigned OutTileW = kiln_accel_pkg::OUT_TILE_BITS,
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
  // Token queues: compute_to_store (popped), store_to_compute (pushed).
  input  logic                c2s_can_pop_i,
  output logic                c2s_pop_o,
  input  logic                s2c_can_push_i,
  output logic                s2c_push_o,
  // The out buffer's read port.
  output logic                out_re_o,
  output logic [AccAddrW-1:0] out_raddr_o,
  input  logic [OutTileW-1:0] out_rdata_i,
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
  // AXI4 write channels.
  output logic                aw_valid_o,
  input  logic                aw_ready_i,
  output logic [63:0]         aw_addr_o,
  output logic [7:0]          aw_len_o,
  output logic                w_valid_o,
  input  logic                w_ready_i,
  output logic [BeatW-1:0]    w_data_o,
  output logic                w_last_o,
  input  logic                b_valid_i,
  output logic                b_ready_o,
  input  logic                b_err_i
);
  logic [InsnW-1:0] insn;
  assign insn = cmd_data_i[InsnW-1:0];

  logic exec_start, exec_done, flag_error;
  logic unused_stall_next, unused_next_pop, unused_next_push;
  kiln_insn_sync #(.HasPrev(1'b1), .HasNext(1'b0)) u_sync (
    .clk_i, .rst_ni, .clear_i, .halt_i,
    .insn_valid_i   (cmd_valid_i),
    .pop_prev_i     (insn[kiln_accel_pkg::INSN_POP_PREV_LSB]),
    .pop_next_i     (insn[kiln_accel_pkg::INSN_POP_NEXT_LSB]),
    .push_prev_i    (insn[kiln_accel_pkg::INSN_PUSH_PREV_LSB]),
    .push_next_i    (insn[kiln_accel_pkg::INSN_PUSH_NEXT_LSB]),
    .prev_can_pop_i (c2s_can_pop_i),
    .next_can_pop_i (1'b0),
    .prev_can_push_i(s2c_can_push_i),
    .next_can_push_i(1'b0),
    .prev_pop_o     (c2s_pop_o),
    .next_pop_o     (unused_next_pop),
    .prev_push_o    (s2c_push_o),
    .next_push_o    (unused_next_push),
    .exec_start_o   (exec_start),
    .exec_done_i    (exec_done),
    .insn_done_o    (cmd_pop_o),
    .flag_error_o   (flag_error),
    .stall_pop_prev_o(stall_token_o),
    .stall_pop_next_o(unused_stall_next),
    .stall_push_o   (stall_push_o),
    .exec_busy_o    (exec_busy_o)
  );
  assign insn_done_o = cmd_pop_o;

  logic bad;
  assign bad = (insn >> kiln_accel_pkg::MEMORY_BITS) != '0 ||
               insn[kiln_accel_pkg::MEMORY_Y_PAD_0_LSB +: 4] != '0 ||
               insn[kiln_accel_pkg::MEMORY_Y_PAD_1_LSB +: 4] != '0 ||
               insn[kiln_accel_pkg::MEMORY_X_PAD_0_LSB +: 4] != '0 ||
               insn[kiln_accel_pkg::MEMORY_X_PAD_1_LSB +: 4] != '0;

  logic dma_done;
  logic [7:0] dma_err;
  kiln_dma_store u_dma (
    .clk_i, .rst_ni, .halt_i,
    .start_i      (exec_start && !bad),
    .sram_base_i  (insn[kiln_accel_pkg::MEMORY_SRAM_BASE_LSB +: kiln_accel_pkg::MEMORY_SRAM_BASE_W]),
    .dram_base_i  (insn[kiln_accel_pkg::MEMORY_DRAM_BASE_LSB +: 32]),
    .y_size_i     (insn[kiln_accel_pkg::MEMORY_Y_SIZE_LSB +: 16]),
    .x_size_i     (insn[kiln_accel_pkg::MEMORY_X_SIZE_LSB +: 16]),
    .x_stride_i   (insn[kiln_accel_pkg::MEMORY_X_STRIDE_LSB +: 16]),
    .dram_offset_i,
    .done_o       (dma_done),
    .error_code_o (dma_err),
    .out_re_o, .out_raddr_o, .out_rdata_i,
    .aw_valid_o, .aw_ready_i, .aw_addr_o, .aw_len_o,
    .w_valid_o, .w_ready_i, .w_data_o, .w_last_o,
    .b_valid_i, .b_ready_o, .b_err_i,
    .dma_bytes_o
  );

  assign exec_done    = dma_done && dma_err == kiln_accel_pkg::ERR_NONE;
  assign error_o      = flag_error || (exec_start && bad) ||
                        (dma_done && dma_err != kiln_accel_pkg::ERR_NONE);
  assign error_code_o = flag_error ? kiln_accel_pkg::ERR_TOKEN_FLAG :
                        (exec_start && bad) ? kiln_accel_pkg::ERR_BAD_INSN : dma_err;
  assign error_insn_o = cmd_data_i[InsnW +: 32];
  assign busy_o       = exec_busy_o;
  assign stall_dram_o = exec_busy_o && dma_bytes_o == '0;

  logic unused;
  assign unused = ^{unused_stall_next, unused_next_pop, unused_next_push};
endmodule
