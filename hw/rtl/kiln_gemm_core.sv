// The GEMM core: BATCH x BLOCK_IN x BLOCK_OUT int8 multiplies per cycle, summed per output
// channel into int32 accumulators, one micro-op iteration per cycle.
//
// Each iteration reads input tile x and weight tile w, and adds their product to
// accumulator tile a (acc[a][b][o] += sum_i inp[x][b][i] * wgt[w][o][i], wrapping), or
// zeroes tile a when reset is set. A fixed-latency pipeline with no stalls:
//
//   E0  the micro-op arrives: inp and wgt read addresses go out
//   E1  inp and wgt tiles arrive: the products are registered
//   E2  the products are summed per (b, o) and registered; acc[a] is read
//   E3  acc[a] arrives: acc[a] + sum is written back (or zero, on reset)
//
// The accumulator is read one cycle before it is written, and the acc buffer forwards a
// write to a read of the same entry in the same cycle (kiln_sram WriteFirst), so a
// micro-op sees the results of every earlier one: sequential semantics at one micro-op per
// cycle, with no stall even when consecutive micro-ops hit the same tile.
module kiln_gemm_core #(
  localparam int unsigned Batch    = kiln_accel_pkg::BATCH,
  localparam int unsigned BlockIn  = kiln_accel_pkg::BLOCK_IN,
  localparam int unsigned BlockOut = kiln_accel_pkg::BLOCK_OUT,
  localparam int unsigned InpW     = kiln_accel_pkg::INP_WIDTH,
  localparam int unsigned WgtW     = kiln_accel_pkg::WGT_WIDTH,
  localparam int unsigned AccW     = kiln_accel_pkg::ACC_WIDTH,
  localparam int unsigned InpTileW = kiln_accel_pkg::INP_TILE_BITS,
  localparam int unsigned WgtTileW = kiln_accel_pkg::WGT_TILE_BITS,
  localparam int unsigned AccTileW = kiln_accel_pkg::ACC_TILE_BITS,
  localparam int unsigned InpAddrW = $clog2(kiln_accel_pkg::INP_DEPTH),
  localparam int unsigned WgtAddrW = $clog2(kiln_accel_pkg::WGT_DEPTH),
  localparam int unsigned AccAddrW = $clog2(kiln_accel_pkg::ACC_DEPTH),
  localparam int unsigned ProdW    = InpW + WgtW,
  localparam int unsigned NumProds = Batch * BlockOut * BlockIn,
  localparam int unsigned PackW    = WgtW + ProdW + 1,  // two weights, packed
  localparam int unsigned PairW    = InpW + PackW,      // their products with one input
  localparam int unsigned NumPairs = NumProds / 2
) (
  input  logic                clk_i,
  input  logic                rst_ni,
  // One micro-op iteration per cycle (indices already checked against the buffers).
  input  logic                in_valid_i,
  input  logic                in_reset_i,
  input  logic [AccAddrW-1:0] in_acc_i,
  input  logic [InpAddrW-1:0] in_inp_i,
  input  logic [WgtAddrW-1:0] in_wgt_i,
  // Buffer ports.
  output logic                inp_re_o,
  output logic [InpAddrW-1:0] inp_raddr_o,
  input  logic [InpTileW-1:0] inp_rdata_i,
  output logic                wgt_re_o,
  output logic [WgtAddrW-1:0] wgt_raddr_o,
  input  logic [WgtTileW-1:0] wgt_rdata_i,
  output logic                acc_re_o,
  output logic [AccAddrW-1:0] acc_raddr_o,
  input  logic [AccTileW-1:0] acc_rdata_i,
  output logic                acc_we_o,
  output logic [AccAddrW-1:0] acc_waddr_o,
  output logic [AccTileW-1:0] acc_wdata_o,
  // An iteration is in flight (the core is drained when this is low).
  output logic                busy_o
);
  // Stage valids, reset flags and accumulator addresses of E1, E2 and E3.
  logic                valid1_q, valid2_q, valid3_q;
  logic                reset1_q, reset2_q, reset3_q;
  logic [AccAddrW-1:0] acc1_q, acc2_q, acc3_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid1_q <= 1'b0;
      valid2_q <= 1'b0;
      valid3_q <= 1'b0;
    end else begin
      valid1_q <= in_valid_i;
      valid2_q <= valid1_q;
      valid3_q <= valid2_q;
    end
  end

  always_ff @(posedge clk_i) begin
    reset1_q <= in_reset_i;
    reset2_q <= reset1_q;
    reset3_q <= reset2_q;
    acc1_q   <= in_acc_i;
    acc2_q   <= acc1_q;
    acc3_q   <= acc2_q;
  end

  // E0: read the operand tiles.
  assign inp_re_o    = in_valid_i && !in_reset_i;
  assign inp_raddr_o = in_inp_i;
  assign wgt_re_o    = in_valid_i && !in_reset_i;
  assign wgt_raddr_o = in_wgt_i;

  // E1: products. Two output channels share each multiplier (two int8 MACs per DSP48):
  // for the channel pair (2p, 2p+1), x * (w[2p+1] * 2^16 + w[2p]) holds x * w[2p] in its
  // low 16 bits (a signed 16-bit value: |x * w| <= 2^14) and x * w[2p+1] above them, less
  // the borrow of the low half (bit 15). A 8 x 25-bit signed product fits one DSP48E1.
  logic [NumPairs*PairW-1:0] pair_d, pair_q;
  always_comb begin
    for (int unsigned b = 0; b < Batch; b++) begin
      for (int unsigned p = 0; p < BlockOut / 2; p++) begin
        for (int unsigned i = 0; i < BlockIn; i++) begin
          logic signed [PackW-1:0] packed_w;
          packed_w = (PackW'($signed(wgt_rdata_i[((2 * p + 1) * BlockIn + i) * WgtW +: WgtW]))
                      <<< ProdW) +
                     PackW'($signed(wgt_rdata_i[(2 * p * BlockIn + i) * WgtW +: WgtW]));
          pair_d[((b * BlockOut / 2 + p) * BlockIn + i) * PairW +: PairW] =
              PairW'($signed(inp_rdata_i[(b * BlockIn + i) * InpW +: InpW])) *
              PairW'(packed_w);
        end
      end
    end
  end
  always_ff @(posedge clk_i) begin
    if (valid1_q && !reset1_q) pair_q <= pair_d;
  end

  // The two products of a pair: prod[(b * BlockOut + o) * BlockIn + i] = inp[b][i] * wgt[o][i].
  logic [NumProds*ProdW-1:0] prod;
  always_comb begin
    for (int unsigned q = 0; q < NumProds / 2; q++) begin
      logic [PairW-1:0] pr;
      pr = pair_q[q * PairW +: PairW];
      // q = (b * BlockOut / 2 + p) * BlockIn + i -> element (b, 2p) and (b, 2p + 1)
      prod[((q / BlockIn * 2) * BlockIn + q % BlockIn) * ProdW +: ProdW] = pr[ProdW-1:0];
      prod[((q / BlockIn * 2 + 1) * BlockIn + q % BlockIn) * ProdW +: ProdW] =
          pr[ProdW +: ProdW] + ProdW'(pr[ProdW-1]);
    end
  end

  // E2: one sum per output element, and the accumulator read.
  logic [AccTileW-1:0] sum_d, sum_q;
  always_comb begin
    for (int unsigned e = 0; e < Batch * BlockOut; e++) begin
      logic [AccW-1:0] s;
      s = '0;
      for (int unsigned i = 0; i < BlockIn; i++) begin
        s = s + AccW'($signed(prod[(e * BlockIn + i) * ProdW +: ProdW]));
      end
      sum_d[e * AccW +: AccW] = s;
    end
  end
  always_ff @(posedge clk_i) begin
    if (valid2_q && !reset2_q) sum_q <= sum_d;
  end
  assign acc_re_o    = valid2_q && !reset2_q;
  assign acc_raddr_o = acc2_q;

  // E3: accumulate and write back.
  logic [AccTileW-1:0] result;
  always_comb begin
    for (int unsigned e = 0; e < Batch * BlockOut; e++) begin
      result[e * AccW +: AccW] = reset3_q ? '0 : acc_rdata_i[e * AccW +: AccW] + sum_q[e * AccW +: AccW];
    end
  end
  assign acc_we_o    = valid3_q;
  assign acc_waddr_o = acc3_q;
  assign acc_wdata_o = result;

  assign busy_o = valid1_q || valid2_q || valid3_q;
endmodule
