#!/usr/bin/env bash
# Cross-compiles the runtime (alone: no compiler, no LLVM) for a board CPU and runs its tests
# under qemu-user.   scripts/cross-test.sh armhf|aarch64 [BUILD_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARCH="${1:?usage: cross-test.sh armhf|aarch64 [BUILD_DIR]}"
BUILD="${2:-$ROOT/build/cross-$ARCH}"
TOOLCHAIN="$ROOT/cmake/toolchains/$ARCH.cmake"
[ -f "$TOOLCHAIN" ] || { echo "cross-test: unknown architecture '$ARCH' (armhf, aarch64)" >&2; exit 2; }
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" \
  -DKILN_RUNTIME_ONLY=ON > /dev/null
cmake --build "$BUILD" -j "${KILN_CROSS_JOBS:-1}"
file "$BUILD/tests/runtime/kiln_runtime_tests" | sed "s|$BUILD/||"
ctest --test-dir "$BUILD" --output-on-failure
