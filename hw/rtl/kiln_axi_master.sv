// The accelerator's AXI4 master: all DMA goes through it. Three read clients (fetch 0,
// load 1, compute 2) share the read address channel, round-robin, with their index as
// ARID; read data returns to the client its RID names (each client keeps its bursts in
// order). The store module owns the write channels. Bursts are INCR of full-width beats.
module kiln_axi_master #(
  parameter int unsigned AddrW = 32,  // bits of the AXI address
  localparam int unsigned DataW = kiln_accel_pkg::AXI_WIDTH,
  localparam int unsigned NumRd = 3,
  localparam int unsigned IdW = 2
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  // No burst is outstanding or being requested.
  output logic                   idle_o,
  // Read clients.
  input  logic [NumRd-1:0]       rd_ar_valid_i,
  output logic [NumRd-1:0]       rd_ar_ready_o,
  input  logic [NumRd*64-1:0]    rd_ar_addr_i,
  input  logic [NumRd*8-1:0]     rd_ar_len_i,
  output logic [NumRd-1:0]       rd_r_valid_o,
  input  logic [NumRd-1:0]       rd_r_ready_i,
  output logic [DataW-1:0]       rd_r_data_o,
  output logic                   rd_r_err_o,
  // The write client.
  input  logic                   wr_aw_valid_i,
  output logic                   wr_aw_ready_o,
  input  logic [63:0]            wr_aw_addr_i,
  input  logic [7:0]             wr_aw_len_i,
  input  logic                   wr_w_valid_i,
  output logic                   wr_w_ready_o,
  input  logic [DataW-1:0]       wr_w_data_i,
  input  logic                   wr_w_last_i,
  output logic                   wr_b_valid_o,
  input  logic                   wr_b_ready_i,
  output logic                   wr_b_err_o,
  // AXI4 master.
  output logic                   m_axi_arvalid_o,
  input  logic                   m_axi_arready_i,
  output logic [IdW-1:0]         m_axi_arid_o,
  output logic [AddrW-1:0]       m_axi_araddr_o,
  output logic [7:0]             m_axi_arlen_o,
  output logic [2:0]             m_axi_arsize_o,
  output logic [1:0]             m_axi_arburst_o,
  output logic [3:0]             m_axi_arcache_o,
  output logic [2:0]             m_axi_arprot_o,
  input  logic                   m_axi_rvalid_i,
  output logic                   m_axi_rready_o,
  input  logic [IdW-1:0]         m_axi_rid_i,
  input  logic [DataW-1:0]       m_axi_rdata_i,
  input  logic [1:0]             m_axi_rresp_i,
  input  logic                   m_axi_rlast_i,
  output logic                   m_axi_awvalid_o,
  input  logic                   m_axi_awready_i,
  output logic [IdW-1:0]         m_axi_awid_o,
  output logic [AddrW-1:0]       m_axi_awaddr_o,
  output logic [7:0]             m_axi_awlen_o,
  output logic [2:0]             m_axi_awsize_o,
  output logic [1:0]             m_axi_awburst_o,
  output logic [3:0]             m_axi_awcache_o,
  output logic [2:0]             m_axi_awprot_o,
  output logic                   m_axi_wvalid_o,
  input  logic                   m_axi_wready_i,
  output logic [DataW-1:0]       m_axi_wdata_o,
  output logic [DataW/8-1:0]     m_axi_wstrb_o,
  output logic                   m_axi_wlast_o,
  input  logic                   m_axi_bvalid_i,
  output logic                   m_axi_bready_o,
  input  logic [IdW-1:0]         m_axi_bid_i,
  input  logic [1:0]             m_axi_bresp_i
);
  localparam logic [2:0] Size = 3'($clog2(DataW / 8));
  localparam logic [1:0] BurstIncr = 2'b01;
  localparam logic [3:0] CacheModifiable = 4'b0011;  // normal, non-cacheable, bufferable

  // --- Read address: round-robin, the grant held until the handshake ------------------------
  logic [IdW-1:0] last_q, held_q;
  logic           hold_q;
  // The first requesting client after the one served last (or the one held).
  logic [IdW-1:0] pick, rr;
  always_comb begin
    rr = last_q;
    for (int unsigned k = NumRd; k >= 1; k--) begin
      logic [IdW:0] c;  // last_q + k, wrapped below NumRd without a divider
      c = (IdW + 1)'(last_q) + (IdW + 1)'(k);
      if (c >= (IdW + 1)'(NumRd)) c = c - (IdW + 1)'(NumRd);
      if (rd_ar_valid_i[c[IdW-1:0]]) rr = c[IdW-1:0];
    end
    pick = (hold_q && rd_ar_valid_i[held_q]) ? held_q : rr;
  end

  assign m_axi_arvalid_o = rd_ar_valid_i[pick];
  assign m_axi_arid_o    = pick;
  assign m_axi_araddr_o  = AddrW'(rd_ar_addr_i[pick * 64 +: 64]);
  assign m_axi_arlen_o   = rd_ar_len_i[pick * 8 +: 8];
  assign m_axi_arsize_o  = Size;
  assign m_axi_arburst_o = BurstIncr;
  assign m_axi_arcache_o = CacheModifiable;
  assign m_axi_arprot_o  = 3'b000;
  always_comb begin
    rd_ar_ready_o = '0;
    rd_ar_ready_o[pick] = m_axi_arready_i;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      last_q <= '0;
      held_q <= '0;
      hold_q <= 1'b0;
    end else begin
      if (m_axi_arvalid_o && m_axi_arready_i) begin
        last_q <= pick;
        hold_q <= 1'b0;
      end else if (m_axi_arvalid_o) begin
        held_q <= pick;
        hold_q <= 1'b1;
      end
    end
  end

  // --- Read data: by ID ---------------------------------------------------------------------
  always_comb begin
    rd_r_valid_o = '0;
    rd_r_valid_o[m_axi_rid_i] = m_axi_rvalid_i;
  end
  assign m_axi_rready_o = rd_r_ready_i[m_axi_rid_i];
  assign rd_r_data_o    = m_axi_rdata_i;
  assign rd_r_err_o     = m_axi_rresp_i[1];  // SLVERR or DECERR

  // --- Writes -------------------------------------------------------------------------------
  assign m_axi_awvalid_o = wr_aw_valid_i;
  assign wr_aw_ready_o   = m_axi_awready_i;
  assign m_axi_awid_o    = '0;
  assign m_axi_awaddr_o  = AddrW'(wr_aw_addr_i);
  assign m_axi_awlen_o   = wr_aw_len_i;
  assign m_axi_awsize_o  = Size;
  assign m_axi_awburst_o = BurstIncr;
  assign m_axi_awcache_o = CacheModifiable;
  assign m_axi_awprot_o  = 3'b000;
  assign m_axi_wvalid_o  = wr_w_valid_i;
  assign wr_w_ready_o    = m_axi_wready_i;
  assign m_axi_wdata_o   = wr_w_data_i;
  assign m_axi_wstrb_o   = '1;
  assign m_axi_wlast_o   = wr_w_last_i;
  assign wr_b_valid_o    = m_axi_bvalid_i;
  assign m_axi_bready_o  = wr_b_ready_i;
  assign wr_b_err_o      = m_axi_bresp_i[1];

  // --- Outstanding bursts -------------------------------------------------------------------
  logic [15:0] rd_out_q, wr_out_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rd_out_q <= '0;
      wr_out_q <= '0;
    end else begin
      rd_out_q <= rd_out_q + 16'(m_axi_arvalid_o && m_axi_arready_i)
                           - 16'(m_axi_rvalid_i && m_axi_rready_o && m_axi_rlast_i);
      wr_out_q <= wr_out_q + 16'(m_axi_awvalid_o && m_axi_awready_i)
                           - 16'(m_axi_bvalid_i && m_axi_bready_o);
    end
  end
  assign idle_o = rd_out_q == '0 && wr_out_q == '0 && !m_axi_arvalid_o && !m_axi_awvalid_o;

  logic unused;
  assign unused = ^{rd_ar_addr_i, wr_aw_addr_i, m_axi_bid_i, m_axi_rresp_i[0], m_axi_bresp_i[0]};
endmodule
