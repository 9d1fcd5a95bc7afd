#!/usr/bin/env bash
# Builds the ONNX-importer fuzzer (clang, libFuzzer + ASan + UBSan) and runs it for a while,
# seeded with the small models of the ONNX node tests.
#   scripts/fuzz.sh [SECONDS]   (default 60)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_TO_RUN="${1:-60}"
cd "$ROOT"
cmake --preset fuzz > /dev/null
cmake --build build/fuzz --target fuzz_onnx_import
CORPUS="build/fuzz/corpus"
mkdir -p "$CORPUS"
# Seed corpus: one model per node-test directory for the operators Kiln supports.
for d in /usr/share/libonnx-testdata/data/node/test_{conv,maxpool,averagepool,gemm,reshape,concat,softmax,batchnorm,transpose,slice,gather,clip}*; do
  [ -f "$d/model.onnx" ] && cp -n "$d/model.onnx" "$CORPUS/$(basename "$d").onnx" || true
done
# Crash reproducers land in build/fuzz/artifacts; a crash fails this script.
mkdir -p build/fuzz/artifacts
ASAN_OPTIONS=detect_leaks=1 ./build/fuzz/compiler/fuzz_onnx_import "$CORPUS" compiler/fuzz/corpus \
  -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=4096 -timeout=10 -max_len=65536 \
  -artifact_prefix=build/fuzz/artifacts/ -print_final_stats=1 2>&1 | tail -n 15
