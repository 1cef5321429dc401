#!/usr/bin/env bash
# Builds the C++ shim over libtorch (src/Microsoft.ML.Transformers/Native) with CMake and stages
# libmlt_torch.so in artifacts/native. libtorch is found through Torch_DIR or the system (Debian libtorch-dev).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/src/Microsoft.ML.Transformers/Native"
BUILD="$ROOT/artifacts/obj/native-shim"
STAGE="$ROOT/artifacts/native"
if [ ! -f /usr/lib/x86_64-linux-gnu/cmake/Torch/TorchConfig.cmake ] && [ -z "${Torch_DIR:-}" ]; then
  echo "libtorch not found (looked for /usr/lib/x86_64-linux-gnu/cmake/Torch/TorchConfig.cmake and \$Torch_DIR)." >&2
  echo "Install it with: bash eng/install-deps.sh   (apt-get install libtorch-dev libopenblas0-pthread)" >&2
  exit 1
fi
mkdir -p "$BUILD" "$STAGE"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release ${Torch_DIR:+-DTorch_DIR="$Torch_DIR"} >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)"
cp "$BUILD/libmlt_torch.so" "$STAGE/libmlt_torch.so.tmp" && mv "$STAGE/libmlt_torch.so.tmp" "$STAGE/libmlt_torch.so"
