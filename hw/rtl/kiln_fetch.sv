// The fetch module: reads the instruction stream (count instructions from DRAM byte
// address addr) and dispatches each, in order, to the command queue of the module that
// executes it (load: LOAD of inp and wgt; compute: LOAD of uop, acc and acc8, GEMM, ALU,
// FINISH; store: STORE), tagged with its index in the stream. It waits while that queue is
// full. An unknown opcode, or a memory type its opcode cannot move, is a BAD_INSN fault.
//
// Instructions are read in DMA jobs of TIMING_FETCH_BURST into a buffer of twice that,
// and a job starts only when the buffer has room for all of it: fetch never holds back the
// shared read data channel while it waits for a command queue (which, with an in-order
// memory, would keep the data that load and compute wait for behind it: a deadlock).
module kiln_fetch #(
  localparam int unsigned InsnW = kiln_accel_pkg::INSN_WIDTH,
  localparam int unsigned CmdW  = InsnW + 32,  // {index, instruction}
  localparam int unsigned BeatW = kiln_accel_pkg::AXI_WIDTH,
  localparam int unsigned Burst = kiln_accel_pkg::TIMING_FETCH_BURST,
  localparam int unsigned BufDepth = 2 * Burst,
  localparam int unsigned CntW = $clog2(BufDepth + 1)
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             halt_i,
  input  logic             start_i,
  input  logic [63:0]      insn_addr_i,
  input  logic [31:0]      insn_count_i,
  // The command queues of load (0), compute (1) and store (2).
  output logic [2:0]       cmd_valid_o,
  input  logic [2:0]       cmd_ready_i,
  output logic [CmdW-1:0]  cmd_data_o,
  // A fault (one cycle).
  output logic             error_o,
  output logic [7:0]       error_code_o,
  output logic [31:0]      error_insn_o,
  output logic             busy_o,
  // Counters: an instruction dispatched, a cycle waiting for a queue, DMA bytes.
  output logic             dispatch_o,
  output logic             stall_o,
  output logic [15:0]      dma_bytes_o,
  // AXI4 read channels.
  output logic             ar_valid_o,
  input  logic             ar_ready_i,
  output logic [63:0]      ar_addr_o,
  output logic [7:0]       ar_len_o,
  input  logic             r_valid_i,
  output logic             r_ready_o,
  input  logic [BeatW-1:0] r_data_i,
  input  logic             r_err_i
);
  logic el_valid, job_done, job_err, job_ready, job_valid;
  logic [InsnW-1:0] el_data, insn;
  logic [31:0] index_q, left_q, chunk;
  logic [63:0] addr_q;
  logic dram_err_q;
  logic buf_valid, buf_ready, unused_buf_ready;
  logic [CntW-1:0] buf_count;

  // The next job: up to Burst instructions, once the buffer has room for them.
  assign chunk = left_q < 32'(Burst) ? left_q : 32'(Burst);
  assign job_valid = !halt_i && !start_i && left_q != '0 &&
                     32'(BufDepth) - 32'(buf_count) >= chunk;

  kiln_dma_reader #(.ElemW(InsnW), .Narrow(InsnW < BeatW)) u_reader (
    .clk_i, .rst_ni,
    .halt_i,
    .job_valid_i    (job_valid),
    .job_ready_o    (job_ready),
    .job_addr_i     (addr_q),
    .job_count_i    (chunk),
    .job_elem_log2_i(5'($clog2(InsnW / 8))),
    .job_done_o     (job_done),
    .job_err_o      (job_err),
    .ar_valid_o, .ar_ready_i, .ar_addr_o, .ar_len_o,
    .r_valid_i, .r_ready_o, .r_data_i, .r_err_i,
    .el_valid_o     (el_valid),
    .el_ready_i     (1'b1),  // the buffer has room: reserved when the job started
    .el_data_o      (el_data)
  );

  kiln_fifo #(.Width(InsnW), .Depth(BufDepth)) u_buffer (
    .clk_i, .rst_ni,
    .clear_i    (start_i),
    .in_valid_i (el_valid),
    .in_ready_o (unused_buf_ready),
    .in_data_i  (el_data),
    .out_valid_o(buf_valid),
    .out_ready_i(buf_ready),
    .out_data_o (insn),
    .count_o    (buf_count)
  );

  // Decode: which module, or a fault.
  logic [kiln_accel_pkg::INSN_OPCODE_W-1:0] opcode;
  logic [kiln_accel_pkg::MEMORY_MEMORY_TYPE_W-1:0] mem;
  logic [2:0] target;
  logic bad;
  assign opcode = insn[kiln_accel_pkg::INSN_OPCODE_LSB +: kiln_accel_pkg::INSN_OPCODE_W];
  assign mem = insn[kiln_accel_pkg::MEMORY_MEMORY_TYPE_LSB +: kiln_accel_pkg::MEMORY_MEMORY_TYPE_W];
  always_comb begin
    target = 3'b000;
    unique case (opcode)
      kiln_accel_pkg::OPCODE_LOAD: begin
        if (mem == kiln_accel_pkg::MEM_INP || mem == kiln_accel_pkg::MEM_WGT) target = 3'b001;
        else if (mem == kiln_accel_pkg::MEM_UOP || mem == kiln_accel_pkg::MEM_ACC ||
                 mem == kiln_accel_pkg::MEM_ACC8) target = 3'b010;
      end
      kiln_accel_pkg::OPCODE_STORE: if (mem == kiln_accel_pkg::MEM_OUT) target = 3'b100;
      kiln_accel_pkg::OPCODE_GEMM, kiln_accel_pkg::OPCODE_FINISH, kiln_accel_pkg::OPCODE_ALU:
        target = 3'b010;
      default: target = 3'b000;
    endcase
  end
  assign bad = buf_valid && target == 3'b000;

  assign cmd_valid_o = (buf_valid && !halt_i) ? target : 3'b000;
  assign cmd_data_o  = {index_q, insn};
  assign buf_ready   = !halt_i && (target & cmd_ready_i) != 3'b000;
  assign dispatch_o  = buf_valid && buf_ready;
  assign stall_o     = buf_valid && !halt_i && !bad && !buf_ready;
  assign dma_bytes_o = dispatch_o ? 16'(InsnW / 8) : 16'd0;

  assign error_o      = (bad && !halt_i) || (job_done && job_err && !dram_err_q);
  assign error_code_o = bad ? kiln_accel_pkg::ERR_BAD_INSN : kiln_accel_pkg::ERR_DRAM_RANGE;
  assign error_insn_o = index_q;
  assign busy_o       = !job_ready;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      index_q    <= '0;
      left_q     <= '0;
      addr_q     <= '0;
      dram_err_q <= 1'b0;
    end else begin
      if (start_i) begin
        index_q    <= '0;
        left_q     <= insn_count_i;
        addr_q     <= insn_addr_i;
        dram_err_q <= 1'b0;
      end else begin
        if (dispatch_o) index_q <= index_q + 32'd1;
        if (job_valid && job_ready) begin
          left_q <= left_q - chunk;
          addr_q <= addr_q + (64'(chunk) << $clog2(InsnW / 8));
        end
      end
      if (job_done && job_err) dram_err_q <= 1'b1;
    end
  end

  logic unused;
  assign unused = unused_buf_ready;
endmodule
