// Run control: START (accepted while not busy) clears the queues and starts fetch; FINISH
// raises DONE; the first fault anywhere (or the watchdog: no progress for 2^WatchdogLog
// cycles while running, a token or queue deadlock) raises ERROR with its code and the
// instruction's index and halts every module. BUSY stays up after a fault until the
// memory traffic under way has drained, so that a new START begins from quiet.
module kiln_run_ctrl #(
  parameter int unsigned WatchdogLog = $clog2(kiln_accel_pkg::TIMING_WATCHDOG_CYCLES)
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        start_i,
  input  logic        finish_i,
  input  logic [7:0]  progress_i,       // any: an instruction dispatched or done, a DMA beat
  input  logic [1:0]  quiet_i,          // all: no DMA under way, no GEMM or ALU running
  // Faults of fetch (0), load (1), compute (2) and store (3).
  input  logic [3:0]  fault_i,
  input  logic [31:0] fault_code_i,     // lane k: bits [8k +: 8]
  input  logic [127:0] fault_insn_i,    // lane k: bits [32k +: 32]
  input  logic [31:0] watchdog_insn_i,  // the instruction a watchdog fault names
  output logic        clear_o,          // one cycle: empty the queues, reset the modules
  output logic        fetch_start_o,    // one cycle
  output logic        halt_o,
  output logic        running_o,
  output logic        done_o,
  output logic        busy_o,
  output logic        error_o,
  output logic [7:0]  error_code_o,
  output logic [31:0] error_insn_o
);
  logic running_q, done_q, error_q;
  logic [7:0] code_q;
  logic [31:0] insn_q;
  logic [WatchdogLog-1:0] idle_q;
  logic start, bite;

  logic progress;
  assign progress = |progress_i;
  assign busy_o = running_q || !(&quiet_i);
  assign start = start_i && !busy_o;
  assign bite = running_q && !progress && idle_q == '1;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      running_q <= 1'b0;
      done_q    <= 1'b0;
      error_q   <= 1'b0;
      code_q    <= kiln_accel_pkg::ERR_NONE;
      insn_q    <= '0;
      idle_q    <= '0;
    end else begin
      idle_q <= (progress || !running_q) ? '0 : idle_q + 1'b1;
      if (start) begin
        running_q <= 1'b1;
        done_q    <= 1'b0;
        error_q   <= 1'b0;
        code_q    <= kiln_accel_pkg::ERR_NONE;
        insn_q    <= '0;
      end else if (running_q) begin
        if (fault_i != '0) begin
          running_q <= 1'b0;
          error_q   <= 1'b1;
          for (int k = 3; k >= 0; k--) begin
            if (fault_i[k]) begin
              code_q <= fault_code_i[8 * k +: 8];
              insn_q <= fault_insn_i[32 * k +: 32];
            end
          end
        end else if (bite) begin
          running_q <= 1'b0;
          error_q   <= 1'b1;
          code_q    <= kiln_accel_pkg::ERR_WATCHDOG;
          insn_q    <= watchdog_insn_i;
        end else if (finish_i) begin
          running_q <= 1'b0;
          done_q    <= 1'b1;
        end
      end
    end
  end

  assign clear_o       = start;
  assign fetch_start_o = start;
  assign halt_o        = error_q;
  assign running_o     = running_q;
  assign done_o        = done_q;
  assign error_o       = error_q;
  assign error_code_o  = code_q;
  assign error_insn_o  = insn_q;
endmodule
