#!/usr/bin/env bash
# Builds kiln-run from the runtime's sources alone with g++ (the runtime needs neither the
# compiler nor the CUDA toolkit: it opens libcuda and libnvrtc at run time), for a GPU machine
# that has no Kiln build; prints the binary's path. Used by cuda_vs_pytorch.sh and cuda_tune.sh.
#   benchmarks/build_kiln_run.sh [BIN]      (default $KILN_RUN_BIN or /tmp/kiln-run-gpu)
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${1:-${KILN_RUN_BIN:-/tmp/kiln-run-gpu}}"
if [ ! -x "$BIN" ]; then
  inc=(-I"$HERE/runtime/include" -I"$HERE/runtime/package/include" -I"$HERE/runtime/package/src")
  [ -d "${KILN_EXTRA_INCLUDE:-}" ] && inc+=(-I"$KILN_EXTRA_INCLUDE")
  [ -d /usr/local/cuda/include ] && inc+=(-I/usr/local/cuda/include)
  objs=()
  for src in "$HERE"/runtime/src/{dtype,ndarray,npy,thread_pool}.cpp "$HERE"/runtime/src/devices/*.cpp \
             "$HERE"/runtime/package/src/*.cpp "$HERE"/runtime/package/tools/kiln_run.cpp; do
    o="/tmp/kiln-obj-$(basename "$src" .cpp).o"
    g++ -O2 -std=c++20 "${inc[@]}" -c "$src" -o "$o" >&2 &
    objs+=("$o")
  done
  wait
  g++ "${objs[@]}" -ldl -lpthread -rdynamic -o "$BIN" >&2
fi
echo "$BIN"
