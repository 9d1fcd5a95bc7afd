#!/usr/bin/env bash
# A board stand-in over RPC: kiln-rpc (cross-compiled for the board's CPU, run under
# qemu-user, or this machine's) serves on loopback; the host compiles a model for that CPU,
# `kiln run PACKAGE --rpc` uploads and runs it there, and the output must match the reference
# executor on this machine (max |rpc - reference| <= 1e-4 * max |reference|).
#   scripts/rpc-package-test.sh armv7|aarch64|host KILN RUNTIME_BUILD_DIR MODELS_DIR MODEL
set -euo pipefail
CPU="$1" KILN="$2" RUNTIME="$3" MODELS="$4" MODEL="$5"
case "$CPU" in
  armv7) QEMU=(qemu-arm -L /usr/arm-linux-gnueabihf) ;;
  aarch64) QEMU=(qemu-aarch64 -L /usr/aarch64-linux-gnu) ;;
  host) QEMU=() ;;
  *) echo "unknown CPU $CPU" >&2; exit 2 ;;
esac
WORK="$(mktemp -d)"
PORT=$((20000 + RANDOM % 20000))
export KILN_RPC_TOKEN="kiln-test-token-$RANDOM$RANDOM"
"${QEMU[@]}" "$RUNTIME/bin/kiln-rpc" serve --bind 127.0.0.1 --port "$PORT" --work-dir "$WORK/server" > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2> /dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do grep -q listening "$WORK/server.log" 2> /dev/null && break; sleep 0.1; done
"$KILN" compile "$MODELS/$MODEL.onnx" --cpu "$CPU" -o "$WORK/pkg" > /dev/null
/usr/bin/python3 -c "import numpy as np, json, sys
m = json.load(open(sys.argv[1])); v = m['values'][m['inputs'][0]]
np.save(sys.argv[2], np.random.default_rng(5).standard_normal(v['shape']).astype(np.float32))" "$WORK/pkg/manifest.json" "$WORK/in.npy"
"$KILN" run "$WORK/pkg" --rpc "127.0.0.1:$PORT" -i "$WORK/in.npy" -o "$WORK/rpc.npy" | sed -n 's/^device/device/p'
"$KILN" run "$MODELS/$MODEL.onnx" -i "$WORK/in.npy" -o "$WORK/ref.npy" > /dev/null
/usr/bin/python3 - "$WORK" "$MODEL" "$CPU" <<'PY'
import sys, numpy as np
q, r = np.load(sys.argv[1] + "/rpc.npy"), np.load(sys.argv[1] + "/ref.npy")
rel = np.abs(q - r).max() / max(np.abs(r).max(), 1e-30)
print(f"{sys.argv[2]} on {sys.argv[3]} over RPC: max rel diff {rel:.2e}")
sys.exit(0 if q.shape == r.shape and rel <= 1e-4 else f"differs from the reference ({rel})")
PY
echo "rpc package run: output matches"
