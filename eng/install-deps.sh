#!/usr/bin/env bash
# Building and the library need nothing from here: libtorch (TorchSharp + libtorch-cpu-linux-x64) and ONNX Runtime
# (Microsoft.ML.OnnxRuntime) come from NuGet at restore time.
# Usage: eng/install-deps.sh [--oracles | --test]
#   --oracles  the Python/Node reference tools used by the fixture scripts and benchmarks: python3-torch,
#              python3-torchvision, python3-onnx, tokenizers, transformers.js
#   --test     what the oracle-backed tests run (dotnet msbuild Build.proj -t:Test calls it, best effort): python3-onnx
#              for onnx.checker, python3-sklearn for its sample photos (processor parity on real images), Debian's
#              fortunes for the fine-tune-then-export tests, transformers.js for the tests that run it on our exports. A test whose tool is still missing ends Inconclusive and says what to install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

SUDO=""; if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
need_apt=()
MODE="${1:-}"
case "$MODE" in
  --oracles) apt_pkgs=(python3-torch python3-torchvision python3-onnx) ;;
  --test) apt_pkgs=(python3-onnx python3-sklearn fortunes-min fortunes-de fortunes-it fortunes-es) ;;
  "") apt_pkgs=() ;;
  *) echo "usage: eng/install-deps.sh [--oracles | --test]" >&2; exit 2 ;;
esac
if [ -n "$MODE" ]; then
  for p in "${apt_pkgs[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
  done
  command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
  command -v npm >/dev/null 2>&1 || need_apt+=(npm)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "[install-deps] apt-get install ${need_apt[*]}"
  timeout 600 $SUDO apt-get update -q >/dev/null || echo "[install-deps] apt-get update failed; using the package lists on this machine"
  DEBIAN_FRONTEND=noninteractive timeout 900 $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}" >/dev/null \
    || { echo "[install-deps] apt-get install failed"; [ "$MODE" = --test ] || exit 1; }
fi

if [ -n "$MODE" ]; then
  ORACLES="$ROOT/artifacts/oracles"
  mkdir -p "$ORACLES"
  if [ ! -d "$ORACLES/node_modules/tokenizers" ] || [ ! -d "$ORACLES/node_modules/@huggingface/transformers" ]; then
    echo "[install-deps] npm install tokenizers@0.23.2 @huggingface/transformers@4.3.1 (--ignore-scripts)"
    (cd "$ORACLES" && [ -f package.json ] || echo '{"name":"mlt-oracles","private":true}' > "$ORACLES/package.json"
     cd "$ORACLES" && timeout 900 npm install --silent --ignore-scripts tokenizers@0.23.2 @huggingface/transformers@4.3.1 onnxruntime-node@1.30.0 >/dev/null) \
      || { echo "[install-deps] npm install failed"; [ "$MODE" = --test ] || exit 1; }
  fi
fi
echo "[install-deps] ok"
