#!/usr/bin/env bash
# Synthesizes the accelerator's RTL (hw/rtl) for the Xilinx 7-series with Yosys
# (synth_xilinx -family xc7) and prints the resources it uses: LUTs, flip-flops, DSP48E1
# and block RAM (RAMB36E1 + RAMB18E1 / 2 as BRAM36), against the Zynq-7020 of the PYNQ-Z1.
#
#   scripts/synth.sh [--config NAME] [--build DIR] [--top MODULE] [--out DIR]
#
# --config  an accelerator config in hw/configs (default pynq-z1)
# --build   the build directory holding hw/generated/<config>/kiln_accel_pkg.sv
#           (default build/release; built with `ninja -C DIR hw-packages`)
# --top     the module to synthesize (default kiln_accel_top)
# --out     where the Yosys log and the resource table go (default DIR/synth/<config>)
#
# Exits non-zero if Yosys fails or a resource exceeds the Zynq-7020's.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config=pynq-z1
build="$root/build/release"
top=kiln_accel_top
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --top) top="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "synth.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
pkg="$build/hw/generated/$config/kiln_accel_pkg.sv"
if [[ ! -f "$pkg" ]]; then
  echo "synth.sh: no package at $pkg; build it with: ninja -C $build hw-packages" >&2
  exit 2
fi
out="${out:-$build/synth/$config}"
mkdir -p "$out"

# The RTL: every module, read from the list hw/CMakeLists.txt keeps (KILN_RTL_MODULES).
rtl="$root/hw/rtl"
mapfile -t modules < <(sed -n '/^set(KILN_RTL_MODULES$/,/^)$/p' "$root/hw/CMakeLists.txt" | sed '1d;$d' | tr -d ' ')
sources=()
for m in "${modules[@]}"; do sources+=("$rtl/$m.sv"); done

script="$out/synth.ys"
cat > "$script" <<YS
read_verilog -sv $pkg ${sources[*]}
synth_xilinx -family xc7 -top $top
tee -o $out/stat.txt stat
YS

start=$(date +%s)
if ! yosys -q -l "$out/yosys.log" -s "$script" > /dev/null; then
  echo "synth.sh: Yosys failed; see $out/yosys.log" >&2
  tail -20 "$out/yosys.log" >&2
  exit 1
fi
secs=$(( $(date +%s) - start ))

# The cell counts of the top's flattened netlist.
# The totals of the whole design: the "design hierarchy" section of Yosys's stat.
stat_cells() {
  awk '/=== design hierarchy ===/ {h = 1} h && /Number of cells:/ {f = 1} f && NF == 2 {print $1, $2}' \
    "$out/stat.txt"
}
sum() { stat_cells | awk -v re="$1" '$1 ~ re {n += $2} END {print n + 0}'; }

luts=$(sum '^LUT[1-6]$')
lutram=$(sum '^RAM(32|64|128|256)[MX0-9]*$')
ffs=$(sum '^FD[CPRSE]+$')
dsps=$(sum '^DSP48E1$')
bram36=$(sum '^RAMB36E1$')
bram18=$(sum '^RAMB18E1$')
carry=$(sum '^CARRY4$')
bram=$(awk -v a="$bram36" -v b="$bram18" 'BEGIN {printf "%.1f", a + b / 2}')

pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f%%", 100 * a / b}'; }
{
  echo "config $config, top $top, Yosys synth_xilinx -family xc7 ($secs s)"
  printf '%-18s %10s %10s %8s\n' resource used xc7z020 share
  printf '%-18s %10s %10s %8s\n' "LUT" "$luts" 53200 "$(pct "$luts" 53200)"
  printf '%-18s %10s %10s %8s\n' "LUT as RAM" "$lutram" 17400 "$(pct "$lutram" 17400)"
  printf '%-18s %10s %10s %8s\n' "FF" "$ffs" 106400 "$(pct "$ffs" 106400)"
  printf '%-18s %10s %10s %8s\n' "DSP48E1" "$dsps" 220 "$(pct "$dsps" 220)"
  printf '%-18s %10s %10s %8s\n' "BRAM36 (36+18/2)" "$bram" 140 "$(pct "$bram" 140)"
  printf '%-18s %10s\n' "CARRY4" "$carry"
} | tee "$out/resources.txt"

awk -v l="$luts" -v f="$ffs" -v d="$dsps" -v b="$bram" \
  'BEGIN {exit !(l <= 53200 && f <= 106400 && d <= 220 && b <= 140)}' || {
  echo "synth.sh: the design does not fit the Zynq-7020" >&2
  exit 1
}
