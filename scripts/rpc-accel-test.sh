#!/usr/bin/env bash
# A board stand-in running an accelerator package over RPC: kiln-rpc (cross-compiled for the
# board's CPU and run under qemu-user, or this machine's) serves with --device sim-func, the
# driver's functional reference of the accelerator, as a PYNQ's would serve with --device
# board. The host compiles a ResNet basic block for the accelerator (host part for the board's
# CPU) and `kiln run PACKAGE --rpc` uploads and runs it there. Its output must be bit-identical
# to the same model compiled for this machine and run here on sim-func and on sim-cycle.
#   scripts/rpc-accel-test.sh armv7|aarch64|host KILN RUNTIME_BUILD_DIR ACCEL_MODELS_DIR
set -euo pipefail
CPU="$1" KILN="$2" RUNTIME="$3" MODELS="$4"
case "$CPU" in
  armv7) QEMU=(qemu-arm -L /usr/arm-linux-gnueabihf) ;;
  aarch64) QEMU=(qemu-aarch64 -L /usr/aarch64-linux-gnu) ;;
  host) QEMU=() ;;
  *) echo "unknown CPU $CPU (armv7, aarch64, host)" >&2; exit 2 ;;
esac
WORK="$(mktemp -d)"
PORT=$((20000 + RANDOM % 20000))
export KILN_RPC_TOKEN="kiln-test-token-$RANDOM$RANDOM"
"${QEMU[@]}" "$RUNTIME/bin/kiln-rpc" serve --bind 127.0.0.1 --port "$PORT" --device sim-func \
  --work-dir "$WORK/server" > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2> /dev/null || true; rm -rf "$WORK"' EXIT
CAL="$MODELS/resblock_in0.npy" IN="$MODELS/resblock_in1.npy"
"$KILN" compile "$MODELS/resblock.onnx" --target accel --config pynq-z1 --calibrate "$CAL" \
  --cpu "$CPU" -o "$WORK/board.pkg" > /dev/null
"$KILN" compile "$MODELS/resblock.onnx" --target accel --config pynq-z1 --calibrate "$CAL" \
  -o "$WORK/host.pkg" > /dev/null
for _ in $(seq 100); do grep -q listening "$WORK/server.log" 2> /dev/null && break; sleep 0.1; done
"$KILN" run "$WORK/board.pkg" --rpc "127.0.0.1:$PORT" -i "$IN" -o "$WORK/rpc.npy" | sed -n 's/^device/device/p'
for dev in sim-func sim-cycle; do
  "$KILN" run "$WORK/host.pkg" --device "$dev" -i "$IN" -o "$WORK/$dev.npy" > /dev/null
done
/usr/bin/python3 "$(dirname "$0")/compare-accel-output.py" "$WORK/rpc.npy" "$WORK" "resblock on $CPU over RPC"
echo "rpc accel package: bit-identical"
