#!/usr/bin/env bash
# OpenCL on PoCL (OpenCL on this machine's CPU) against Kiln's LLVM CPU back end, same model,
# same machine, same run: both compiled into packages and run by kiln-run, median of N runs
# after a warm-up run (PoCL compiles each kernel for the CPU on its first launch).
#   benchmarks/opencl_vs_llvm.sh [N] [MODEL...]   (default 5; resnet18 mobilenetv2 squeezenet1_1)
# The OpenCL kernels are the GPU schedules' (blocks and threads), which PoCL maps onto the CPU's
# cores and vector lanes; the LLVM kernels are the CPU schedules'. KILN_BUILD=DIR picks the
# build (default build/release: its bin/kiln, bin/kiln-run and models/).
set -euo pipefail
N="${1:-5}"
shift || true
MODELS=("$@")
[ ${#MODELS[@]} -eq 0 ] && MODELS=(resnet18 mobilenetv2 squeezenet1_1)
BUILD="${KILN_BUILD:-build/release}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
/usr/bin/python3 -c "import numpy as np; np.save('$WORK/x.npy', np.random.default_rng(1).uniform(-1, 1, (1, 3, 224, 224)).astype(np.float32))"
ms() { "$BUILD/bin/kiln-run" "$1" -i "$WORK/x.npy" --repeat "$N" | awk '/^time/ {print $2}'; }
printf '%-14s %12s %12s %8s\n' model "opencl (ms)" "llvm (ms)" "ratio"
for m in "${MODELS[@]}"; do
  "$BUILD/bin/kiln" compile "$BUILD/models/$m.onnx" --target opencl -o "$WORK/$m.cl" > /dev/null
  "$BUILD/bin/kiln" compile "$BUILD/models/$m.onnx" --target llvm -o "$WORK/$m.cpu" > /dev/null
  "$BUILD/bin/kiln-run" "$WORK/$m.cl" -i "$WORK/x.npy" > /dev/null  # warm-up: PoCL's compiles
  cl="$(ms "$WORK/$m.cl")" cpu="$(ms "$WORK/$m.cpu")"
  printf '%-14s %12s %12s %7.2fx\n' "$m" "$cl" "$cpu" "$(awk -v a="$cpu" -v b="$cl" 'BEGIN { print a / b }')"
done
