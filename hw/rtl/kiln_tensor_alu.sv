// The tensor ALU: applies one ALU operation to whole accumulator tiles, BATCH x BLOCK_OUT
// lanes (kiln_alu_lane) at a time, for each micro-op iteration the sequencer emits.
//
// An iteration reads up to three tiles through the acc buffer's one read port, in the
// order aux (MAC and REQUANT without use_imm), src (where the operation uses it), dst,
// and writes dst in the cycle after its last read. So an iteration takes one cycle per
// tile read (reset reads only dst), and the next iteration's first read comes no earlier
// than this write: with the buffer's write-first forwarding, every iteration sees the
// results of the ones before it (src or aux may alias dst).
module kiln_tensor_alu #(
  localparam int unsigned Lanes    = kiln_accel_pkg::BATCH * kiln_accel_pkg::BLOCK_OUT,
  localparam int unsigned AccW     = kiln_accel_pkg::ACC_WIDTH,
  localparam int unsigned AccTileW = kiln_accel_pkg::ACC_TILE_BITS,
  localparam int unsigned AccAddrW = $clog2(kiln_accel_pkg::ACC_DEPTH),
  localparam int unsigned OpW      = kiln_accel_pkg::ALU_ALU_OP_W,
  localparam int unsigned ImmW     = kiln_accel_pkg::ALU_IMM_W
) (
  input  logic                clk_i,
  input  logic                rst_ni,
  // The instruction's operation, held while its iterations run.
  input  logic [OpW-1:0]      op_i,
  input  logic                reset_i,
  input  logic                use_imm_i,
  input  logic [ImmW-1:0]     imm_i,
  // Iterations (indices already checked against the acc buffer).
  input  logic                in_valid_i,
  output logic                in_ready_o,
  input  logic [AccAddrW-1:0] in_dst_i,
  input  logic [AccAddrW-1:0] in_src_i,
  input  logic [AccAddrW-1:0] in_aux_i,
  // The acc buffer.
  output logic                acc_re_o,
  output logic [AccAddrW-1:0] acc_raddr_o,
  input  logic [AccTileW-1:0] acc_rdata_i,
  output logic                acc_we_o,
  output logic [AccAddrW-1:0] acc_waddr_o,
  output logic [AccTileW-1:0] acc_wdata_o,
  // An iteration is in flight.
  output logic                busy_o
);
  typedef enum logic [1:0] {
    ReadAux = 2'd0,
    ReadSrc = 2'd1,
    ReadDst = 2'd2
  } phase_e;

  logic uses_src, uses_aux;
  phase_e first_phase, phase_q, phase_d;
  logic held_q, held_d;  // an iteration is held, its reads under way
  logic [AccAddrW-1:0] dst_q, src_q, aux_q;
  // The read that returns this cycle.
  logic rvalid_q;
  phase_e rphase_q;
  logic [AccAddrW-1:0] rdst_q;
  logic [AccTileW-1:0] aux_tile_q, src_tile_q, result;
  logic [AccW-1:0] imm_ext;

  assign uses_aux = !reset_i && !use_imm_i &&
                    (op_i == kiln_accel_pkg::ALU_MAC || op_i == kiln_accel_pkg::ALU_REQUANT);
  assign uses_src = !reset_i && (!use_imm_i || op_i == kiln_accel_pkg::ALU_MAC ||
                                 op_i == kiln_accel_pkg::ALU_REQUANT);
  assign first_phase = uses_aux ? ReadAux : (uses_src ? ReadSrc : ReadDst);
  assign in_ready_o = !held_q || phase_q == ReadDst;

  always_comb begin
    held_d  = held_q;
    phase_d = phase_q;
    if (held_q) begin
      unique case (phase_q)
        ReadAux: phase_d = uses_src ? ReadSrc : ReadDst;
        ReadSrc: phase_d = ReadDst;
        default: held_d = 1'b0;
      endcase
    end
    if (in_valid_i && in_ready_o) begin
      held_d  = 1'b1;
      phase_d = first_phase;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      held_q   <= 1'b0;
      phase_q  <= ReadDst;
      rvalid_q <= 1'b0;
      rphase_q <= ReadDst;
    end else begin
      held_q   <= held_d;
      phase_q  <= phase_d;
      rvalid_q <= held_q;
      rphase_q <= phase_q;
    end
  end

  always_ff @(posedge clk_i) begin
    if (in_valid_i && in_ready_o) begin
      dst_q <= in_dst_i;
      src_q <= in_src_i;
      aux_q <= in_aux_i;
    end
    rdst_q <= dst_q;
    if (rvalid_q && rphase_q == ReadAux) aux_tile_q <= acc_rdata_i;
    if (rvalid_q && rphase_q == ReadSrc) src_tile_q <= acc_rdata_i;
  end

  always_comb begin
    unique case (phase_q)
      ReadAux: acc_raddr_o = aux_q;
      ReadSrc: acc_raddr_o = src_q;
      default: acc_raddr_o = dst_q;
    endcase
  end
  assign acc_re_o = held_q;

  assign imm_ext = AccW'($signed(imm_i));
  for (genvar l = 0; l < Lanes; l++) begin : gen_lane
    kiln_alu_lane u_lane (
      .op_i      (op_i),
      .use_imm_i (use_imm_i),
      .imm_i     (imm_ext),
      .dst_i     (acc_rdata_i[l * AccW +: AccW]),
      .src_i     (src_tile_q[l * AccW +: AccW]),
      .aux_i     (aux_tile_q[l * AccW +: AccW]),
      .result_o  (result[l * AccW +: AccW])
    );
  end

  assign acc_we_o    = rvalid_q && rphase_q == ReadDst;
  assign acc_waddr_o = rdst_q;
  assign acc_wdata_o = reset_i ? '0 : result;
  assign busy_o      = held_q || rvalid_q;
endmodule
