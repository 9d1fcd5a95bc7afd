// The STORE of a 2-D block of output tiles from the out buffer to DRAM: y_size rows of
// x_size tiles, read from consecutive out entries from sram_base, row y written to DRAM
// element dram_base + y * x_stride (out tiles, from the byte address dram_offset).
//
// Each row goes out in INCR bursts of at most 256 beats that do not cross a 4-KiB
// boundary, one burst at a time: the address, the beats (each tile read from the out
// buffer, then sent beat by beat), the response. A block outside the out buffer ends the
// instruction with SRAM_RANGE before anything is written; an error response with
// DRAM_RANGE after that burst. halt_i ends it after the burst under way.
module kiln_dma_store #(
  localparam int unsigned BeatW    = kiln_accel_pkg::AXI_WIDTH,
  localparam int unsigned BeatLog  = $clog2(BeatW / 8),
  localparam int unsigned TileW    = kiln_accel_pkg::OUT_TILE_BITS,
  localparam int unsigned TileBeats = TileW / BeatW,
  localparam int unsigned TileLog  = $clog2(TileW / 8),
  localparam int unsigned Depth    = kiln_accel_pkg::ACC_DEPTH,
  localparam int unsigned AddrW    = $clog2(Depth),
  localparam int unsigned SramW    = kiln_accel_pkg::MEMORY_SRAM_BASE_W,
  localparam int unsigned LaneW    = $clog2(TileBeats + 1)
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             halt_i,   // stop after the burst under way
  // The instruction.
  input  logic             start_i,
  input  logic [SramW-1:0] sram_base_i,
  input  logic [31:0]      dram_base_i,
  input  logic [15:0]      y_size_i,
  input  logic [15:0]      x_size_i,
  input  logic [15:0]      x_stride_i,
  input  logic [63:0]      dram_offset_i,
  output logic             done_o,        // one cycle
  output logic [7:0]       error_code_o,  // with done_o
  // The out buffer's read port.
  output logic             out_re_o,
  output logic [AddrW-1:0] out_raddr_o,
  input  logic [TileW-1:0] out_rdata_i,
  // AXI4 write channels.
  output logic             aw_valid_o,
  input  logic             aw_ready_i,
  output logic [63:0]      aw_addr_o,
  output logic [7:0]       aw_len_o,
  output logic             w_valid_o,
  input  logic             w_ready_i,
  output logic [BeatW-1:0] w_data_o,
  output logic             w_last_o,
  input  logic             b_valid_i,
  output logic             b_ready_o,
  input  logic             b_err_i,
  output logic [15:0]      dma_bytes_o
);
  localparam int unsigned PageBeats = 4096 / (BeatW / 8);

  typedef enum logic [2:0] {
    Idle  = 3'd0,
    Row   = 3'd1,
    Addr  = 3'd2,
    Data  = 3'd3,
    Resp  = 3'd4,
    Done  = 3'd5
  } state_e;
  state_e state_q, state_d;
  logic [7:0] err_q, err_d;

  logic [31:0] ys_q, xs_q, stride_q, y_q;
  logic [63:0] offset_q, row_elem_q, beat_q;
  logic [31:0] row_left_q;    // beats of the row still to send
  logic [8:0]  burst_left_q;
  logic [AddrW-1:0] entry_q;  // next out entry to read
  logic [TileW-1:0] tile_q;
  logic        tile_valid_q, read_q;
  logic [LaneW-1:0] lane_q;

  logic [63:0] block_end;
  assign block_end = 64'(sram_base_i) + 64'(y_size_i) * 64'(x_size_i);

  logic [8:0] len;
  always_comb begin
    logic [31:0] to_page;
    to_page = 32'(PageBeats) - 32'(beat_q % 64'(PageBeats));
    len = 9'd256;
    if (row_left_q < 32'(len)) len = row_left_q[8:0];
    if (to_page < 32'(len)) len = to_page[8:0];
  end

  logic w_take;
  assign w_take = w_valid_o && w_ready_i;

  always_comb begin
    state_d = state_q;
    err_d   = err_q;
    unique case (state_q)
      Idle: begin
        if (start_i) begin
          err_d = kiln_accel_pkg::ERR_NONE;
          if (block_end > 64'(Depth)) begin
            err_d   = kiln_accel_pkg::ERR_SRAM_RANGE;
            state_d = Done;
          end else if (y_size_i == '0 || x_size_i == '0) begin
            state_d = Done;
          end else begin
            state_d = Row;
          end
        end
      end
      Row: state_d = Addr;
      Addr: if (aw_ready_i) state_d = Data;
      Data: if (w_take && burst_left_q == 9'd1) state_d = Resp;
      Resp: begin
        if (b_valid_i) begin
          if (b_err_i) begin
            err_d   = kiln_accel_pkg::ERR_DRAM_RANGE;
            state_d = Done;
          end else if (halt_i) begin
            state_d = Done;
          end else if (row_left_q != '0) begin
            state_d = Addr;
          end else if (y_q + 32'd1 < ys_q) begin
            state_d = Row;
          end else begin
            state_d = Done;
          end
        end
      end
      default: state_d = Idle;
    endcase
  end

  assign aw_valid_o  = state_q == Addr;
  assign aw_addr_o   = beat_q << BeatLog;
  assign aw_len_o    = 8'(len - 9'd1);
  assign w_valid_o   = state_q == Data && tile_valid_q;
  assign w_data_o    = tile_q[lane_q * BeatW +: BeatW];
  assign w_last_o    = burst_left_q == 9'd1;
  assign b_ready_o   = state_q == Resp;
  assign out_re_o    = state_q == Data && !tile_valid_q && !read_q;
  assign out_raddr_o = entry_q;
  assign done_o      = state_q == Done;
  assign error_code_o = err_q;
  assign dma_bytes_o = w_take ? 16'(BeatW / 8) : 16'd0;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q      <= Idle;
      err_q        <= kiln_accel_pkg::ERR_NONE;
      tile_valid_q <= 1'b0;
      read_q       <= 1'b0;
    end else begin
      state_q <= state_d;
      err_q   <= err_d;
      read_q  <= out_re_o;
      if (read_q) tile_valid_q <= 1'b1;
      if (w_take && lane_q == LaneW'(TileBeats - 1)) tile_valid_q <= 1'b0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (read_q) tile_q <= out_rdata_i;
    if (out_re_o) entry_q <= entry_q + AddrW'(1);
    unique case (state_q)
      Idle: begin
        ys_q       <= 32'(y_size_i);
        xs_q       <= 32'(x_size_i);
        stride_q   <= 32'(x_stride_i);
        offset_q   <= dram_offset_i;
        row_elem_q <= 64'(dram_base_i);
        y_q        <= '0;
        entry_q    <= AddrW'(sram_base_i);
        lane_q     <= '0;
      end
      Row: begin
        beat_q     <= (offset_q + (row_elem_q << TileLog)) >> BeatLog;
        row_left_q <= xs_q * 32'(TileBeats);
      end
      Addr: begin
        if (aw_ready_i) begin
          burst_left_q <= len;
          beat_q     <= beat_q + 64'(len);
          row_left_q <= row_left_q - 32'(len);
        end
      end
      Data: begin
        if (w_take) begin
          burst_left_q <= burst_left_q - 9'd1;
          lane_q <= lane_q == LaneW'(TileBeats - 1) ? '0 : lane_q + 1'b1;
        end
      end
      Resp: begin
        if (b_valid_i && row_left_q == '0) begin
          y_q        <= y_q + 32'd1;
          row_elem_q <= row_elem_q + 64'(stride_q);
        end
      end
      default: ;
    endcase
  end
endmodule
