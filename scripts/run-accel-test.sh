#!/usr/bin/env bash
# kiln-run on a board stand-in: the runtime alone (cross-compiled for the board's CPU and run
# under qemu-user, or this machine's) runs an accelerator package with --device sim-func, the
# driver's functional reference of the accelerator, as a PYNQ runs it with --device board. The
# host compiles a ResNet basic block for the accelerator (host part for the board's CPU); its
# output must be bit-identical to the same model compiled for this machine and run here on
# sim-func and sim-cycle. Then the refusals a user meets on a board: no device named, --device
# board without a board file, a board whose /dev/mem cannot be opened.
#   scripts/run-accel-test.sh armv7|aarch64|host KILN RUNTIME_BUILD_DIR ACCEL_MODELS_DIR
set -euo pipefail
CPU="$1" KILN="$2" RUNTIME="$3" MODELS="$4"
case "$CPU" in
  armv7) QEMU=(qemu-arm -L /usr/arm-linux-gnueabihf) ;;
  aarch64) QEMU=(qemu-aarch64 -L /usr/aarch64-linux-gnu) ;;
  host) QEMU=() ;;
  *) echo "unknown CPU $CPU (armv7, aarch64, host)" >&2; exit 2 ;;
esac
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
RUN=("${QEMU[@]}" "$RUNTIME/bin/kiln-run")
CAL="$MODELS/resblock_in0.npy" IN="$MODELS/resblock_in1.npy"
"$KILN" compile "$MODELS/resblock.onnx" --target accel --config pynq-z1 --calibrate "$CAL" \
  --cpu "$CPU" -o "$WORK/board.pkg" > /dev/null
"$KILN" compile "$MODELS/resblock.onnx" --target accel --config pynq-z1 --calibrate "$CAL" \
  -o "$WORK/host.pkg" > /dev/null
"${RUN[@]}" "$WORK/board.pkg" --device sim-func -i "$IN" -o "$WORK/board.npy" | tee "$WORK/run.log"
# The number of device steps the compiler placed (kiln info's split of the same compile for
# this machine; kiln info reads only packages for this CPU) is what kiln-run must attach.
STEPS="$("$KILN" info "$WORK/host.pkg" | sed -n 's/^split *\([0-9][0-9]*\) steps on the accelerator.*/\1/p')"
[ -n "$STEPS" ] && [ "$STEPS" -gt 0 ] || { echo "kiln info did not report the package's split" >&2; exit 1; }
grep -q "^device   sim-func ($STEPS steps on the accelerator)" "$WORK/run.log" || {
  echo "kiln-run did not report the device and its $STEPS accelerator steps" >&2
  exit 1
}
for dev in sim-func sim-cycle; do
  "$KILN" run "$WORK/host.pkg" --device "$dev" -i "$IN" -o "$WORK/$dev.npy" > /dev/null
done
/usr/bin/python3 "$(dirname "$0")/compare-accel-output.py" "$WORK/board.npy" "$WORK" "resblock on $CPU, kiln-run --device sim-func"
# Each refusal: a non-zero exit and a message that says what to pass.
refused() {
  local want="$1"
  shift
  if "${RUN[@]}" "$WORK/board.pkg" -i "$IN" "$@" > "$WORK/out.log" 2>&1; then
    echo "kiln-run $* was accepted; expected a refusal mentioning '$want'" >&2
    exit 1
  fi
  grep -qF -- "$want" "$WORK/out.log" || {
    echo "kiln-run $*: the message lacks '$want':" >&2
    cat "$WORK/out.log" >&2
    exit 1
  }
  echo "refused as expected: $(tail -1 "$WORK/out.log")"
}
refused "--device board --board FILE" --device none
refused "--device board needs --board FILE" --device board
refused "/nonexistent/mem" --device board --board "$(dirname "$0")/../boards/pynq-z1.yaml" \
  --devmem /nonexistent/mem
echo "kiln-run accel package: bit-identical"
