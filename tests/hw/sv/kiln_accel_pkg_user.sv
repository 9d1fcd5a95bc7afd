// A module that uses the generated kiln_accel_pkg the way the RTL will: through
// kiln_accel_pkg::NAME references, without an import. The lint and Yosys tests read the
// package with it, so they check that the package is usable, not just that it parses.
module kiln_accel_pkg_user (
  input  logic [kiln_accel_pkg::INSN_WIDTH-1:0]             insn_i,
  output logic [31:0]                                      config_hash_o,
  output logic                                             is_load_o,
  output logic                                             is_alu_max_o,
  output logic [kiln_accel_pkg::MEMORY_SRAM_BASE_W-1:0]    sram_base_o,
  output logic [kiln_accel_pkg::MMIO_ADDR_W-1:0]           status_addr_o
);
  localparam int unsigned OpLsb = kiln_accel_pkg::INSN_OPCODE_LSB;
  localparam int unsigned OpW = kiln_accel_pkg::INSN_OPCODE_W;
  localparam int unsigned AluOpLsb = kiln_accel_pkg::ALU_ALU_OP_LSB;
  localparam int unsigned AluOpW = kiln_accel_pkg::ALU_ALU_OP_W;
  localparam int unsigned SramLsb = kiln_accel_pkg::MEMORY_SRAM_BASE_LSB;
  localparam int unsigned SramW = kiln_accel_pkg::MEMORY_SRAM_BASE_W;

  logic [OpW-1:0] opcode;
  logic [AluOpW-1:0] alu_op;
  logic unused_insn;

  assign opcode = insn_i[OpLsb +: OpW];
  assign alu_op = insn_i[AluOpLsb +: AluOpW];
  assign config_hash_o = kiln_accel_pkg::CONFIG_HASH;
  assign is_load_o = opcode == kiln_accel_pkg::OPCODE_LOAD;
  assign is_alu_max_o = opcode == kiln_accel_pkg::OPCODE_ALU && alu_op == kiln_accel_pkg::ALU_MAX;
  assign sram_base_o = insn_i[SramLsb +: SramW];
  assign status_addr_o = kiln_accel_pkg::MMIO_ADDR_W'(kiln_accel_pkg::REG_STATUS);
  assign unused_insn = ^insn_i;
endmodule
