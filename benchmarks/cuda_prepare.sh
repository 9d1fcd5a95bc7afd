#!/usr/bin/env bash
# Prepares what benchmarks/cuda_vs_pytorch.sh runs on a GPU machine: CUDA packages compiled
# here (the GPU machine needs no compiler, only the runtime), seeded inputs, and the reference
# executor's outputs for the batch-1 models (the correctness check there; the other packages
# get their random inputs there).
#   benchmarks/cuda_prepare.sh OUT [GROUP]
# GROUP: resnet18 (ResNet-18 at batch 1 and 16, plus SqueezeNet and the
# untuned test models), mobilenetv2, resnet50a (the first half of ResNet-50's parameters alone),
# resnet50b (the rest of ResNet-50 at batch 1 and 16), or all (everything, whole).
# The GPU machine this was measured on receives at most 64 MiB per call, so ResNet-50's
# 100 MB of parameters travel in two halves (params.bin.part0, then .part1) joined there.
# Batch 16 shares batch 1's params.bin (same network, same constants).
# KILN_BUILD=DIR uses DIR/bin/kiln and DIR/models (default build/release).
set -euo pipefail
OUT="$1" GROUP="${2:-all}"
BUILD="${KILN_BUILD:-build/release}"
KILN="$BUILD/bin/kiln" MODELS="$BUILD/models"
PY="${KILN_PYTHON:-/usr/bin/python3}"  # with numpy
mkdir -p "$OUT"

package() {  # model batch [reference]
  local m="$1" b="$2" dir="$OUT/$1-b$2"
  local shape=()
  [ "$b" != 1 ] && shape=(--shape "input=${b}x3x224x224")
  "$KILN" compile "$MODELS/$m.onnx" --target cuda "${shape[@]}" -o "$dir" > /dev/null
  [ "${3:-}" = ref ] && "$PY" - "$dir" <<'PY'
import json, sys, numpy as np
d = sys.argv[1]
m = json.load(open(f"{d}/manifest.json"))
rng = np.random.default_rng(7)
for k, i in enumerate(m["inputs"]):
    np.save(f"{d}/in{k}.npy", rng.uniform(-1, 1, m["values"][i]["shape"]).astype(np.float32))
PY
  if [ "${3:-}" = ref ]; then
    local ins=() outs=()
    for f in "$dir"/in*.npy; do ins+=(-i "$f"); done
    local n
    n="$("$PY" -c "import json,sys; print(len(json.load(open(sys.argv[1]))['outputs']))" "$dir/manifest.json")"
    for ((k = 0; k < n; k++)); do outs+=(-o "$dir/ref$k.npy"); done
    "$KILN" run "$MODELS/$m.onnx" "${ins[@]}" "${outs[@]}" --shape "input=${b}x3x224x224" > /dev/null 2>&1 ||
      "$KILN" run "$MODELS/$m.onnx" "${ins[@]}" "${outs[@]}" > /dev/null
  fi
}
share_params() {  # model: batch 16 reads batch 1's parameters
  rm "$OUT/$1-b16/params.bin"
  "$PY" - "$OUT/$1-b16/manifest.json" "../$1-b1/params.bin" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); m["params"] = sys.argv[2]
json.dump(m, open(sys.argv[1], "w"), indent=1)
PY
}

if [ "$GROUP" = resnet18 ] || [ "$GROUP" = all ]; then
  package resnet18 1 ref
  package resnet18 16
  share_params resnet18
  for m in squeezenet1_1 odd_input grouped_dilated asym_pads avgpool_pad gemm_variants \
           broadcast_ops softmax_opset11 concat_reshape batch3 nhwc_transpose auto_pad; do
    package "$m" 1 ref
  done
fi
if [ "$GROUP" = mobilenetv2 ] || [ "$GROUP" = all ]; then
  package mobilenetv2 1 ref
fi
if [ "$GROUP" = resnet50a ] || [ "$GROUP" = resnet50b ] || [ "$GROUP" = all ]; then
  package resnet50 1 ref
  package resnet50 16
  share_params resnet50
  if [ "$GROUP" != all ]; then
    p="$OUT/resnet50-b1/params.bin"
    half=$(( ($(stat -c %s "$p") + 1) / 2 ))
    split -b "$half" -d -a 1 "$p" "$p.part"
    rm "$p"
    [ "$GROUP" = resnet50a ] && rm -r "$OUT"/resnet50-b1/params.bin.part1 "$OUT"/resnet50-b1/ref* \
      "$OUT"/resnet50-b1/*.cu "$OUT"/resnet50-b16
    [ "$GROUP" = resnet50b ] && rm "$OUT"/resnet50-b1/params.bin.part0
  fi
fi
du -sh "$OUT"
