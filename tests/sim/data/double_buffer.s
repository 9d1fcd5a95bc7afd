# A double-buffered GEMM kernel for the small config (1x4x4), used by the command-line test.
# Input tiles alternate between two halves of the inp buffer (entries 0.. and 16..): load
# hands each tile to compute, compute gives half 0 back once read, compute hands output tiles
# to store, and store gives the out buffer back, so all four token queues are used. Micro-op
# 0 is {acc 0, inp 0, wgt 0} and micro-op 1 {acc 0, inp 16, wgt 0} (DRAM bytes 0..7).
LOAD memory_type=uop sram_base=0 dram_base=0 y_size=1 x_size=2 x_stride=2
LOAD memory_type=wgt sram_base=0 dram_base=16 y_size=1 x_size=2 x_stride=2
LOAD memory_type=inp sram_base=0 dram_base=64 y_size=2 x_size=2 x_stride=4 y_pad_0=1 x_pad_1=1 push_next
LOAD memory_type=inp sram_base=16 dram_base=66 y_size=2 x_size=2 x_stride=4 push_next
GEMM reset uop_begin=0 uop_end=1 iter_out=2 iter_in=2 acc_factor_out=2 acc_factor_in=1
GEMM pop_prev uop_begin=0 uop_end=1 iter_out=2 iter_in=2 acc_factor_out=2 acc_factor_in=1 inp_factor_out=3 inp_factor_in=1 push_prev
ALU alu_op=SHR use_imm imm=2 uop_begin=0 uop_end=1 iter_out=2 iter_in=2 acc_factor_out=2 acc_factor_in=1
ALU alu_op=MAX use_imm imm=0 uop_begin=0 uop_end=1 iter_out=2 iter_in=2 acc_factor_out=2 acc_factor_in=1 push_next
STORE memory_type=out sram_base=0 dram_base=512 y_size=2 x_size=2 x_stride=4 pop_prev push_prev
LOAD memory_type=inp sram_base=0 dram_base=80 y_size=2 x_size=2 x_stride=4 pop_next push_next
GEMM pop_next reset uop_begin=0 uop_end=1 iter_out=2 iter_in=2 acc_factor_out=2 acc_factor_in=1
GEMM pop_prev uop_begin=1 uop_end=2 iter_out=2 iter_in=2 acc_factor_out=2 acc_factor_in=1 inp_factor_out=2 inp_factor_in=1
GEMM pop_prev uop_begin=0 uop_end=1 iter_out=2 iter_in=2 acc_factor_out=2 acc_factor_in=1 inp_factor_out=2 inp_factor_in=1 wgt_factor_in=1 push_next
STORE memory_type=out sram_base=0 dram_base=520 y_size=2 x_size=2 x_stride=4 pop_prev push_prev
FINISH pop_next
