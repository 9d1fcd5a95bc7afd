#!/usr/bin/env bash
# Schedule variants side by side on an NVIDIA GPU: each VARIANT is an environment for
# `kiln compile` (KILN_GPU_TUNE=oc=16,ow=8,rc=4 ... sets GpuTarget's tile sizes, see
# gpu_schedule.h; '' is the defaults). For every model and batch, every variant's CUDA package
# is compiled and loaded once (in parallel: NVRTC's compile is cached by source; a load that
# fails or outlasts LOAD_TIMEOUT seconds, default 300, marks the package no-load), then timed
# alone, one after another (kiln-run --device-time 200: mean of 200 CUDA-graph replays on
# inputs already on the GPU), and its output checked against the first variant's
# (max |diff| <= 1e-4 x max |first|), the first's against the reference executor at batch 1
# and the LLVM CPU back end at larger batches.
#   benchmarks/cuda_tune.sh OUT VARIANT...
# MODELS (default "resnet18 resnet50"), BATCHES (default "1 16"), TARGET (default cuda; opencl
# tries the script on PoCL); KILN_BUILD=DIR uses
# DIR/bin/kiln and DIR/models (default build/release), KILN_PYTHON one with numpy; KILN_PROFILE=N also prints each
# package's launches against their ideal (gpu_profile.py) for the variants named in
# PROFILE_VARIANTS (their indices, default "0").
set -euo pipefail
OUT="$1"
shift
HERE="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${KILN_BUILD:-build/release}"
KILN="$BUILD/bin/kiln" MODELS_DIR="$BUILD/models"
BIN="$(bash "$HERE/benchmarks/build_kiln_run.sh")"
PY="${KILN_PYTHON:-python3}"  # with numpy
read -r -a models <<< "${MODELS:-resnet18 resnet50}"
read -r -a batches <<< "${BATCHES:-1 16}"
variants=("$@")
mkdir -p "$OUT"
status=0
for m in "${models[@]}"; do
  for b in "${batches[@]}"; do
    "$PY" - "$OUT/$m-b$b-in.npy" "$b" <<'PY'
import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(7).uniform(-1, 1, (int(sys.argv[2]), 3, 224, 224)).astype(np.float32))
PY
    if [ "$b" = 1 ]; then
      "$KILN" run "$MODELS_DIR/$m.onnx" -i "$OUT/$m-b$b-in.npy" -o "$OUT/$m-b$b-ref.npy" > /dev/null
    else  # the LLVM CPU back end (the reference executor is slow at batch 16)
      "$KILN" run "$MODELS_DIR/$m.onnx" --target llvm --shape "input=${b}x3x224x224" \
        -i "$OUT/$m-b$b-in.npy" -o "$OUT/$m-b$b-ref.npy" > /dev/null
    fi
    for v in "${!variants[@]}"; do
      env ${variants[$v]} "$KILN" compile "$MODELS_DIR/$m.onnx" --target "${TARGET:-cuda}" \
        --shape "input=${b}x3x224x224" -o "$OUT/$m-b$b-v$v" > /dev/null
      { timeout "${LOAD_TIMEOUT:-300}" "$BIN" "$OUT/$m-b$b-v$v" -i "$OUT/$m-b$b-in.npy" \
          > "$OUT/$m-b$b-v$v.load.log" 2>&1 || touch "$OUT/$m-b$b-v$v.unloaded"; } &
    done
  done
done
wait
printf '%-4s %-40s' "" "variant"
for m in "${models[@]}"; do for b in "${batches[@]}"; do printf ' %12s' "$m-b$b"; done; done
printf "   (ms per run on the device)\n"
for v in "${!variants[@]}"; do
  printf '%-4s %-40s' "v$v" "${variants[$v]:-(defaults)}"
  for m in "${models[@]}"; do
    for b in "${batches[@]}"; do
      d="$OUT/$m-b$b-v$v"
      prof=()
      [ -n "${KILN_PROFILE:-}" ] && [[ " ${PROFILE_VARIANTS:-0} " == *" $v "* ]] && prof=(--profile "$KILN_PROFILE")
      if [ -f "$d.unloaded" ]; then  # its first load failed or outlasted LOAD_TIMEOUT
        printf ' %12s' "no-load"
        status=1
        continue
      fi
      if ! "$BIN" "$d" -i "$OUT/$m-b$b-in.npy" -o "$d-out.npy" --repeat 3 --device-time 200 \
          "${prof[@]}" > "$d.log" 2>&1; then
        printf ' %12s' FAILED
        status=1
        continue
      fi
      ref="$OUT/$m-b$b-v0-out.npy"
      [ "$v" = 0 ] && ref="$OUT/$m-b$b-ref.npy"
      ok=$("$PY" - "$d-out.npy" "$ref" <<'PY'
import sys, numpy as np
got, want = (np.load(f).astype(np.float64) for f in sys.argv[1:3])
rel = float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30)) if got.shape == want.shape else 1.0
print("" if rel <= 1e-4 else f"!{rel:.1e}")
PY
)
      [ -n "$ok" ] && status=1
      printf ' %12s' "$(awk '/^device/ {print $2}' "$d.log")$ok"
    done
  done
  printf '\n'
done
if [ -n "${KILN_PROFILE:-}" ]; then
  for v in ${PROFILE_VARIANTS:-0}; do
    for m in "${models[@]}"; do
      for b in "${batches[@]}"; do
        echo "== $m batch $b, v$v: launches against their ideal (fp32 peak, HBM bandwidth)"
        "$PY" "$HERE/benchmarks/gpu_profile.py" "$OUT/$m-b$b-v$v" "$OUT/$m-b$b-v$v.log" | head -"${PROFILE_LINES:-16}" || true
      done
    done
  done
fi
exit $status
