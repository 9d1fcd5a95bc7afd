#!/bin/sh
# Kiln's WebGL bundle against onnxruntime-web in the same headless Chromium (WebGL2 on
# SwiftShader), same ONNX file, same input, same run: `kiln bench --targets llvm,webgl` with
# onnxruntime-web's wasm ("ort-web", as many threads as Kiln's pool) and WebGL ("ort-webgl")
# execution providers as anchors; the webgl row's "same browser" line gives each anchor's
# median over Kiln's (> 1: Kiln is faster). Every answer is checked against the llvm target's.
#
#   benchmarks/webgl_vs_ort_web.sh [RUNS] [MODEL...]   (after a release build and gen_models)
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KILN_BUILD:-$root/build/release}
runs=${1:-3}
[ $# -gt 0 ] && shift
models=${*:-$build/models/resnet18.onnx}
for m in $models; do
  [ -f "$m" ] || { echo "$m is missing: run ctest --test-dir $build -R gen_models" >&2; exit 2; }
  "$build/bin/kiln" bench "$m" --targets llvm,webgl --anchors onnxruntime,ort-web,ort-webgl \
    --runs "$runs" --warmup 1
done
