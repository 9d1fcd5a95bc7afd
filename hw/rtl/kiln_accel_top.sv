// The Kiln accelerator: an AXI4-Lite slave for control and status, an AXI4 master for
// memory, and between them fetch, load, compute and store joined by three command queues
// and four dependency-token queues. This module only wires.
module kiln_accel_top #(
  parameter int unsigned AxiAddrW = 32,
  parameter int unsigned WatchdogLog = $clog2(kiln_accel_pkg::TIMING_WATCHDOG_CYCLES),
  localparam int unsigned RegAddrW = kiln_accel_pkg::MMIO_ADDR_W,
  localparam int unsigned DataW = kiln_accel_pkg::AXI_WIDTH,
  localparam int unsigned InsnW = kiln_accel_pkg::INSN_WIDTH,
  localparam int unsigned CmdW = InsnW + 32,
  localparam int unsigned CmdDepth = kiln_accel_pkg::INSN_QUEUE_DEPTH,
  localparam int unsigned InpTileW = kiln_accel_pkg::INP_TILE_BITS,
  localparam int unsigned WgtTileW = kiln_accel_pkg::WGT_TILE_BITS,
  localparam int unsigned OutTileW = kiln_accel_pkg::OUT_TILE_BITS,
  localparam int unsigned InpAddrW = $clog2(kiln_accel_pkg::INP_DEPTH),
  localparam int unsigned WgtAddrW = $clog2(kiln_accel_pkg::WGT_DEPTH),
  localparam int unsigned AccAddrW = $clog2(kiln_accel_pkg::ACC_DEPTH),
  localparam int unsigned IncW = 16
) (
  input  logic                clk_i,
  input  logic                rst_ni,
  // AXI4-Lite slave: control and status.
  input  logic                s_axil_awvalid_i,
  output logic                s_axil_awready_o,
  input  logic [RegAddrW-1:0] s_axil_awaddr_i,
  input  logic                s_axil_wvalid_i,
  output logic                s_axil_wready_o,
  input  logic [31:0]         s_axil_wdata_i,
  input  logic [3:0]          s_axil_wstrb_i,
  output logic                s_axil_bvalid_o,
  input  logic                s_axil_bready_i,
  output logic [1:0]          s_axil_bresp_o,
  input  logic                s_axil_arvalid_i,
  output logic                s_axil_arready_o,
  input  logic [RegAddrW-1:0] s_axil_araddr_i,
  output logic                s_axil_rvalid_o,
  input  logic                s_axil_rready_i,
  output logic [31:0]         s_axil_rdata_o,
  output logic [1:0]          s_axil_rresp_o,
  // AXI4 master: memory.
  output logic                m_axi_arvalid_o,
  input  logic                m_axi_arready_i,
  output logic [1:0]          m_axi_arid_o,
  output logic [AxiAddrW-1:0] m_axi_araddr_o,
  output logic [7:0]          m_axi_arlen_o,
  output logic [2:0]          m_axi_arsize_o,
  output logic [1:0]          m_axi_arburst_o,
  output logic [3:0]          m_axi_arcache_o,
  output logic [2:0]          m_axi_arprot_o,
  input  logic                m_axi_rvalid_i,
  output logic                m_axi_rready_o,
  input  logic [1:0]          m_axi_rid_i,
  input  logic [DataW-1:0]    m_axi_rdata_i,
  input  logic [1:0]          m_axi_rresp_i,
  input  logic                m_axi_rlast_i,
  output logic                m_axi_awvalid_o,
  input  logic                m_axi_awready_i,
  output logic [1:0]          m_axi_awid_o,
  output logic [AxiAddrW-1:0] m_axi_awaddr_o,
  output logic [7:0]          m_axi_awlen_o,
  output logic [2:0]          m_axi_awsize_o,
  output logic [1:0]          m_axi_awburst_o,
  output logic [3:0]          m_axi_awcache_o,
  output logic [2:0]          m_axi_awprot_o,
  output logic                m_axi_wvalid_o,
  input  logic                m_axi_wready_i,
  output logic [DataW-1:0]    m_axi_wdata_o,
  output logic [DataW/8-1:0]  m_axi_wstrb_o,
  output logic                m_axi_wlast_o,
  input  logic                m_axi_bvalid_i,
  output logic                m_axi_bready_o,
  input  logic [1:0]          m_axi_bid_i,
  input  logic [1:0]          m_axi_bresp_i
);
  // --- Signals ------------------------------------------------------------------------------
  logic start, fetch_start, clear, halt, running, done, busy, error;
  logic [7:0] error_code;
  logic [31:0] error_insn, insn_count;
  logic [63:0] insn_addr, dram_base;
  logic axi_idle, dp_busy, finish;

  // Command queues: load (0), compute (1), store (2).
  logic [2:0] cmd_in_valid, cmd_in_ready, cmd_out_valid, cmd_pop;
  logic [CmdW-1:0] cmd_in_data;
  logic [CmdW-1:0] load_cmd, compute_cmd, store_cmd;
  logic [$clog2(CmdDepth + 1)-1:0] load_queue_count, compute_queue_count, store_queue_count;

  // Token queues.
  logic l2c_push, l2c_pop, l2c_can_push, l2c_can_pop;
  logic c2l_push, c2l_pop, c2l_can_push, c2l_can_pop;
  logic c2s_push, c2s_pop, c2s_can_push, c2s_can_pop;
  logic s2c_push, s2c_pop, s2c_can_push, s2c_can_pop;

  // Faults.
  logic fetch_err, load_err, compute_err, store_err;
  logic [7:0] fetch_code, load_code, compute_code, store_code;
  logic [31:0] fetch_insn, load_insn, compute_insn, store_insn;
  logic unused_load_busy, unused_store_busy, unused_fetch_busy;

  // Buffers between the modules.
  logic inp_we, wgt_we, out_re;
  logic [InpAddrW-1:0] inp_waddr;
  logic [WgtAddrW-1:0] wgt_waddr;
  logic [AccAddrW-1:0] out_raddr;
  logic [InpTileW-1:0] inp_wdata;
  logic [WgtTileW-1:0] wgt_wdata;
  logic [OutTileW-1:0] out_rdata;

  // DMA.
  logic [2:0] rd_ar_valid, rd_ar_ready, rd_r_valid, rd_r_ready;
  logic [63:0] fetch_ar_addr, load_ar_addr, compute_ar_addr, store_aw_addr;
  logic [7:0] fetch_ar_len, load_ar_len, compute_ar_len, store_aw_len;
  logic [DataW-1:0] rd_r_data, wr_w_data;
  logic rd_r_err, wr_aw_valid, wr_aw_ready, wr_w_valid, wr_w_ready, wr_w_last;
  logic wr_b_valid, wr_b_ready, wr_b_err;

  // Counters.
  logic fetch_dispatch, fetch_stall;
  logic [15:0] fetch_bytes, load_bytes, compute_bytes, store_bytes;
  logic load_done, load_busy, load_stall_token, load_stall_push, load_stall_dram;
  logic compute_done, busy_gemm, busy_alu, busy_load, stall_ltok, stall_stok, compute_stall_push;
  logic compute_stall_dram, gemm_uop, alu_uop;
  logic store_done, store_busy, store_stall_token, store_stall_push, store_stall_dram;

  // Each counter's increment, at its place in the spec's counter map (REG_<NAME>).
  localparam int unsigned NumCounters = kiln_accel_pkg::NUM_COUNTERS;
  localparam int unsigned CountersBase = kiln_accel_pkg::COUNTERS_BASE;
  logic [NumCounters*IncW-1:0] counter_inc;
  always_comb begin
    counter_inc = '0;
    counter_inc[(kiln_accel_pkg::REG_CYCLES - CountersBase) / 8 * IncW +: IncW] = IncW'(running);
    counter_inc[(kiln_accel_pkg::REG_FETCH_INSNS - CountersBase) / 8 * IncW +: IncW] = IncW'(fetch_dispatch);
    counter_inc[(kiln_accel_pkg::REG_FETCH_STALL_QUEUE - CountersBase) / 8 * IncW +: IncW] = IncW'(fetch_stall);
    counter_inc[(kiln_accel_pkg::REG_FETCH_DMA_BYTES - CountersBase) / 8 * IncW +: IncW] = IncW'(fetch_bytes);
    counter_inc[(kiln_accel_pkg::REG_LOAD_INSNS - CountersBase) / 8 * IncW +: IncW] = IncW'(load_done);
    counter_inc[(kiln_accel_pkg::REG_LOAD_BUSY - CountersBase) / 8 * IncW +: IncW] = IncW'(load_busy);
    counter_inc[(kiln_accel_pkg::REG_LOAD_STALL_TOKEN - CountersBase) / 8 * IncW +: IncW] = IncW'(load_stall_token);
    counter_inc[(kiln_accel_pkg::REG_LOAD_STALL_PUSH - CountersBase) / 8 * IncW +: IncW] = IncW'(load_stall_push);
    counter_inc[(kiln_accel_pkg::REG_LOAD_STALL_DRAM - CountersBase) / 8 * IncW +: IncW] = IncW'(load_stall_dram);
    counter_inc[(kiln_accel_pkg::REG_LOAD_DMA_BYTES - CountersBase) / 8 * IncW +: IncW] = IncW'(load_bytes);
    counter_inc[(kiln_accel_pkg::REG_COMPUTE_INSNS - CountersBase) / 8 * IncW +: IncW] = IncW'(compute_done);
    counter_inc[(kiln_accel_pkg::REG_COMPUTE_BUSY_GEMM - CountersBase) / 8 * IncW +: IncW] = IncW'(busy_gemm);
    counter_inc[(kiln_accel_pkg::REG_COMPUTE_BUSY_ALU - CountersBase) / 8 * IncW +: IncW] = IncW'(busy_alu);
    counter_inc[(kiln_accel_pkg::REG_COMPUTE_BUSY_LOAD - CountersBase) / 8 * IncW +: IncW] = IncW'(busy_load);
    counter_inc[(kiln_accel_pkg::REG_COMPUTE_STALL_LOAD_TOKEN - CountersBase) / 8 * IncW +: IncW] = IncW'(stall_ltok);
    counter_inc[(kiln_accel_pkg::REG_COMPUTE_STALL_STORE_TOKEN - CountersBase) / 8 * IncW +: IncW] = IncW'(stall_stok);
    counter_inc[(kiln_accel_pkg::REG_COMPUTE_STALL_PUSH - CountersBase) / 8 * IncW +: IncW] = IncW'(compute_stall_push);
    counter_inc[(kiln_accel_pkg::REG_COMPUTE_STALL_DRAM - CountersBase) / 8 * IncW +: IncW] = IncW'(compute_stall_dram);
    counter_inc[(kiln_accel_pkg::REG_COMPUTE_GEMM_UOPS - CountersBase) / 8 * IncW +: IncW] = IncW'(gemm_uop);
    counter_inc[(kiln_accel_pkg::REG_COMPUTE_ALU_UOPS - CountersBase) / 8 * IncW +: IncW] = IncW'(alu_uop);
    counter_inc[(kiln_accel_pkg::REG_COMPUTE_DMA_BYTES - CountersBase) / 8 * IncW +: IncW] = IncW'(compute_bytes);
    counter_inc[(kiln_accel_pkg::REG_STORE_INSNS - CountersBase) / 8 * IncW +: IncW] = IncW'(store_done);
    counter_inc[(kiln_accel_pkg::REG_STORE_BUSY - CountersBase) / 8 * IncW +: IncW] = IncW'(store_busy);
    counter_inc[(kiln_accel_pkg::REG_STORE_STALL_TOKEN - CountersBase) / 8 * IncW +: IncW] = IncW'(store_stall_token);
    counter_inc[(kiln_accel_pkg::REG_STORE_STALL_PUSH - CountersBase) / 8 * IncW +: IncW] = IncW'(store_stall_push);
    counter_inc[(kiln_accel_pkg::REG_STORE_STALL_DRAM - CountersBase) / 8 * IncW +: IncW] = IncW'(store_stall_dram);
    counter_inc[(kiln_accel_pkg::REG_STORE_DMA_BYTES - CountersBase) / 8 * IncW +: IncW] = IncW'(store_bytes);
    counter_inc[(kiln_accel_pkg::REG_LOAD_STALL_CMD - CountersBase) / 8 * IncW +: IncW] =
        IncW'(running && !cmd_out_valid[0]);
    counter_inc[(kiln_accel_pkg::REG_COMPUTE_STALL_CMD - CountersBase) / 8 * IncW +: IncW] =
        IncW'(running && !cmd_out_valid[1]);
    counter_inc[(kiln_accel_pkg::REG_STORE_STALL_CMD - CountersBase) / 8 * IncW +: IncW] =
        IncW'(running && !cmd_out_valid[2]);
  end

  kiln_axil_regs #(.IncW(IncW)) u_regs (
    .clk_i, .rst_ni,
    .s_axil_awvalid_i, .s_axil_awready_o, .s_axil_awaddr_i,
    .s_axil_wvalid_i, .s_axil_wready_o, .s_axil_wdata_i, .s_axil_wstrb_i,
    .s_axil_bvalid_o, .s_axil_bready_i, .s_axil_bresp_o,
    .s_axil_arvalid_i, .s_axil_arready_o, .s_axil_araddr_i,
    .s_axil_rvalid_o, .s_axil_rready_i, .s_axil_rdata_o, .s_axil_rresp_o,
    .start_o      (start),
    .insn_addr_o  (insn_addr),
    .insn_count_o (insn_count),
    .dram_base_o  (dram_base),
    .done_i       (done),
    .busy_i       (busy),
    .error_i      (error),
    .error_code_i (error_code),
    .error_insn_i (error_insn),
    .counter_inc_i(counter_inc)
  );

  kiln_run_ctrl #(.WatchdogLog(WatchdogLog)) u_run (
    .clk_i, .rst_ni,
    .start_i        (start),
    .finish_i       (finish),
    .progress_i     ({fetch_dispatch, load_done, compute_done, store_done,
                      m_axi_rvalid_i && m_axi_rready_o, m_axi_wvalid_o && m_axi_wready_i,
                      gemm_uop, alu_uop}),
    .quiet_i        ({axi_idle, !dp_busy}),
    .fault_i        ({store_err, compute_err, load_err, fetch_err}),
    .fault_code_i   ({store_code, compute_code, load_code, fetch_code}),
    .fault_insn_i   ({store_insn, compute_insn, load_insn, fetch_insn}),
    .watchdog_insn_i(fetch_insn),
    .clear_o        (clear),
    .fetch_start_o  (fetch_start),
    .halt_o         (halt),
    .running_o      (running),
    .done_o         (done),
    .busy_o         (busy),
    .error_o        (error),
    .error_code_o   (error_code),
    .error_insn_o   (error_insn)
  );

  // --- Fetch and the command queues ---------------------------------------------------------
  kiln_fetch u_fetch (
    .clk_i, .rst_ni,
    .halt_i       (halt),
    .start_i      (fetch_start),
    .insn_addr_i  (insn_addr),
    .insn_count_i (insn_count),
    .cmd_valid_o  (cmd_in_valid),
    .cmd_ready_i  (cmd_in_ready),
    .cmd_data_o   (cmd_in_data),
    .error_o      (fetch_err),
    .error_code_o (fetch_code),
    .error_insn_o (fetch_insn),
    .busy_o       (unused_fetch_busy),
    .dispatch_o   (fetch_dispatch),
    .stall_o      (fetch_stall),
    .dma_bytes_o  (fetch_bytes),
    .ar_valid_o   (rd_ar_valid[0]),
    .ar_ready_i   (rd_ar_ready[0]),
    .ar_addr_o    (fetch_ar_addr),
    .ar_len_o     (fetch_ar_len),
    .r_valid_i    (rd_r_valid[0]),
    .r_ready_o    (rd_r_ready[0]),
    .r_data_i     (rd_r_data),
    .r_err_i      (rd_r_err)
  );

  kiln_fifo #(.Width(CmdW), .Depth(CmdDepth)) u_load_queue (
    .clk_i, .rst_ni, .clear_i(clear),
    .in_valid_i(cmd_in_valid[0]), .in_ready_o(cmd_in_ready[0]), .in_data_i(cmd_in_data),
    .out_valid_o(cmd_out_valid[0]), .out_ready_i(cmd_pop[0]), .out_data_o(load_cmd),
    .count_o(load_queue_count)
  );
  kiln_fifo #(.Width(CmdW), .Depth(CmdDepth)) u_compute_queue (
    .clk_i, .rst_ni, .clear_i(clear),
    .in_valid_i(cmd_in_valid[1]), .in_ready_o(cmd_in_ready[1]), .in_data_i(cmd_in_data),
    .out_valid_o(cmd_out_valid[1]), .out_ready_i(cmd_pop[1]), .out_data_o(compute_cmd),
    .count_o(compute_queue_count)
  );
  kiln_fifo #(.Width(CmdW), .Depth(CmdDepth)) u_store_queue (
    .clk_i, .rst_ni, .clear_i(clear),
    .in_valid_i(cmd_in_valid[2]), .in_ready_o(cmd_in_ready[2]), .in_data_i(cmd_in_data),
    .out_valid_o(cmd_out_valid[2]), .out_ready_i(cmd_pop[2]), .out_data_o(store_cmd),
    .count_o(store_queue_count)
  );

  // --- Token queues -------------------------------------------------------------------------
  kiln_token_queue u_load_to_compute (
    .clk_i, .rst_ni, .clear_i(clear), .push_i(l2c_push), .pop_i(l2c_pop),
    .can_push_o(l2c_can_push), .can_pop_o(l2c_can_pop)
  );
  kiln_token_queue u_compute_to_load (
    .clk_i, .rst_ni, .clear_i(clear), .push_i(c2l_push), .pop_i(c2l_pop),
    .can_push_o(c2l_can_push), .can_pop_o(c2l_can_pop)
  );
  kiln_token_queue u_compute_to_store (
    .clk_i, .rst_ni, .clear_i(clear), .push_i(c2s_push), .pop_i(c2s_pop),
    .can_push_o(c2s_can_push), .can_pop_o(c2s_can_pop)
  );
  kiln_token_queue u_store_to_compute (
    .clk_i, .rst_ni, .clear_i(clear), .push_i(s2c_push), .pop_i(s2c_pop),
    .can_push_o(s2c_can_push), .can_pop_o(s2c_can_pop)
  );

  // --- Load, compute, store -----------------------------------------------------------------
  kiln_load u_load (
    .clk_i, .rst_ni, .clear_i(clear), .halt_i(halt), .dram_offset_i(dram_base),
    .cmd_valid_i(cmd_out_valid[0]), .cmd_pop_o(cmd_pop[0]), .cmd_data_i(load_cmd),
    .c2l_can_pop_i(c2l_can_pop), .c2l_pop_o(c2l_pop),
    .l2c_can_push_i(l2c_can_push), .l2c_push_o(l2c_push),
    .inp_we_o(inp_we), .inp_waddr_o(inp_waddr), .inp_wdata_o(inp_wdata),
    .wgt_we_o(wgt_we), .wgt_waddr_o(wgt_waddr), .wgt_wdata_o(wgt_wdata),
    .error_o(load_err), .error_code_o(load_code), .error_insn_o(load_insn),
    .busy_o(unused_load_busy),
    .insn_done_o(load_done), .exec_busy_o(load_busy), .stall_token_o(load_stall_token),
    .stall_push_o(load_stall_push), .stall_dram_o(load_stall_dram), .dma_bytes_o(load_bytes),
    .ar_valid_o(rd_ar_valid[1]), .ar_ready_i(rd_ar_ready[1]), .ar_addr_o(load_ar_addr),
    .ar_len_o(load_ar_len), .r_valid_i(rd_r_valid[1]), .r_ready_o(rd_r_ready[1]),
    .r_data_i(rd_r_data), .r_err_i(rd_r_err)
  );

  kiln_compute u_compute (
    .clk_i, .rst_ni, .clear_i(clear), .halt_i(halt), .dram_offset_i(dram_base),
    .cmd_valid_i(cmd_out_valid[1]), .cmd_pop_o(cmd_pop[1]), .cmd_data_i(compute_cmd),
    .l2c_can_pop_i(l2c_can_pop), .l2c_pop_o(l2c_pop),
    .s2c_can_pop_i(s2c_can_pop), .s2c_pop_o(s2c_pop),
    .c2l_can_push_i(c2l_can_push), .c2l_push_o(c2l_push),
    .c2s_can_push_i(c2s_can_push), .c2s_push_o(c2s_push),
    .inp_we_i(inp_we), .inp_waddr_i(inp_waddr), .inp_wdata_i(inp_wdata),
    .wgt_we_i(wgt_we), .wgt_waddr_i(wgt_waddr), .wgt_wdata_i(wgt_wdata),
    .out_re_i(out_re), .out_raddr_i(out_raddr), .out_rdata_o(out_rdata),
    .finish_o(finish),
    .error_o(compute_err), .error_code_o(compute_code), .error_insn_o(compute_insn),
    .busy_o(dp_busy),
    .insn_done_o(compute_done), .busy_gemm_o(busy_gemm), .busy_alu_o(busy_alu),
    .busy_load_o(busy_load), .stall_load_token_o(stall_ltok), .stall_store_token_o(stall_stok),
    .stall_push_o(compute_stall_push), .stall_dram_o(compute_stall_dram),
    .gemm_uop_o(gemm_uop), .alu_uop_o(alu_uop), .dma_bytes_o(compute_bytes),
    .ar_valid_o(rd_ar_valid[2]), .ar_ready_i(rd_ar_ready[2]), .ar_addr_o(compute_ar_addr),
    .ar_len_o(compute_ar_len), .r_valid_i(rd_r_valid[2]), .r_ready_o(rd_r_ready[2]),
    .r_data_i(rd_r_data), .r_err_i(rd_r_err)
  );

  kiln_store u_store (
    .clk_i, .rst_ni, .clear_i(clear), .halt_i(halt), .dram_offset_i(dram_base),
    .cmd_valid_i(cmd_out_valid[2]), .cmd_pop_o(cmd_pop[2]), .cmd_data_i(store_cmd),
    .c2s_can_pop_i(c2s_can_pop), .c2s_pop_o(c2s_pop),
    .s2c_can_push_i(s2c_can_push), .s2c_push_o(s2c_push),
    .out_re_o(out_re), .out_raddr_o(out_raddr), .out_rdata_i(out_rdata),
    .error_o(store_err), .error_code_o(store_code), .error_insn_o(store_insn),
    .busy_o(unused_store_busy),
    .insn_done_o(store_done), .exec_busy_o(store_busy), .stall_token_o(store_stall_token),
    .stall_push_o(store_stall_push), .stall_dram_o(store_stall_dram), .dma_bytes_o(store_bytes),
    .aw_valid_o(wr_aw_valid), .aw_ready_i(wr_aw_ready), .aw_addr_o(store_aw_addr),
    .aw_len_o(store_aw_len), .w_valid_o(wr_w_valid), .w_ready_i(wr_w_ready),
    .w_data_o(wr_w_data), .w_last_o(wr_w_last), .b_valid_i(wr_b_valid),
    .b_ready_o(wr_b_ready), .b_err_i(wr_b_err)
  );

  // --- Memory -------------------------------------------------------------------------------
  kiln_axi_master #(.AddrW(AxiAddrW)) u_axi (
    .clk_i, .rst_ni,
    .idle_o        (axi_idle),
    .rd_ar_valid_i (rd_ar_valid),
    .rd_ar_ready_o (rd_ar_ready),
    .rd_ar_addr_i  ({compute_ar_addr, load_ar_addr, fetch_ar_addr}),
    .rd_ar_len_i   ({compute_ar_len, load_ar_len, fetch_ar_len}),
    .rd_r_valid_o  (rd_r_valid),
    .rd_r_ready_i  (rd_r_ready),
    .rd_r_data_o   (rd_r_data),
    .rd_r_err_o    (rd_r_err),
    .wr_aw_valid_i (wr_aw_valid),
    .wr_aw_ready_o (wr_aw_ready),
    .wr_aw_addr_i  (store_aw_addr),
    .wr_aw_len_i   (store_aw_len),
    .wr_w_valid_i  (wr_w_valid),
    .wr_w_ready_o  (wr_w_ready),
    .wr_w_data_i   (wr_w_data),
    .wr_w_last_i   (wr_w_last),
    .wr_b_valid_o  (wr_b_valid),
    .wr_b_ready_i  (wr_b_ready),
    .wr_b_err_o    (wr_b_err),
    .m_axi_arvalid_o, .m_axi_arready_i, .m_axi_arid_o, .m_axi_araddr_o, .m_axi_arlen_o,
    .m_axi_arsize_o, .m_axi_arburst_o, .m_axi_arcache_o, .m_axi_arprot_o,
    .m_axi_rvalid_i, .m_axi_rready_o, .m_axi_rid_i, .m_axi_rdata_i, .m_axi_rresp_i,
    .m_axi_rlast_i,
    .m_axi_awvalid_o, .m_axi_awready_i, .m_axi_awid_o, .m_axi_awaddr_o, .m_axi_awlen_o,
    .m_axi_awsize_o, .m_axi_awburst_o, .m_axi_awcache_o, .m_axi_awprot_o,
    .m_axi_wvalid_o, .m_axi_wready_i, .m_axi_wdata_o, .m_axi_wstrb_o, .m_axi_wlast_o,
    .m_axi_bvalid_i, .m_axi_bready_o, .m_axi_bid_i, .m_axi_bresp_i
  );

  logic unused;
  assign unused = ^{unused_load_busy, unused_store_busy, unused_fetch_busy, load_queue_count,
                    compute_queue_count, store_queue_count};
endmodule
