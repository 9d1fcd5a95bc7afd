#!/usr/bin/env bash
# The real MobileNet v2 that npm nsfwjs ships (trained weights) on the accelerator: compiled for
# pynq-z1 with percentile calibration on four photos, run on the cycle model on twelve other
# labelled photos; its top-1 must be the float model's on every one, and its output must agree
# with Kiln's integer reference of the same quantized graph (the last softmax runs in float on
# the CPU, so within float rounding).
#   tests/accel/nsfwjs_accel.sh KILN NSFWJS_MODEL_DIR
set -euo pipefail
KILN="$1" MODEL="$2"
D=/usr/share/doc/opencv-doc/examples/data S=/usr/lib/python3/dist-packages/skimage/data
K=/usr/share/darknet/data
CAL=("$D/apple.jpg" "$D/messi5.jpg" "$S/rocket.jpg" "$D/orange.jpg")
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$KILN" compile "$MODEL" --target accel --config pynq-z1 --calibrate "${CAL[@]}" \
  --calibration percentile -o "$WORK/pkg"
top1() { sed -n 's/^  #1 *\([0-9][0-9]*\) .*/\1/p' "$1"; }
agree=0 n=0
for p in "$S/chelsea.png" "$S/coffee.png" "$S/horse.png" "$S/astronaut.png" "$D/digits.png" \
  "$D/butterfly.jpg" "$D/fruits.jpg" "$D/starry_night.jpg" "$K/eagle.jpg" "$K/giraffe.jpg" \
  "$K/scream.jpg" "$K/dog.jpg"; do
  "$KILN" run "$MODEL" --input "$p" > "$WORK/float.log"
  "$KILN" run "$WORK/pkg" --device sim-cycle --input "$p" -o "$WORK/accel.npy" > "$WORK/accel.log"
  "$KILN" run "$MODEL" --int8 --calibrate "${CAL[@]}" --calibration percentile --input "$p" \
    -o "$WORK/int8.npy" > /dev/null
  /usr/bin/python3 - "$WORK" "$p" <<'PY'
import sys, numpy as np
w, p = sys.argv[1], sys.argv[2]
a, r = np.load(w + "/accel.npy"), np.load(w + "/int8.npy")
if a.shape != r.shape or np.abs(a - r).max() > 1e-6:
    sys.exit(f"{p}: the accelerator's output differs from the integer reference: {a} vs {r}")
PY
  f="$(top1 "$WORK/float.log")" a="$(top1 "$WORK/accel.log")"
  [ -n "$f" ] && [ -n "$a" ] || { echo "no top-1 in kiln run's output for $p" >&2; exit 1; }
  n=$((n + 1))
  if [ "$f" = "$a" ]; then agree=$((agree + 1)); else echo "$(basename "$p"): float $f, accelerator $a"; fi
done
echo "nsfwjs MobileNet v2 on the accelerator (pynq-z1, sim-cycle): top-1 agrees with float on $agree of $n photos"
[ "$agree" -eq "$n" ]
