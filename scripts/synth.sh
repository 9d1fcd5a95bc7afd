#!/usr/bin/env bash
# Synthesizes the accelerator's RTL (hw/rtl) with Yosys (synth_xilinx) and prints the
# resources it uses: LUTs, flip-flops, DSPs and block RAM (36 Kb blocks + 18 Kb blocks / 2 as
# BRAM36, UltraRAM), against a board's part: the Zynq-7020 of the PYNQ-Z1 by default
# (-family xc7), or a board's (boards/NAME.yaml: its part's family and resources; Zynq
# UltraScale+ parts synthesize with -family xcup -uram, so that the buffer the spec puts in
# UltraRAM, by its ram_style attribute, becomes URAM288s).
#
#   scripts/synth.sh [--config NAME] [--board NAME] [--build DIR] [--top MODULE] [--out DIR]
#
# --config  an accelerator config in hw/configs (default pynq-z1; with --board, the board's)
# --board   a board in boards/ (default pynq-z1)
# --build   the build directory holding hw/generated/<config>/kiln_accel_pkg.sv
#           (default build/release; built with `ninja -C DIR hw-packages`)
# --top     the module to synthesize (default kiln_accel_top)
# --out     where the Yosys log and the resource table go (default DIR/synth/<config>)
#
# Exits non-zero if Yosys fails or a resource exceeds the Zynq-7020's.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config=""
board=pynq-z1
build="$root/build/release"
top=kiln_accel_top
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    --board) board="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --top) top="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "synth.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
# The board's part: family and resources, from its description.
board_file="$root/boards/$board.yaml"
[[ -f "$board_file" ]] || { echo "synth.sh: no board '$board' (boards/*.yaml)" >&2; exit 2; }
read -r family part board_config lut_max ff_max dsp_max bram_max uram_max < <(/usr/bin/python3 - "$board_file" <<'PY'
import sys, yaml
b = yaml.safe_load(open(sys.argv[1]))
r = b["resources"]
fam = {"zynq-7000": "xc7", "zynq-ultrascale+": "xcup"}[b["family"]]
print(fam, b["part"], b["accelerator"]["config"], r["lut"], r["ff"], r["dsp"], r["bram36"], r.get("uram", 0))
PY
)
config="${config:-$board_config}"
if [[ "$family" == xc7 ]]; then
  dsp_cell=DSP48E1 ram_sfx=E1 carry_cell=CARRY4 family_opts=""
else
  dsp_cell=DSP48E2 ram_sfx=E2 carry_cell="CARRY[48]" family_opts="-uram"
fi
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
synth_xilinx -family $family $family_opts -top $top
tee -o $out/stat.txt stat
YS

start=$(date +%s)
if ! yosys -q -l "$out/yosys.log" -s "$script" > /dev/null 2>&1; then  # warnings: in the log
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
dsps=$(sum "^$dsp_cell\$")
bram36=$(sum "^RAMB36$ram_sfx\$")
bram18=$(sum "^RAMB18$ram_sfx\$")
urams=$(sum '^URAM288')
carry=$(sum "^$carry_cell\$")
bram=$(awk -v a="$bram36" -v b="$bram18" 'BEGIN {printf "%.1f", a + b / 2}')

pct() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.1f%%", 100 * a / b; else print "-"}'; }
{
  echo "config $config, top $top, Yosys synth_xilinx -family $family ($secs s), against $part ($board)"
  printf '%-18s %10s %10s %8s\n' resource used "$part" share
  printf '%-18s %10s %10s %8s\n' "LUT" "$luts" "$lut_max" "$(pct "$luts" "$lut_max")"
  printf '%-18s %10s\n' "LUT as RAM" "$lutram"
  printf '%-18s %10s %10s %8s\n' "FF" "$ffs" "$ff_max" "$(pct "$ffs" "$ff_max")"
  printf '%-18s %10s %10s %8s\n' "$dsp_cell" "$dsps" "$dsp_max" "$(pct "$dsps" "$dsp_max")"
  printf '%-18s %10s %10s %8s\n' "BRAM36 (36+18/2)" "$bram" "$bram_max" "$(pct "$bram" "$bram_max")"
  [[ "$family" == xc7 ]] || printf '%-18s %10s %10s %8s\n' "URAM288" "$urams" "$uram_max" "$(pct "$urams" "$uram_max")"
  printf '%-18s %10s\n' "${carry_cell/\[48\]/4+8}" "$carry"
} | tee "$out/resources.txt"

awk -v l="$luts" -v f="$ffs" -v d="$dsps" -v b="$bram" -v u="$urams" \
  -v L="$lut_max" -v F="$ff_max" -v D="$dsp_max" -v B="$bram_max" -v U="$uram_max" \
  'BEGIN {exit !(l <= L && f <= F && d <= D && b <= B && u <= U)}' || {
  echo "synth.sh: the design does not fit the $part ($board)" >&2
  exit 1
}
