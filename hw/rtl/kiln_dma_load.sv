// The LOAD of a 2-D block from DRAM into an on-chip buffer, with zero padding on the fly:
// y_size rows of x_size elements, row y starting at DRAM element dram_base + y * x_stride
// (elements of 2^elem_log2 bytes from the byte address dram_offset), written as
// (y_pad_0 + y_size + y_pad_1) rows of (x_pad_0 + x_size + x_pad_1) consecutive buffer
// entries from sram_base, every padding entry zero.
//
// A block that does not fit the buffer (depth_i entries) ends the instruction with
// SRAM_RANGE before anything is written; a DRAM error response ends it with DRAM_RANGE
// after the elements before it are written. Rows are read one DMA job each; the walk over
// the block writes padding while it waits for data, one entry per cycle.
module kiln_dma_load #(
  parameter int unsigned ElemW = 128,
  parameter bit Narrow = 1'b1,  // elements narrower than a beat may come (see kiln_dma_reader)
  localparam int unsigned BeatW = kiln_accel_pkg::AXI_WIDTH,
  localparam int unsigned SramW = kiln_accel_pkg::MEMORY_SRAM_BASE_W
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             halt_i,
  // The instruction.
  input  logic             start_i,
  input  logic [SramW-1:0] sram_base_i,
  input  logic [31:0]      dram_base_i,
  input  logic [15:0]      y_size_i,
  input  logic [15:0]      x_size_i,
  input  logic [15:0]      x_stride_i,
  input  logic [3:0]       y_pad_0_i,
  input  logic [3:0]       y_pad_1_i,
  input  logic [3:0]       x_pad_0_i,
  input  logic [3:0]       x_pad_1_i,
  input  logic [4:0]       elem_log2_i,
  input  logic [31:0]      depth_i,
  input  logic [63:0]      dram_offset_i,
  output logic             done_o,       // one cycle
  output logic [7:0]       error_code_o, // with done_o
  // Buffer writes (zero for padding).
  output logic             wr_valid_o,
  output logic [31:0]      wr_addr_o,
  output logic [ElemW-1:0] wr_data_o,
  // AXI4 read channels.
  output logic             ar_valid_o,
  input  logic             ar_ready_i,
  output logic [63:0]      ar_addr_o,
  output logic [7:0]       ar_len_o,
  input  logic             r_valid_i,
  output logic             r_ready_o,
  input  logic [BeatW-1:0] r_data_i,
  input  logic             r_err_i,
  // Bytes of DRAM data delivered this cycle (performance counters).
  output logic [15:0]      dma_bytes_o
);
  typedef enum logic [1:0] {
    Idle = 2'd0,
    Walk = 2'd1,
    Wait = 2'd2,
    Done = 2'd3
  } state_e;
  state_e state_q, state_d;
  logic [7:0] err_q, err_d;

  // The instruction's fields, held.
  logic [31:0] ys_q, xs_q, stride_q, yp0_q, xp0_q, rows_q, cols_q;
  logic [4:0]  elog2_q;
  logic [63:0] offset_q;
  // The walk: row, column, entry.
  logic [31:0] r_q, c_q, addr_q;
  // The DMA jobs: next data row and its first DRAM element.
  logic [31:0] y_q;
  logic [63:0] row_elem_q;

  logic [31:0] rows, cols;
  logic [63:0] block_end;
  assign rows = 32'(y_pad_0_i) + 32'(y_size_i) + 32'(y_pad_1_i);
  assign cols = 32'(x_pad_0_i) + 32'(x_size_i) + 32'(x_pad_1_i);
  assign block_end = 64'(sram_base_i) + 64'(rows) * 64'(cols);

  // The reader.
  logic job_valid, job_ready, job_done, job_err, el_valid, el_ready;
  logic [ElemW-1:0] el_data;
  assign job_valid = state_q == Walk && y_q < ys_q && xs_q != '0 && !halt_i;

  kiln_dma_reader #(.ElemW(ElemW), .Narrow(Narrow)) u_reader (
    .clk_i, .rst_ni,
    .halt_i         (halt_i || state_q != Walk),
    .job_valid_i    (job_valid),
    .job_ready_o    (job_ready),
    .job_addr_i     (offset_q + (row_elem_q << elog2_q)),
    .job_count_i    (xs_q),
    .job_elem_log2_i(elog2_q),
    .job_done_o     (job_done),
    .job_err_o      (job_err),
    .ar_valid_o, .ar_ready_i, .ar_addr_o, .ar_len_o,
    .r_valid_i, .r_ready_o, .r_data_i, .r_err_i,
    .el_valid_o     (el_valid),
    .el_ready_i     (el_ready),
    .el_data_o      (el_data)
  );

  logic is_pad, advance, last_pos;
  assign is_pad = r_q < yp0_q || r_q >= yp0_q + ys_q || c_q < xp0_q || c_q >= xp0_q + xs_q;
  assign el_ready = state_q == Walk && !is_pad;
  assign advance = state_q == Walk && !halt_i && (is_pad || el_valid);
  assign last_pos = r_q == rows_q - 32'd1 && c_q == cols_q - 32'd1;

  assign wr_valid_o = advance;
  assign wr_addr_o  = addr_q;
  assign wr_data_o  = is_pad ? '0 : el_data;
  assign dma_bytes_o = (el_valid && el_ready) ? 16'(32'd1 << elog2_q) : 16'd0;

  always_comb begin
    state_d = state_q;
    err_d   = err_q;
    unique case (state_q)
      Idle: begin
        if (start_i) begin
          err_d = kiln_accel_pkg::ERR_NONE;
          if (block_end > 64'(depth_i)) begin
            err_d   = kiln_accel_pkg::ERR_SRAM_RANGE;
            state_d = Done;
          end else if (rows == '0 || cols == '0) begin
            state_d = Done;
          end else begin
            state_d = Walk;
          end
        end
      end
      Walk: begin
        if (job_done && job_err) begin
          err_d   = kiln_accel_pkg::ERR_DRAM_RANGE;
          state_d = Wait;
        end else if (halt_i) begin
          state_d = Wait;
        end else if (advance && last_pos) begin
          state_d = Wait;
        end
      end
      Wait: if (job_ready && !job_done) state_d = Done;  // the reader has drained
      default: state_d = Idle;
    endcase
  end
  assign done_o = state_q == Done;
  assign error_code_o = err_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= Idle;
      err_q   <= kiln_accel_pkg::ERR_NONE;
    end else begin
      state_q <= state_d;
      err_q   <= err_d;
    end
  end

  always_ff @(posedge clk_i) begin
    if (state_q == Idle && start_i) begin
      ys_q       <= 32'(y_size_i);
      xs_q       <= 32'(x_size_i);
      stride_q   <= 32'(x_stride_i);
      yp0_q      <= 32'(y_pad_0_i);
      xp0_q      <= 32'(x_pad_0_i);
      rows_q     <= rows;
      cols_q     <= cols;
      elog2_q    <= elem_log2_i;
      offset_q   <= dram_offset_i;
      r_q        <= '0;
      c_q        <= '0;
      addr_q     <= 32'(sram_base_i);
      y_q        <= '0;
      row_elem_q <= 64'(dram_base_i);
    end else begin
      if (job_valid && job_ready) begin
        y_q        <= y_q + 32'd1;
        row_elem_q <= row_elem_q + 64'(stride_q);
      end
      if (advance) begin
        addr_q <= addr_q + 32'd1;
        if (c_q == cols_q - 32'd1) begin
          c_q <= '0;
          r_q <= r_q + 32'd1;
        end else begin
          c_q <= c_q + 32'd1;
        end
      end
    end
  end
endmodule
