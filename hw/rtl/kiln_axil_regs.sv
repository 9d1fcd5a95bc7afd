// The accelerator's control and status registers on an AXI4-Lite slave, with the map of
// the spec (kiln_accel_pkg::REG_*): CONTROL (START, CLEAR_COUNTERS; self-clearing), STATUS,
// ERROR_INSN, INSN_ADDR, INSN_COUNT, DRAM_BASE, the read-only CONFIG_HASH and ISA_VERSION,
// and the 64-bit performance counters.
//
// The counters live here: each adds its counter_inc_i lane every cycle, and CLEAR_COUNTERS
// zeroes them all. Reading a counter's low word latches its high word, which the next read
// of a high word returns, so a driver reads a consistent 64-bit value while it counts.
//
// One transaction per channel at a time. Byte strobes apply to the read-write registers;
// writes to read-only or unmapped offsets are ignored and unmapped offsets read as zero,
// with an OKAY response (a bus error would take down a Zynq's Linux).
module kiln_axil_regs #(
  parameter int unsigned IncW = 16,  // bits of a counter's per-cycle increment
  localparam int unsigned AddrW = kiln_accel_pkg::MMIO_ADDR_W,
  localparam int unsigned NumCounters = kiln_accel_pkg::NUM_COUNTERS
) (
  input  logic                       clk_i,
  input  logic                       rst_ni,
  // AXI4-Lite slave.
  input  logic                       s_axil_awvalid_i,
  output logic                       s_axil_awready_o,
  input  logic [AddrW-1:0]           s_axil_awaddr_i,
  input  logic                       s_axil_wvalid_i,
  output logic                       s_axil_wready_o,
  input  logic [31:0]                s_axil_wdata_i,
  input  logic [3:0]                 s_axil_wstrb_i,
  output logic                       s_axil_bvalid_o,
  input  logic                       s_axil_bready_i,
  output logic [1:0]                 s_axil_bresp_o,
  input  logic                       s_axil_arvalid_i,
  output logic                       s_axil_arready_o,
  input  logic [AddrW-1:0]           s_axil_araddr_i,
  output logic                       s_axil_rvalid_o,
  input  logic                       s_axil_rready_i,
  output logic [31:0]                s_axil_rdata_o,
  output logic [1:0]                 s_axil_rresp_o,
  // To the accelerator.
  output logic                       start_o,           // one cycle
  output logic [63:0]                insn_addr_o,
  output logic [31:0]                insn_count_o,
  output logic [63:0]                dram_base_o,
  // From the accelerator.
  input  logic                       done_i,
  input  logic                       busy_i,
  input  logic                       error_i,
  input  logic [7:0]                 error_code_i,
  input  logic [31:0]                error_insn_i,
  input  logic [NumCounters*IncW-1:0] counter_inc_i    // counter k: bits [k*IncW +: IncW]
);
  localparam logic [1:0] RespOkay = 2'b00;

  // --- Write channel ------------------------------------------------------------------------
  logic             aw_have_q, w_have_q, b_valid_q;
  logic [AddrW-1:0] aw_addr_q;
  logic [31:0]      w_data_q;
  logic [3:0]       w_strb_q;
  logic             do_write;

  assign s_axil_awready_o = !aw_have_q && !b_valid_q;
  assign s_axil_wready_o  = !w_have_q && !b_valid_q;
  assign do_write         = aw_have_q && w_have_q && !b_valid_q;
  assign s_axil_bvalid_o  = b_valid_q;
  assign s_axil_bresp_o   = RespOkay;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      aw_have_q <= 1'b0;
      w_have_q  <= 1'b0;
      b_valid_q <= 1'b0;
    end else begin
      if (s_axil_awvalid_i && s_axil_awready_o) aw_have_q <= 1'b1;
      if (s_axil_wvalid_i && s_axil_wready_o) w_have_q <= 1'b1;
      if (do_write) begin
        aw_have_q <= 1'b0;
        w_have_q  <= 1'b0;
        b_valid_q <= 1'b1;
      end
      if (b_valid_q && s_axil_bready_i) b_valid_q <= 1'b0;
    end
  end
  always_ff @(posedge clk_i) begin
    if (s_axil_awvalid_i && s_axil_awready_o) aw_addr_q <= s_axil_awaddr_i;
    if (s_axil_wvalid_i && s_axil_wready_o) begin
      w_data_q <= s_axil_wdata_i;
      w_strb_q <= s_axil_wstrb_i;
    end
  end

  function automatic logic [31:0] merge(input logic [31:0] old, input logic [31:0] data,
                                        input logic [3:0] strb);
    logic [31:0] r;
    for (int unsigned b = 0; b < 4; b++) r[b * 8 +: 8] = strb[b] ? data[b * 8 +: 8] : old[b * 8 +: 8];
    merge = r;
  endfunction

  // --- Read-write registers -----------------------------------------------------------------
  logic [31:0] insn_addr_lo_q, insn_addr_hi_q, insn_count_q, dram_base_lo_q, dram_base_hi_q;
  logic        start_q, clear_q;
  logic [31:0] control_wdata;
  assign control_wdata = merge('0, w_data_q, w_strb_q);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      insn_addr_lo_q <= '0;
      insn_addr_hi_q <= '0;
      insn_count_q   <= '0;
      dram_base_lo_q <= '0;
      dram_base_hi_q <= '0;
      start_q        <= 1'b0;
      clear_q        <= 1'b0;
    end else begin
      start_q <= 1'b0;
      clear_q <= 1'b0;
      if (do_write) begin
        unique case (aw_addr_q)
          AddrW'(kiln_accel_pkg::REG_CONTROL): begin
            start_q <= control_wdata[kiln_accel_pkg::REG_CONTROL_START_LSB];
            clear_q <= control_wdata[kiln_accel_pkg::REG_CONTROL_CLEAR_COUNTERS_LSB];
          end
          AddrW'(kiln_accel_pkg::REG_INSN_ADDR_LO):
            insn_addr_lo_q <= merge(insn_addr_lo_q, w_data_q, w_strb_q);
          AddrW'(kiln_accel_pkg::REG_INSN_ADDR_HI):
            insn_addr_hi_q <= merge(insn_addr_hi_q, w_data_q, w_strb_q);
          AddrW'(kiln_accel_pkg::REG_INSN_COUNT):
            insn_count_q <= merge(insn_count_q, w_data_q, w_strb_q);
          AddrW'(kiln_accel_pkg::REG_DRAM_BASE_LO):
            dram_base_lo_q <= merge(dram_base_lo_q, w_data_q, w_strb_q);
          AddrW'(kiln_accel_pkg::REG_DRAM_BASE_HI):
            dram_base_hi_q <= merge(dram_base_hi_q, w_data_q, w_strb_q);
          default: ;
        endcase
      end
    end
  end
  assign start_o      = start_q;
  assign insn_addr_o  = {insn_addr_hi_q, insn_addr_lo_q};
  assign insn_count_o = insn_count_q;
  assign dram_base_o  = {dram_base_hi_q, dram_base_lo_q};

  // --- Performance counters -----------------------------------------------------------------
  logic [NumCounters*64-1:0] counters_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      counters_q <= '0;
    end else begin
      for (int unsigned k = 0; k < NumCounters; k++) begin
        if (clear_q) counters_q[k * 64 +: 64] <= '0;
        else counters_q[k * 64 +: 64] <= counters_q[k * 64 +: 64] + 64'(counter_inc_i[k * IncW +: IncW]);
      end
    end
  end

  // --- Read channel -------------------------------------------------------------------------
  logic        r_valid_q;
  logic [31:0] r_data_q, r_data_d, latch_q, latch_d;
  logic [31:0] status;

  always_comb begin
    status = '0;
    status[kiln_accel_pkg::REG_STATUS_DONE_LSB]  = done_i;
    status[kiln_accel_pkg::REG_STATUS_BUSY_LSB]  = busy_i;
    status[kiln_accel_pkg::REG_STATUS_ERROR_LSB] = error_i;
    status[kiln_accel_pkg::REG_STATUS_ERROR_CODE_LSB +: kiln_accel_pkg::REG_STATUS_ERROR_CODE_W] =
        error_code_i;
  end

  always_comb begin
    logic [AddrW-1:0] a;
    a = s_axil_araddr_i;
    r_data_d = '0;
    latch_d  = latch_q;
    unique case (a)
      AddrW'(kiln_accel_pkg::REG_STATUS):       r_data_d = status;
      AddrW'(kiln_accel_pkg::REG_ERROR_INSN):   r_data_d = error_insn_i;
      AddrW'(kiln_accel_pkg::REG_INSN_ADDR_LO): r_data_d = insn_addr_lo_q;
      AddrW'(kiln_accel_pkg::REG_INSN_ADDR_HI): r_data_d = insn_addr_hi_q;
      AddrW'(kiln_accel_pkg::REG_INSN_COUNT):   r_data_d = insn_count_q;
      AddrW'(kiln_accel_pkg::REG_DRAM_BASE_LO): r_data_d = dram_base_lo_q;
      AddrW'(kiln_accel_pkg::REG_DRAM_BASE_HI): r_data_d = dram_base_hi_q;
      AddrW'(kiln_accel_pkg::REG_CONFIG_HASH):  r_data_d = kiln_accel_pkg::CONFIG_HASH;
      AddrW'(kiln_accel_pkg::REG_ISA_VERSION):  r_data_d = kiln_accel_pkg::ISA_VERSION;
      default: begin
        for (int unsigned k = 0; k < NumCounters; k++) begin
          if (a == AddrW'(kiln_accel_pkg::COUNTERS_BASE + 8 * k)) begin
            r_data_d = counters_q[k * 64 +: 32];
            latch_d  = counters_q[k * 64 + 32 +: 32];
          end
          if (a == AddrW'(kiln_accel_pkg::COUNTERS_BASE + 8 * k + 4)) r_data_d = latch_q;
        end
      end
    endcase
  end

  assign s_axil_arready_o = !r_valid_q;
  assign s_axil_rvalid_o  = r_valid_q;
  assign s_axil_rdata_o   = r_data_q;
  assign s_axil_rresp_o   = RespOkay;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      r_valid_q <= 1'b0;
      r_data_q  <= '0;
      latch_q   <= '0;
    end else begin
      if (s_axil_arvalid_i && s_axil_arready_o) begin
        r_valid_q <= 1'b1;
        r_data_q  <= r_data_d;
        latch_q   <= latch_d;
      end else if (r_valid_q && s_axil_rready_i) begin
        r_valid_q <= 1'b0;
      end
    end
  end
endmodule
