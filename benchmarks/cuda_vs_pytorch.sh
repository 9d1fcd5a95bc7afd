#!/usr/bin/env bash
# Runs on a machine with an NVIDIA GPU, PyTorch and torchvision: Kiln's CUDA packages (made by
# benchmarks/cuda_prepare.sh) against the reference outputs, then timed beside PyTorch on the
# same GPU in the same run.
#   benchmarks/cuda_vs_pytorch.sh PKGDIR [torch [MODEL...]]
# Builds kiln-run from the runtime's sources alone (build_kiln_run.sh), then for each
# package: the outputs against the reference (max |kiln - ref| <= 1e-4 * max |ref|; for the
# operator tests' packages, ops-*, 1e-4 * max(1, max |ref|)), and
# `kiln-run --device-time 200` (mean of 200 replays of the network's CUDA graph on inputs
# already on the GPU, after the warm-up runs). With "torch": PyTorch's eager, CUDA-graph and
# torch.compile times for ResNet-18/50 at batch 1 and 16 (benchmarks/pytorch_resnet.py).
# KILN_PROFILE=N also lists each package's slowest launches against their ideal (kiln-run
# --profile N, read by gpu_profile.py).
set -euo pipefail
PKG="$1"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$(bash "$HERE/benchmarks/build_kiln_run.sh")"
for p in "$PKG"/resnet50-b1; do  # join parameters that travelled in halves
  [ -f "$p/params.bin.part0" ] && [ -f "$p/params.bin.part1" ] && cat "$p"/params.bin.part{0,1} > "$p/params.bin"
done
status=0
for dir in "$PKG"/*/; do
  dir="${dir%/}"
  [ -f "$dir/manifest.json" ] || continue
  [ -f "$dir/$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['params'])" "$dir/manifest.json")" ] || continue
  ins=() outs=()
  ls "$dir"/in*.npy > /dev/null 2>&1 || python3 - "$dir" <<'PY'
import json, sys, numpy as np
d = sys.argv[1]
m = json.load(open(f"{d}/manifest.json"))
for k, i in enumerate(m["inputs"]):
    np.save(f"{d}/in{k}.npy", np.random.default_rng(7).uniform(-1, 1, m["values"][i]["shape"]).astype(np.float32))
PY
  for ((k = 0; ; k++)); do [ -f "$dir/in$k.npy" ] || break; ins+=(-i "$dir/in$k.npy"); done
  for ((k = 0; ; k++)); do [ -f "$dir/ref$k.npy" ] || break; outs+=(-o "$dir/out$k.npy"); done
  prof=()
  [ -n "${KILN_PROFILE:-}" ] && prof=(--profile "$KILN_PROFILE")
  "$BIN" "$dir" "${ins[@]}" "${outs[@]}" --repeat 20 --device-time 200 "${prof[@]}" > "$dir.log" 2>&1 || { cat "$dir.log"; status=1; continue; }
  [ -n "${KILN_PROFILE:-}" ] && python3 "$HERE/benchmarks/gpu_profile.py" "$dir" "$dir.log" | head -25 || true
  printf '%-22s %s | %s\n' "$(basename "$dir")" "$(grep '^time' "$dir.log")" "$(grep '^device' "$dir.log")"
  python3 - "$dir" <<'PY' || status=1
import glob, sys, numpy as np
d = sys.argv[1]
worst, bad = 0.0, []
refs = sorted(glob.glob(f"{d}/ref*.npy"))
for r in refs:
    want = np.load(r).astype(np.float64)
    got = np.load(r.replace("/ref", "/out")).astype(np.float64)
    rel = float(np.abs(got - want).max() / max(np.abs(want).max(), 1.0 if "/ops-" in d else 1e-30)) if want.size else 0.0
    worst = max(worst, rel)
    if got.shape != want.shape or not rel <= 1e-4:
        bad.append(f"{r.split('/')[-1]} ({rel:.2e})")
if refs:
    print(f"    {len(refs)} outputs, max rel diff {worst:.2e}: {'ok' if not bad else 'MISMATCH ' + ', '.join(bad)}")
sys.exit(1 if bad else 0)
PY
done
head -2 "$(ls "$PKG"/*.log | head -1)" | tail -1
if [ "${2:-}" = torch ]; then python3 "$HERE/benchmarks/pytorch_resnet.py" "${@:3}"; fi
exit $status
