#!/usr/bin/env bash
# Kiln's LLVM CPU back end against onnxruntime (npm onnxruntime-node, CPU execution provider)
# on the same machine, in the same run, with the same thread count: batch 1, fp32.
#   benchmarks/cpu_vs_onnxruntime.sh [THREADS] [RUNS]
# Prints per model Kiln's median latency, onnxruntime's, and the ratio (> 1: Kiln is faster),
# then the same for the minimum over the runs (the figure least disturbed by other work on a
# shared machine), plus Kiln's compile time. Needs a release build (scripts/test.sh or scripts/demo.sh);
# KILN_BUILD=DIR measures another build directory instead (its bin/kiln and models/);
# BENCH_MODELS="resnet18 mobilenetv2" measures only those models.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
THREADS="${1:-2}"
RUNS="${2:-10}"
KILN="${KILN_BUILD:-$ROOT/build/release}/bin/kiln"
MODELS="${KILN_BUILD:-$ROOT/build/release}/models"
[ -x "$KILN" ] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
[ -f "$MODELS/MANIFEST.txt" ] || /usr/bin/python3 "$ROOT/scripts/gen_models.py" "$MODELS" > /dev/null
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); threads: $THREADS"
printf '%-12s %12s %12s %10s %12s %12s %10s %12s\n' model kiln_ms ort_ms ratio kiln_min_ms ort_min_ms min_ratio compile_ms
for m in ${BENCH_MODELS:-resnet18 mobilenetv2 resnet50 squeezenet1_1}; do
  /usr/bin/python3 - "$MODELS/$m.onnx" "$SCRATCH/$m.npy" <<'PY'
import sys, numpy as np
np.save(sys.argv[2], np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32))
PY
  out="$(KILN_NUM_THREADS=$THREADS "$KILN" run "$MODELS/$m.onnx" --input "$SCRATCH/$m.npy" --target llvm --repeat "$RUNS")"
  kiln_ms="$(sed -n 's/^time *\([0-9.]*\) ms.*/\1/p' <<< "$out")"
  kiln_min="$(sed -n 's/^time .*, min \([0-9.]*\) ms.*/\1/p' <<< "$out")"
  compile_ms="$(sed -n 's/.*kernels compiled in \([0-9.]*\) ms.*/\1/p' <<< "$out")"
  ort="$(node "$ROOT/scripts/node/bench_ort.mjs" "$MODELS/$m.onnx" --threads "$THREADS" --runs "$RUNS" --warmup 2)"
  ort_ms="$(sed -n 's/.*"median_ms":\([0-9.]*\).*/\1/p' <<< "$ort")"
  ort_min="$(sed -n 's/.*"min_ms":\([0-9.]*\).*/\1/p' <<< "$ort")"
  ratio="$(/usr/bin/python3 -c "print(f'{$ort_ms/$kiln_ms:.3f}')")"
  min_ratio="$(/usr/bin/python3 -c "print(f'{$ort_min/$kiln_min:.3f}')")"
  printf '%-12s %12s %12s %10s %12s %12s %10s %12s\n' "$m" "$kiln_ms" "$ort_ms" "${ratio}x" \
    "$kiln_min" "$ort_min" "${min_ratio}x" "$compile_ms"
done
