#!/usr/bin/env bash
# Compiles models into packages for a CPU and runs them with the runtime alone (kiln-run):
# a board's CPU under qemu-user with the cross-compiled runtime, or this machine's. Every
# output is compared with the reference executor on this machine.
#   scripts/cross-run-package.sh armv7|aarch64|host KILN RUNTIME_BUILD_DIR MODELS_DIR MODEL...
# Tolerance: max |qemu - reference| <= 1e-4 * max |reference| per output.
set -euo pipefail
CPU="$1" KILN="$2" CROSS="$3" MODELS="$4"
shift 4
case "$CPU" in
  armv7) QEMU=(qemu-arm -L /usr/arm-linux-gnueabihf) ;;
  aarch64) QEMU=(qemu-aarch64 -L /usr/aarch64-linux-gnu) ;;
  host) QEMU=(env) ;;
  *) echo "unknown CPU $CPU (armv7, aarch64, host)" >&2; exit 2 ;;
esac
RUN="$CROSS/bin/kiln-run"
[ -x "$RUN" ] || { echo "no cross-compiled kiln-run at $RUN (scripts/cross-test.sh builds it)" >&2; exit 2; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for model in "$@"; do
  "$KILN" compile "$MODELS/$model.onnx" --cpu "$CPU" -o "$WORK/$model.pkg" > /dev/null
  # Inputs in the package's order, from its manifest.
  mapfile -t INPUTS < <(/usr/bin/python3 - "$WORK/$model.pkg/manifest.json" "$WORK/$model" <<'PY'
import json, sys, numpy as np
m = json.load(open(sys.argv[1]))
rng = np.random.default_rng(3)
for k, i in enumerate(m["inputs"]):
    v = m["values"][i]
    path = f"{sys.argv[2]}.in{k}.npy"
    np.save(path, rng.standard_normal(v["shape"]).astype(np.float32))
    print(f"{v['name']}={path}")
PY
)
  IN_ARGS=()
  REF_ARGS=()
  for spec in "${INPUTS[@]}"; do IN_ARGS+=(-i "${spec#*=}"); REF_ARGS+=(-i "$spec"); done
  NOUT="$(/usr/bin/python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['outputs']))" "$WORK/$model.pkg/manifest.json")"
  OUT_Q=() OUT_R=()
  for ((k = 0; k < NOUT; k++)); do OUT_Q+=(-o "$WORK/$model.q$k.npy"); OUT_R+=(-o "$WORK/$model.r$k.npy"); done
  "${QEMU[@]}" "$RUN" "$WORK/$model.pkg" "${IN_ARGS[@]}" "${OUT_Q[@]}" > "$WORK/$model.log"
  "$KILN" run "$MODELS/$model.onnx" "${REF_ARGS[@]}" "${OUT_R[@]}" > /dev/null
  /usr/bin/python3 - "$WORK/$model" "$NOUT" "$model" "$CPU" <<'PY'
import sys, numpy as np
base, n, model, cpu = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
for k in range(n):
    q, r = np.load(f"{base}.q{k}.npy"), np.load(f"{base}.r{k}.npy")
    rel = np.abs(q - r).max() / max(np.abs(r).max(), 1e-30)
    print(f"{model} on {cpu}: output {k} {list(r.shape)} max rel diff {rel:.2e}")
    if q.shape != r.shape or not rel <= 1e-4:
        sys.exit(f"{model}: output {k} differs from the reference (relative {rel})")
PY
done
echo "packages for $CPU: all outputs match"
