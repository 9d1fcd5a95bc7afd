#!/usr/bin/env bash
# The main job (the README's first command): sets up, builds, and runs bundled models.
#   1. ResNet-18 (generated, seeded random weights) through the reference executor and
#      compiled for this CPU (LLVM);
#   2. the same ResNet-18 quantized to int8 and compiled for Kiln's accelerator (pynq-z1),
#      run on the accelerator's cycle model, with its per-layer cycles;
#   3. the real ImageNet-pretrained MobileNet v2 that npm nsfwjs ships (5 classes), on
#      labelled photos from Debian packages, printing its answer and timings.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
cmake --preset release > /dev/null
cmake --build --preset release --target kiln
KILN=build/release/bin/kiln
MODELS=build/release/models
[ -f "$MODELS/MANIFEST.txt" ] || /usr/bin/python3 scripts/gen_models.py "$MODELS" > /dev/null
NSFW=build/release/nsfwjs-mobilenetv2
[ -f "$NSFW/model.json" ] || node scripts/node/extract_tfjs.mjs scripts/node/node_modules/nsfwjs "$NSFW" --model mobilenet_v2 > /dev/null

CAT=/usr/lib/python3/dist-packages/skimage/data/chelsea.png
echo "== kiln info: ResNet-18 =="
$KILN info "$MODELS/resnet18.onnx"
echo
echo "== ResNet-18 (random weights, so the class is arbitrary) on chelsea.png, reference executor =="
$KILN run "$MODELS/resnet18.onnx" --input "$CAT"
echo
echo "== The same, compiled for this CPU by the LLVM back end =="
$KILN run "$MODELS/resnet18.onnx" --input "$CAT" --target llvm --repeat 5
echo
echo "== The same, quantized to int8 and compiled for the accelerator (pynq-z1), on its cycle model =="
ACCEL=build/release/demo-resnet18-pynq-z1
$KILN compile "$MODELS/resnet18.onnx" --target accel --config pynq-z1 --calibrate "$CAT" -o "$ACCEL"
$KILN run "$ACCEL" --input "$CAT" --device sim-cycle
echo
echo "== Where the accelerator's time goes (cycles per layer; the trace opens in Perfetto) =="
$KILN profile "$ACCEL" -i "$CAT"
echo
echo "== MobileNet v2 from nsfwjs (real weights) on labelled photos, compiled for this CPU =="
for img in "$CAT" /usr/share/darknet/data/eagle.jpg /usr/share/doc/opencv-doc/examples/data/orange.jpg; do
  echo "-- $(basename "$img")"
  $KILN run "$NSFW" --input "$img" --top 3 --target llvm
done
