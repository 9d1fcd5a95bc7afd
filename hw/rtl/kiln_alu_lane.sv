// One element of the tensor ALU, combinational, bit-exact with the reference's applyAlu:
//
//   MIN, MAX   signed minimum / maximum of dst and B
//   ADD, MUL   dst + B, dst * B (wrapping, the low AccW bits)
//   SHR        dst >>> s for s = B[5:0] sign-extended in [-32, 31]; a negative s shifts
//              left (wrapping; by 32 gives 0)
//   MAC        dst + src * C (wrapping)
//   REQUANT    p = dst * src (exact, 64 bits); r = s == 0 ? p : ((p >>> (s-1)) + 1) >>> 1
//              with s = C[5:0] (round to nearest, ties towards +infinity); saturated to
//              the OutW-bit signed range and sign-extended
//
// where B = use_imm ? imm : src and C = use_imm ? imm : aux. MUL, MAC and REQUANT share one
// AccW x AccW signed multiplier.
module kiln_alu_lane #(
  localparam int unsigned AccW = kiln_accel_pkg::ACC_WIDTH,
  localparam int unsigned OutW = kiln_accel_pkg::OUT_WIDTH,
  localparam int unsigned OpW  = kiln_accel_pkg::ALU_ALU_OP_W
) (
  input  logic [OpW-1:0]  op_i,
  input  logic            use_imm_i,
  input  logic [AccW-1:0] imm_i,  // sign-extended
  input  logic [AccW-1:0] dst_i,
  input  logic [AccW-1:0] src_i,
  input  logic [AccW-1:0] aux_i,
  output logic [AccW-1:0] result_o
);
  localparam int unsigned ProdW = 2 * AccW;
  localparam logic signed [ProdW-1:0] OutMax = ProdW'((64'sd1 <<< (OutW - 1)) - 64'sd1);
  localparam logic signed [ProdW-1:0] OutMin = -OutMax - ProdW'(1);

  logic [AccW-1:0] b_op, c_op, mul_a, mul_b;
  logic signed [ProdW-1:0] prod;
  logic signed [ProdW-1:0] rounded;

  assign b_op = use_imm_i ? imm_i : src_i;
  assign c_op = use_imm_i ? imm_i : aux_i;

  // The shared multiplier: dst * B (MUL), src * C (MAC), dst * src (REQUANT).
  always_comb begin
    mul_a = dst_i;
    mul_b = b_op;
    if (op_i == kiln_accel_pkg::ALU_MAC) begin
      mul_a = src_i;
      mul_b = c_op;
    end else if (op_i == kiln_accel_pkg::ALU_REQUANT) begin
      mul_b = src_i;
    end
  end
  assign prod = ProdW'($signed(mul_a)) * ProdW'($signed(mul_b));

  // One 64-bit arithmetic right shifter serves SHR and REQUANT. SHR by s >= 0 shifts dst
  // (sign-extended); by s < 0 it shifts {dst, 32'b0} right by 32 + s, whose low half is
  // dst << -s (zero for s = -32). REQUANT shifts the product right by s - 1.
  logic signed [ProdW-1:0] sh_in, shifted;
  logic [5:0] sh_amt;
  always_comb begin
    sh_in  = prod;
    sh_amt = c_op[5:0] - 6'd1;
    if (op_i == kiln_accel_pkg::ALU_SHR) begin
      if (b_op[5]) begin
        sh_in  = {dst_i, {AccW{1'b0}}};
        sh_amt = {1'b0, b_op[4:0]};
      end else begin
        sh_in  = ProdW'($signed(dst_i));
        sh_amt = b_op[5:0];
      end
    end
  end
  assign shifted = sh_in >>> sh_amt;

  // REQUANT: round (ties towards +infinity) and saturate.
  assign rounded = (c_op[5:0] == '0) ? prod : (shifted + ProdW'(1)) >>> 1;

  always_comb begin
    unique case (op_i)
      kiln_accel_pkg::ALU_MIN: result_o = ($signed(dst_i) < $signed(b_op)) ? dst_i : b_op;
      kiln_accel_pkg::ALU_MAX: result_o = ($signed(dst_i) > $signed(b_op)) ? dst_i : b_op;
      kiln_accel_pkg::ALU_ADD: result_o = dst_i + b_op;
      kiln_accel_pkg::ALU_SHR: result_o = shifted[AccW-1:0];
      kiln_accel_pkg::ALU_MUL: result_o = prod[AccW-1:0];
      kiln_accel_pkg::ALU_MAC: result_o = dst_i + prod[AccW-1:0];
      kiln_accel_pkg::ALU_REQUANT: begin
        if (rounded > OutMax) result_o = AccW'(OutMax);
        else if (rounded < OutMin) result_o = AccW'(OutMin);
        else result_o = rounded[AccW-1:0];
      end
      default: result_o = dst_i;
    endcase
  end
endmodule
