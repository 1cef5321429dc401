#!/usr/bin/env bash
# Building, testing and the main sample need nothing from here: libtorch (TorchSharp + libtorch-cpu-linux-x64) and
# ONNX Runtime (Microsoft.ML.OnnxRuntime) come from NuGet at restore time.
# Usage: eng/install-deps.sh [--oracles]   (--oracles also installs the Python/Node reference tools used by
# the fixture scripts and benchmarks: python3-torch, python3-torchvision, python3-onnx, tokenizers, transformers.js)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

SUDO=""; if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
need_apt=()
if [ "${1:-}" = "--oracles" ]; then
  for p in python3-torch python3-torchvision python3-onnx; do
    dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
  done
  command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
  command -v npm >/dev/null 2>&1 || need_apt+=(npm)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "[install-deps] apt-get install ${need_apt[*]}"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need_apt[@]}" >/dev/null
fi

if [ "${1:-}" = "--oracles" ]; then
  ORACLES="$ROOT/artifacts/oracles"
  mkdir -p "$ORACLES"
  if [ ! -d "$ORACLES/node_modules/tokenizers" ] || [ ! -d "$ORACLES/node_modules/@huggingface/transformers" ]; then
    echo "[install-deps] npm install tokenizers@0.23.2 @huggingface/transformers@4.3.1 (--ignore-scripts)"
    (cd "$ORACLES" && [ -f package.json ] || echo '{"name":"mlt-oracles","private":true}' > "$ORACLES/package.json"
     cd "$ORACLES" && npm install --silent --ignore-scripts tokenizers@0.23.2 @huggingface/transformers@4.3.1 onnxruntime-node@1.30.0 >/dev/null)
  fi
fi
echo "[install-deps] ok"
