# Runs build.tcl under plain tclsh, without Vivado: every Vivado command is recorded instead
# of executed, so the script's Tcl (syntax, variables, procs, control flow over the board's
# parameters) is exercised for real and the flow it would run can be checked.
#   tclsh boards/vivado/dryrun.tcl boards/vivado/build.tcl OUT/params.tcl
if {[llength $argv] != 2} {
  puts stderr "usage: tclsh dryrun.tcl build.tcl params.tcl"
  exit 2
}
set script [lindex $argv 0]
set calls {}
# The Vivado commands the flow may use. They are recorded and return their last argument (an
# object name), so code passing results on (`set ps [create_bd_cell ... ps]`) sees something
# plausible; any other unknown command is an error (a typo, or a command to add here).
set vivado_commands {
  create_project close_project current_project add_files current_fileset update_compile_order
  set_property get_property ipx::package_project update_ip_catalog create_bd_design create_bd_cell
  apply_bd_automation get_bd_intf_pins get_bd_addr_segs get_bd_addr_spaces assign_bd_address
  validate_bd_design save_bd_design make_wrapper get_files launch_runs wait_on_run get_runs open_run
  report_utilization report_timing_summary
}
proc unknown {args} {
  if {[lsearch -exact $::vivado_commands [lindex $args 0]] < 0} {
    error "[lindex $args 0] is neither Tcl nor a Vivado command the flow is known to use"
  }
  lappend ::calls $args
  return [lindex $args end]
}
set argv [list [lindex $argv 1]]
set argc 1
set kiln(dry_run) 1
if {[catch {source $script} message]} {
  puts stderr "dry run of $script failed: $message"
  exit 1
}
set names {}
foreach c $calls { lappend names [lindex $c 0] }
set position 0
foreach step {create_project add_files ipx::package_project create_bd_design create_bd_cell
              apply_bd_automation assign_bd_address validate_bd_design make_wrapper launch_runs wait_on_run} {
  set at [lsearch -start $position $names $step]
  if {$at < 0} {
    puts stderr "dry run: the flow never runs $step after step [expr {$position}]"
    exit 1
  }
  set position $at
}
foreach c $calls {
  if {[lindex $c 0] eq "set_property" && [lindex $c 1] eq "-dict"} { puts "ps config: [lindex $c 2]" }
}
puts "dry run: [llength $calls] Vivado commands, flow complete"
