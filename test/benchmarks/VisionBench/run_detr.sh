#!/usr/bin/env bash
# DETR-ResNet-50 sized forward at 800x800, batch 1: ours on libtorch beside the torch.nn + torchvision reference of
# test/fixtures/scripts/make_detr_fixtures.py (PyTorch eager, the same weights, the same threads), and ours on ONNX
# Runtime beside onnxruntime-node (Transformers.js' runtime) on the reference's export, in one run.
#   bash test/benchmarks/VisionBench/run_detr.sh     (BENCH_THREADS=2 BENCH_RUNS=3)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
THREADS="${BENCH_THREADS:-2}"; RUNS="${BENCH_RUNS:-3}"
DIR="$ROOT/artifacts/bench/detr-resnet-50"
dotnet build "$ROOT/test/benchmarks/VisionBench" -c Release -nologo -v:q >/dev/null
echo "[bench] detr: PyTorch eager reference (writes the random-weight checkpoint first if missing)"
/usr/bin/python3 "$ROOT/test/fixtures/scripts/make_detr_fixtures.py" --bench "$DIR" --threads "$THREADS" --runs "$RUNS" --size 800
echo "[bench] detr: ours (libtorch)"
dotnet "$ROOT/test/benchmarks/VisionBench/bin/Release/net10.0/VisionBench.dll" --detr "$DIR" --threads "$THREADS" --runs "$RUNS" --warmup 1 --size 800
echo "[bench] detr: onnxruntime-node on the export (the anchor of ours on ONNX Runtime)"
node "$ROOT/test/benchmarks/VisionBench/bench_detr_ort_node.mjs" "$DIR" --threads "$THREADS" --runs "$RUNS" --warmup 1 --size 800
echo "[bench] detr: ours (ONNX Runtime)"
dotnet "$ROOT/test/benchmarks/VisionBench/bin/Release/net10.0/VisionBench.dll" --detr "$DIR" --engine onnx --threads "$THREADS" --runs "$RUNS" --warmup 1 --size 800
