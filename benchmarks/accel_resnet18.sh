#!/bin/sh
# ResNet-18 on Kiln's accelerator: compile for a config (default pynq-z1, 1x16x16 at 100 MHz),
# run the whole network on the cycle model, print per-layer cycles against the ideal
# (MACs / MACs per cycle), the predicted time at the config's clock against the anchors
# (the ideal, and VTA on a PYNQ-Z1: 0.42 s end to end at the same array size and clock),
# and how long this machine took to simulate it; and check the output bytes against the
# integer reference executor of the same quantized graph.
# The profile's plot (per-layer cycles against the ideal, by stall cause) goes to
# $KILN_PLOT (an .svg path; a .png beside it) when set.
#   benchmarks/accel_resnet18.sh [CONFIG]      (KILN_BUILD=DIR: another build directory)
set -eu
config=${1:-pynq-z1}
build=${KILN_BUILD:-build/release}
kiln=$build/bin/kiln
model=$build/models/resnet18.onnx
photos=/usr/lib/python3/dist-packages/skimage/data
pkg=$(mktemp -d)
trap 'rm -rf "$pkg"' EXIT
[ -f "$model" ] || { echo "no $model: run scripts/gen_models.py $build/models" >&2; exit 1; }
cal="--calibrate $photos/chelsea.png --calibrate $photos/astronaut.png --calibrate $photos/coffee.png"
$kiln compile "$model" --target accel --config "$config" $cal -o "$pkg/r18" | sed 's/^/compile  /'
start=$(date +%s.%N)
$kiln run "$pkg/r18" --device sim-cycle -i "$photos/chelsea.png" -o "$pkg/accel.npy" | grep -E 'device|#1'
end=$(date +%s.%N)
$kiln run "$model" --int8 $cal -i "$photos/chelsea.png" -o "$pkg/ref.npy" > /dev/null
if cmp -s "$pkg/accel.npy" "$pkg/ref.npy"; then same=yes; else same=NO; fi
$kiln profile "$pkg/r18" -i "$photos/chelsea.png" --trace "$pkg/trace.json" \
  --plot "${KILN_PLOT:-$pkg/profile.svg}" | tee "$pkg/profile.txt"
awk -v wall="$(echo "$end - $start" | bc)" -v same="$same" '
  /^package/ { mhz = $0; sub(/.* at /, "", mhz); sub(/ MHz.*/, "", mhz) }
  /^total/ { cycles = $2; ideal = $0; sub(/.*ideal /, "", ideal); sub(/ .*/, "", ideal) }
  END {
    ms = cycles / mhz / 1000
    printf "predicted %.1f ms at %s MHz = %.2fx the ideal (%.1f ms), %.2fx faster than VTA on a PYNQ-Z1 (420 ms)\n", ms, mhz, cycles / ideal, ideal / mhz / 1000, 420 / ms
    printf "simulated on this machine in %.2f s (kiln run, including loading; goal 5 s)\n", wall
    printf "output bytes identical to the integer reference: %s\n", same
  }' "$pkg/profile.txt"
