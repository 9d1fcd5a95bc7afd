// A simple dual-port RAM: one write port and one read port with a registered read (data
// one cycle after the address), written so that Yosys and Vivado infer block RAM.
//
// With WriteFirst set, a read sees a write to the same entry issued in the same cycle
// (the bypass lies outside the array, so the array itself stays a plain read-first block
// RAM). The compute datapath relies on it: a read issued in the cycle after a write, or in
// the same cycle, returns the new value, so pipelines whose read-to-write distance is one
// cycle keep sequential semantics at one access per cycle.
//
// The read data holds while re_i is low.
//
// UltraRam asks synthesis (Yosys and Vivado, through the ram_style attribute) for UltraRAM
// (URAM288) instead of block RAM; the spec decides which buffer goes there (wgt_in_uram).
// Otherwise synthesis picks (Yosys's synth_xilinx -uram may itself put a memory 4096 or more
// entries deep in UltraRAM).
module kiln_sram #(
  parameter int unsigned Width = 32,
  parameter int unsigned Depth = 1024,
  parameter bit WriteFirst = 1'b0,
  parameter bit UltraRam = 1'b0,
  localparam int unsigned AddrW = $clog2(Depth)
) (
  input  logic             clk_i,
  input  logic             we_i,
  input  logic [AddrW-1:0] waddr_i,
  input  logic [Width-1:0] wdata_i,
  input  logic             re_i,
  input  logic [AddrW-1:0] raddr_i,
  output logic [Width-1:0] rdata_o
);
  logic [Width-1:0] rdata_q;

  if (UltraRam) begin : gen_uram
    (* ram_style = "ultra" *) logic [Width-1:0] mem [Depth];
    always_ff @(posedge clk_i) begin
      if (we_i) mem[waddr_i] <= wdata_i;
      if (re_i) rdata_q <= mem[raddr_i];
    end
  end else begin : gen_bram  // block RAM (or, if small, LUTs), as synthesis sees fit
    logic [Width-1:0] mem [Depth];
    always_ff @(posedge clk_i) begin
      if (we_i) mem[waddr_i] <= wdata_i;
      if (re_i) rdata_q <= mem[raddr_i];
    end
  end

  if (WriteFirst) begin : gen_write_first
    logic             bypass_q;
    logic [Width-1:0] bypass_data_q;
    always_ff @(posedge clk_i) begin
      if (re_i) begin
        bypass_q      <= we_i && (waddr_i == raddr_i);
        bypass_data_q <= wdata_i;
      end
    end
    assign rdata_o = bypass_q ? bypass_data_q : rdata_q;
  end else begin : gen_read_first
    assign rdata_o = rdata_q;
  end
endmodule
