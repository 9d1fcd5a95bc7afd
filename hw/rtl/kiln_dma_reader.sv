// A DMA read engine: reads `count` consecutive elements of 2^elem_log2 bytes from DRAM
// byte address `addr` (aligned to the element) through an AXI4 read address/data channel
// pair, and delivers them one at a time, in order, in the low bits of el_data_o.
//
// The beats covering the elements are read in INCR bursts of at most 256 beats that do not
// cross a 4-KiB boundary, issued ahead of the data. Elements of a beat or more (tiles;
// instructions on a narrow bus) are assembled from whole beats; smaller ones (micro-ops,
// instructions on a wide bus) are taken lane by lane from each beat, skipping lanes before
// addr and after the last element. A beat with an error response (SLVERR, DECERR) marks the
// job failed; its elements and every later one are dropped, the remaining beats drained.
// halt_i stops issuing bursts; the job then ends once the issued ones have drained.
module kiln_dma_reader #(
  parameter int unsigned ElemW = 128,  // bits of the widest element
  parameter bit Narrow = 1'b1,         // elements narrower than a beat may come
  localparam int unsigned BeatW = kiln_accel_pkg::AXI_WIDTH,
  localparam int unsigned BeatLog = $clog2(BeatW / 8),
  localparam int unsigned Lanes = ElemW >= BeatW ? ElemW / BeatW : 1,
  localparam int unsigned LaneW = $clog2(Lanes + 1),
  localparam int unsigned SubW = BeatLog + 1
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             halt_i,
  // The job.
  input  logic             job_valid_i,
  output logic             job_ready_o,
  input  logic [63:0]      job_addr_i,
  input  logic [31:0]      job_count_i,       // at least 1
  input  logic [4:0]       job_elem_log2_i,   // element bytes, log2
  output logic             job_done_o,        // one cycle, once every beat is in
  output logic             job_err_o,         // with job_done_o: a beat had an error
  // AXI4 read address and data (one ID per engine).
  output logic             ar_valid_o,
  input  logic             ar_ready_i,
  output logic [63:0]      ar_addr_o,
  output logic [7:0]       ar_len_o,
  input  logic             r_valid_i,
  output logic             r_ready_o,
  input  logic [BeatW-1:0] r_data_i,
  input  logic             r_err_i,
  // The elements.
  output logic             el_valid_o,
  input  logic             el_ready_i,
  output logic [ElemW-1:0] el_data_o
);
  localparam int unsigned PageBeats = 4096 / (BeatW / 8);

  logic        busy_q;
  logic [4:0]  elog2_q;
  logic        wide_q;          // elements of at least a beat
  // Address channel.
  logic        ar_active_q;
  logic [63:0] ar_beat_q;       // next beat to request (beat address)
  logic [31:0] ar_left_q;       // beats still to request
  logic [8:0]  len;             // beats of the next burst (1..256)
  // Data channel.
  logic [31:0] r_out_q;         // beats requested and not yet received
  logic [31:0] el_left_q;       // elements still to deliver
  logic        err_q;
  logic [LaneW-1:0] lane_q;          // wide: the lane the next beat fills
  logic [LaneW-1:0] last_lane;
  logic [SubW-1:0]  sub_q;           // narrow: the lane of the beat to deliver next
  logic [Lanes*BeatW-1:0] elem_q;
  logic        elem_valid_q;

  // --- The job ------------------------------------------------------------------------------
  logic [63:0] end_byte;
  logic [31:0] total_beats;
  assign end_byte = job_addr_i + (64'(job_count_i) << job_elem_log2_i) - 64'd1;
  assign total_beats = 32'((end_byte >> BeatLog) - (job_addr_i >> BeatLog)) + 32'd1;
  assign job_ready_o = !busy_q;

  // --- Bursts -------------------------------------------------------------------------------
  always_comb begin
    logic [31:0] to_page;
    to_page = 32'(PageBeats) - 32'(ar_beat_q % 64'(PageBeats));
    len = 9'd256;
    if (ar_left_q < 32'(len)) len = ar_left_q[8:0];
    if (to_page < 32'(len)) len = to_page[8:0];
  end
  assign ar_valid_o = ar_active_q && !halt_i;
  assign ar_addr_o  = ar_beat_q << BeatLog;
  assign ar_len_o   = 8'(len - 9'd1);

  // --- Elements -----------------------------------------------------------------------------
  logic narrow_valid, narrow_last_in_beat, r_take, el_take;
  logic [SubW-1:0] lanes_per_beat;
  assign lanes_per_beat = SubW'(1) << (5'(BeatLog) - elog2_q);
  assign last_lane = LaneW'((32'd1 << (elog2_q - 5'(BeatLog))) - 32'd1);
  assign narrow_valid = !wide_q && r_valid_i && !err_q && !r_err_i && !halt_i && el_left_q != '0;
  assign narrow_last_in_beat = sub_q == lanes_per_beat - SubW'(1) || el_left_q == 32'd1;

  always_comb begin
    logic [BeatW-1:0] shifted;
    logic [15:0] bits;
    bits = 16'(sub_q) << (elog2_q + 5'd3);
    shifted = r_data_i >> bits;
    if (wide_q || !Narrow) begin
      el_valid_o = elem_valid_q && !halt_i;
      el_data_o  = ElemW'(elem_q);
    end else begin
      el_valid_o = narrow_valid;
      el_data_o  = ElemW'(shifted);
    end
  end
  assign el_take = el_valid_o && el_ready_i;

  always_comb begin
    if (wide_q) r_take = r_valid_i && (!elem_valid_q || el_ready_i);
    else if (narrow_valid) r_take = el_ready_i && narrow_last_in_beat;
    else r_take = r_valid_i;  // dropped beats (after an error or past the elements)
  end
  assign r_ready_o = busy_q && (wide_q ? (!elem_valid_q || el_ready_i) : (!narrow_valid ||
                                (el_ready_i && narrow_last_in_beat)));

  // --- State --------------------------------------------------------------------------------
  logic done;
  assign done = busy_q && (!ar_active_q || halt_i) && r_out_q == '0 && !elem_valid_q;
  assign job_done_o = done;
  assign job_err_o  = err_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q       <= 1'b0;
      ar_active_q  <= 1'b0;
      r_out_q      <= '0;
      elem_valid_q <= 1'b0;
      err_q        <= 1'b0;
    end else begin
      if (job_valid_i && job_ready_o) begin
        busy_q      <= 1'b1;
        ar_active_q <= 1'b1;
        err_q       <= 1'b0;
      end
      if (ar_valid_o && ar_ready_i) begin
        if (ar_left_q == 32'(len)) ar_active_q <= 1'b0;
      end
      if (halt_i) ar_active_q <= 1'b0;
      r_out_q <= r_out_q + ((ar_valid_o && ar_ready_i) ? 32'(len) : 32'd0)
                         - ((r_valid_i && r_ready_o) ? 32'd1 : 32'd0);
      if (r_valid_i && r_ready_o && r_err_i) err_q <= 1'b1;
      if (wide_q) begin
        if (el_take || halt_i) elem_valid_q <= 1'b0;
        if (r_take && !err_q && !r_err_i && !halt_i && lane_q == last_lane) elem_valid_q <= 1'b1;
      end
      if (done) busy_q <= 1'b0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (job_valid_i && job_ready_o) begin
      elog2_q   <= job_elem_log2_i;
      wide_q    <= job_elem_log2_i >= 5'(BeatLog) || !Narrow;
      ar_beat_q <= job_addr_i >> BeatLog;
      ar_left_q <= total_beats;
      el_left_q <= job_count_i;
      lane_q    <= '0;
      sub_q     <= SubW'((job_addr_i >> job_elem_log2_i) &
                                  ((64'd1 << (5'(BeatLog) - job_elem_log2_i)) - 64'd1));
    end else begin
      if (ar_valid_o && ar_ready_i) begin
        ar_beat_q <= ar_beat_q + 64'(len);
        ar_left_q <= ar_left_q - 32'(len);
      end
      if (wide_q && r_take) begin
        for (int unsigned l = 0; l < Lanes; l++) begin
          if (lane_q == LaneW'(l)) elem_q[l * BeatW +: BeatW] <= r_data_i;
        end
        lane_q <= lane_q == last_lane ? '0 : lane_q + 1'b1;
      end
      if (!wide_q && el_take) begin
        el_left_q <= el_left_q - 32'd1;
        sub_q     <= narrow_last_in_beat ? '0 : sub_q + 1'b1;
      end
    end
  end
endmodule
