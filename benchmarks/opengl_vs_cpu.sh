#!/usr/bin/env bash
# The OpenGL back end (GLSL fragment shaders on this machine's OpenGL ES 3 through EGL; Mesa's
# llvmpipe where there is no GPU) against Kiln's LLVM CPU back end, same model, same input,
# same run: batch 1, fp32.
#   benchmarks/opengl_vs_cpu.sh [RUNS] [MODELS...]
# Prints per model the median latency of each (after the first run, which compiles the
# shaders), the ratio (> 1: OpenGL is faster) and the time to first answer on OpenGL
# (shader compilation included). KILN_BUILD=DIR measures another build directory.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-3}"
shift || true
MODELS_LIST=("${@:-resnet18 mobilenetv2 squeezenet1_1}")
KILN="${KILN_BUILD:-$ROOT/build/release}/bin/kiln"
MODELS="${KILN_BUILD:-$ROOT/build/release}/models"
[ -x "$KILN" ] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
[ -f "$MODELS/MANIFEST.txt" ] || /usr/bin/python3 "$ROOT/scripts/gen_models.py" "$MODELS" > /dev/null
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT
/usr/bin/python3 - "$SCRATCH/x.npy" <<'PY'
import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32))
PY

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-14s %12s %12s %10s %16s\n' model opengl_ms llvm_ms ratio gl_first_ms
for m in ${MODELS_LIST[@]}; do
  gl="$("$KILN" compile "$MODELS/$m.onnx" --target webgl -o "$SCRATCH/$m" > /dev/null &&
        "$KILN" run "$SCRATCH/$m" --device opengl --input "$SCRATCH/x.npy" --repeat 1)"
  first_ms="$(sed -n 's/^time *\([0-9.]*\) ms.*/\1/p' <<< "$gl")"
  gl="$("$KILN" run "$MODELS/$m.onnx" --target opengl --input "$SCRATCH/x.npy" --repeat $((RUNS + 1)))"
  gl_ms="$(sed -n 's/^time *\([0-9.]*\) ms.*/\1/p' <<< "$gl")"
  cpu="$("$KILN" run "$MODELS/$m.onnx" --target llvm --input "$SCRATCH/x.npy" --repeat "$RUNS")"
  cpu_ms="$(sed -n 's/^time *\([0-9.]*\) ms.*/\1/p' <<< "$cpu")"
  ratio="$(/usr/bin/python3 -c "print(f'{$cpu_ms/$gl_ms:.4f}')")"
  printf '%-14s %12s %12s %10s %16s\n' "$m" "$gl_ms" "$cpu_ms" "${ratio}x" "$first_ms"
done
echo "opengl device: $(sed -n 's/^device *//p' <<< "$gl")"
