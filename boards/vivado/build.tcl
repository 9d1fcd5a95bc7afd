# Builds Kiln's accelerator bitstream for one board, in Vivado batch mode:
#   vivado -mode batch -source boards/vivado/build.tcl -tclargs OUT/params.tcl
# `kiln board build --board NAME` writes params.tcl (from boards/NAME.yaml, the accelerator
# config it carries and the RTL file list) and runs this. The flow:
#   1. package the accelerator's RTL as an IP (kiln.dev:kiln:<top>:1.0);
#   2. a block design: the processing system (Zynq-7000 PS7 or Zynq UltraScale+ PS) with the
#      board's fabric clock, its master port wired through an AXI interconnect to the
#      accelerator's AXI4-Lite register slave at the board's register window, and the
#      accelerator's AXI4 master wired to the PS slave port that reaches DDR;
#   3. synthesis, implementation and the bitstream, then the .bit, the .hwh and the
#      utilization and timing reports copied to OUT.

if {[llength $argv] != 1} {
  puts stderr "usage: vivado -mode batch -source build.tcl -tclargs PARAMS.tcl"
  exit 2
}
source [lindex $argv 0]
foreach key {board part family fabric_mhz control_port control_base control_size memory_port memory_width
             rtl_files top ctrl_intf mem_intf out_dir jobs} {
  if {![info exists kiln($key)]} { error "params file lacks kiln($key)" }
}
if {![info exists kiln(dry_run)]} { set kiln(dry_run) 0 }
set out $kiln(out_dir)
file mkdir $out

# The PS ports a board file may name, and the PS properties that turn each on.
set ps7_ports {
  M_AXI_GP0 {CONFIG.PCW_USE_M_AXI_GP0 1}
  M_AXI_GP1 {CONFIG.PCW_USE_M_AXI_GP1 1}
  S_AXI_HP0 {CONFIG.PCW_USE_S_AXI_HP0 1 CONFIG.PCW_S_AXI_HP0_DATA_WIDTH @WIDTH@}
  S_AXI_HP1 {CONFIG.PCW_USE_S_AXI_HP1 1 CONFIG.PCW_S_AXI_HP1_DATA_WIDTH @WIDTH@}
  S_AXI_HP2 {CONFIG.PCW_USE_S_AXI_HP2 1 CONFIG.PCW_S_AXI_HP2_DATA_WIDTH @WIDTH@}
  S_AXI_HP3 {CONFIG.PCW_USE_S_AXI_HP3 1 CONFIG.PCW_S_AXI_HP3_DATA_WIDTH @WIDTH@}
  S_AXI_ACP {CONFIG.PCW_USE_S_AXI_ACP 1}
}
set psu_ports {
  M_AXI_HPM0_FPD {CONFIG.PSU__USE__M_AXI_GP0 1 CONFIG.PSU__MAXIGP0__DATA_WIDTH 32}
  M_AXI_HPM1_FPD {CONFIG.PSU__USE__M_AXI_GP1 1 CONFIG.PSU__MAXIGP1__DATA_WIDTH 32}
  M_AXI_HPM0_LPD {CONFIG.PSU__USE__M_AXI_GP2 1 CONFIG.PSU__MAXIGP2__DATA_WIDTH 32}
  S_AXI_HPC0_FPD {CONFIG.PSU__USE__S_AXI_GP0 1 CONFIG.PSU__SAXIGP0__DATA_WIDTH @WIDTH@}
  S_AXI_HPC1_FPD {CONFIG.PSU__USE__S_AXI_GP1 1 CONFIG.PSU__SAXIGP1__DATA_WIDTH @WIDTH@}
  S_AXI_HP0_FPD {CONFIG.PSU__USE__S_AXI_GP2 1 CONFIG.PSU__SAXIGP2__DATA_WIDTH @WIDTH@}
  S_AXI_HP1_FPD {CONFIG.PSU__USE__S_AXI_GP3 1 CONFIG.PSU__SAXIGP3__DATA_WIDTH @WIDTH@}
  S_AXI_HP2_FPD {CONFIG.PSU__USE__S_AXI_GP4 1 CONFIG.PSU__SAXIGP4__DATA_WIDTH @WIDTH@}
  S_AXI_HP3_FPD {CONFIG.PSU__USE__S_AXI_GP5 1 CONFIG.PSU__SAXIGP5__DATA_WIDTH @WIDTH@}
}

proc port_properties {table port width} {
  if {![dict exists $table $port]} { error "the PS has no port $port (see boards/README.md)" }
  return [string map [list @WIDTH@ $width] [dict get $table $port]]
}

# 1. The accelerator as an IP.
set ip_dir $out/ip
create_project -force kiln_ip $out/ip_project -part $kiln(part)
add_files -norecurse $kiln(rtl_files)
set_property top $kiln(top) [current_fileset]
update_compile_order -fileset sources_1
ipx::package_project -root_dir $ip_dir -vendor kiln.dev -library kiln -taxonomy /Kiln -import_files \
  -set_current false
close_project

# 2. The block design.
create_project -force kiln_$kiln(board) $out/project -part $kiln(part)
set_property ip_repo_paths [list $ip_dir] [current_project]
update_ip_catalog
create_bd_design kiln

if {$kiln(family) eq "zynq-7000"} {
  set ps [create_bd_cell -type ip -vlnv xilinx.com:ip:processing_system7:5.5 ps]
  apply_bd_automation -rule xilinx.com:bd_rule:processing_system7 \
    -config {make_external "FIXED_IO, DDR" apply_board_preset "0" Master "Disable" Slave "Disable"} $ps
  set props [list CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ $kiln(fabric_mhz)]
  lappend props {*}[port_properties $ps7_ports $kiln(control_port) 32]
  lappend props {*}[port_properties $ps7_ports $kiln(memory_port) $kiln(memory_width)]
  set clock ps/FCLK_CLK0
} elseif {$kiln(family) eq "zynq-ultrascale+"} {
  set ps [create_bd_cell -type ip -vlnv xilinx.com:ip:zynq_ultra_ps_e:3.5 ps]
  apply_bd_automation -rule xilinx.com:bd_rule:zynq_ultra_ps_e -config {apply_board_preset "0"} $ps
  set props [list CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ $kiln(fabric_mhz) CONFIG.PSU__FPGA_PL0_ENABLE 1]
  lappend props {*}[port_properties $psu_ports $kiln(control_port) 32]
  lappend props {*}[port_properties $psu_ports $kiln(memory_port) $kiln(memory_width)]
  set clock ps/pl_clk0
} else {
  error "family $kiln(family) is not supported (zynq-7000, zynq-ultrascale+)"
}
set_property -dict $props $ps

set accel [create_bd_cell -type ip -vlnv kiln.dev:kiln:$kiln(top):1.0 accel]
apply_bd_automation -rule xilinx.com:bd_rule:axi4 \
  -config [list Clk_master /$clock Clk_slave Auto Clk_xbar Auto Master /ps/$kiln(control_port) \
           Slave /accel/$kiln(ctrl_intf) ddr_seg Auto intc_ip New master_apm 0] \
  [get_bd_intf_pins accel/$kiln(ctrl_intf)]
apply_bd_automation -rule xilinx.com:bd_rule:axi4 \
  -config [list Clk_master /$clock Clk_slave /$clock Clk_xbar /$clock Master /accel/$kiln(mem_intf) \
           Slave /ps/$kiln(memory_port) ddr_seg Auto intc_ip New master_apm 0] \
  [get_bd_intf_pins ps/$kiln(memory_port)]

# The register window the board file names (the driver maps exactly this).
set_property offset $kiln(control_base) [get_bd_addr_segs -of_objects [get_bd_addr_spaces ps/*] -filter {NAME =~ *accel*}]
set_property range $kiln(control_size) [get_bd_addr_segs -of_objects [get_bd_addr_spaces ps/*] -filter {NAME =~ *accel*}]
assign_bd_address
validate_bd_design
save_bd_design

make_wrapper -files [get_files kiln.bd] -top -import
set_property top kiln_wrapper [current_fileset]
update_compile_order -fileset sources_1

# 3. Implementation and the bitstream.
launch_runs impl_1 -to_step write_bitstream -jobs $kiln(jobs)
wait_on_run impl_1
if {$kiln(dry_run)} { return }
if {[get_property PROGRESS [get_runs impl_1]] ne "100%"} {
  error "implementation did not finish: see [get_property DIRECTORY [get_runs impl_1]]/runme.log"
}
open_run impl_1
report_utilization -file $out/utilization.txt
report_timing_summary -file $out/timing.txt
set run_dir [get_property DIRECTORY [get_runs impl_1]]
file copy -force [lindex [glob $run_dir/*.bit] 0] $out/kiln-$kiln(board).bit
file copy -force [lindex [glob -nocomplain $out/project/*.gen/sources_1/bd/kiln/hw_handoff/kiln.hwh \
                                        $out/project/*.srcs/sources_1/bd/kiln/hw_handoff/kiln.hwh] 0] \
  $out/kiln-$kiln(board).hwh
puts "kiln: wrote $out/kiln-$kiln(board).bit and .hwh"
