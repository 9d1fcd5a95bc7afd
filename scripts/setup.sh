#!/usr/bin/env bash
# Installs every dependency Kiln needs on Debian 12, from Debian packages and npm.
# Idempotent and non-interactive: safe to run again; it only installs what is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

DEB_PACKAGES=(
  # build
  build-essential cmake ninja-build ccache pkg-config git file
  clang-14 libclang-rt-14-dev clang-format
  # the CPU back end (ORC JIT, code generation)
  llvm-19-dev
  # cross-compiling the runtime for boards, and running it under emulation
  g++-arm-linux-gnueabihf g++-aarch64-linux-gnu qemu-user
  # checking the Vivado flow's Tcl without Vivado
  tcl
  # the accelerator: lint (Verilator) and synthesis (Yosys) checks of its generated RTL package
  verilator yosys
  # the accelerator's cycle-level model (SystemC, found through pkg-config)
  libsystemc-dev
  # the board driver's second DMA allocator (XRT buffer objects), compiled against XRT's API
  libxrt-dev
  # libraries
  libonnx-dev libprotobuf-dev protobuf-compiler
  libyaml-cpp-dev libcli11-dev libgtest-dev libgmock-dev nlohmann-json3-dev
  libpng-dev libjpeg-dev zlib1g-dev
  # model generation, operator test data
  python3 python3-numpy python3-onnx libonnx-testdata
  # labelled photos and real data
  opencv-doc python3-skimage darknet
  nodejs
  # OpenCL (ICD loader, headers, PoCL on the CPU), OpenGL ES through EGL (Mesa), WebGL (Chromium)
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo
  libegl-dev libgles-dev libegl-mesa0 libgl1-mesa-dri
  chromium
)
# npm ships inside some nodejs builds and as its own Debian package in others.
if ! command -v npm >/dev/null 2>&1; then DEB_PACKAGES+=(npm); fi

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# yaml-cpp for the boards' CPUs, so their runtime carries the driver (cmake/cross). Debian's
# libyaml-cpp0.7 for armhf/arm64 goes into the cross toolchains' sysroots (where the cross
# linker and qemu-user -L look), not installed as a foreign-architecture package: that would
# bring a second armhf/arm64 libc, newer than the sysroot's loader, which qemu-user then mixes.
for pair in armhf:arm-linux-gnueabihf arm64:aarch64-linux-gnu; do
  arch="${pair%%:*}" triple="${pair#*:}"
  [ -e "/usr/$triple/lib/libyaml-cpp.so.0.7" ] && continue
  echo "setup: yaml-cpp for $triple (into /usr/$triple/lib)"
  tmp="$(mktemp -d)"
  chmod 755 "$tmp"  # apt downloads as _apt
  $SUDO dpkg --add-architecture "$arch"
  $SUDO apt-get update -qq || true  # a foreign index that fails to sync does not matter here
  (cd "$tmp" && apt-get download -qq "libyaml-cpp0.7:$arch")
  dpkg-deb -x "$tmp"/libyaml-cpp0.7_*_"$arch".deb "$tmp/x"
  $SUDO cp -a "$tmp/x/usr/lib/$triple"/libyaml-cpp.so.0.7* "/usr/$triple/lib/"
  $SUDO dpkg --remove-architecture "$arch"
  rm -rf "$tmp"
done

# npm packages live in scripts/node (package.json + package-lock.json).
# onnxruntime-node ships its CPU binaries inside the package; skip its optional download step.
# onnxruntime-web (the browser anchor) ships its wasm and WebGL builds in dist/, served locally.
if [ ! -d "$ROOT/scripts/node/node_modules/onnxruntime-node" ] || \
   [ ! -d "$ROOT/scripts/node/node_modules/onnxruntime-web" ] || \
   [ "$ROOT/scripts/node/package-lock.json" -nt "$ROOT/scripts/node/node_modules/.package-lock.json" ]; then
  echo "setup: installing npm packages"
  (cd "$ROOT/scripts/node" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: done"
