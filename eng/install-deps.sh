#!/usr/bin/env bash
# Installs what building and testing need, skipping what is already there. libtorch comes from NuGet
# (TorchSharp + libtorch-cpu-linux-x64, restored by the build); here only:
#   npm: the ONNX Runtime shared library from onnxruntime-node@1.30.0 (npm pack, no install script).
# Usage: eng/install-deps.sh [--oracles]   (--oracles also installs the Python/Node reference tools used by
# the fixture scripts and benchmarks: python3-torch, python3-torchvision, python3-onnx, tokenizers, transformers.js)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STAGE="$ROOT/artifacts/native"
ORT_VERSION=1.30.0
mkdir -p "$STAGE"

SUDO=""; if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
need_apt=()
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ "${1:-}" = "--oracles" ]; then
  for p in python3-torch python3-torchvision python3-onnx; do
    dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
  done
  command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "[install-deps] apt-get install ${need_apt[*]}"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need_apt[@]}" >/dev/null
fi

# ONNX Runtime: the shared library shipped inside the onnxruntime-node npm package.
if [ ! -f "$STAGE/libonnxruntime.so.1" ]; then
  echo "[install-deps] fetching libonnxruntime.so.1 from onnxruntime-node@$ORT_VERSION (npm pack)"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null && tar xzf onnxruntime-node-*.tgz)
  lib="$(find "$tmp/package" -path '*linux/x64*' -name 'libonnxruntime.so.1*' | sort | head -n1)"
  [ -n "$lib" ] || { echo "libonnxruntime.so.1 not found in onnxruntime-node@$ORT_VERSION" >&2; exit 1; }
  cp "$lib" "$STAGE/libonnxruntime.so.1.tmp" && mv "$STAGE/libonnxruntime.so.1.tmp" "$STAGE/libonnxruntime.so.1"
  rm -rf "$tmp"
fi

if [ "${1:-}" = "--oracles" ]; then
  ORACLES="$ROOT/artifacts/oracles"
  mkdir -p "$ORACLES"
  if [ ! -d "$ORACLES/node_modules/tokenizers" ] || [ ! -d "$ORACLES/node_modules/@huggingface/transformers" ]; then
    echo "[install-deps] npm install tokenizers@0.23.2 @huggingface/transformers@4.3.1 (--ignore-scripts)"
    (cd "$ORACLES" && [ -f package.json ] || echo '{"name":"mlt-oracles","private":true}' > "$ORACLES/package.json"
     cd "$ORACLES" && npm install --silent --ignore-scripts tokenizers@0.23.2 @huggingface/transformers@4.3.1 onnxruntime-node@$ORT_VERSION >/dev/null)
  fi
fi
echo "[install-deps] ok"
