#!/usr/bin/env bash
# Vision benchmark, every figure in one run: ResNet-50 and Swin-T forward (224x224, batch 1 and 8) on our libtorch
# path and on ONNX Runtime (the folder's onnx/model.onnx) beside PyTorch eager (torchvision 0.14, the same weights, the
# same threads), and images/s of the image-classification pipeline (decode + Pillow-exact preprocessing + forward +
# top-5) on real JPEGs, on both engines. Also `bash test/benchmarks/run.sh vision`.
#   bash test/benchmarks/VisionBench/run.sh     (BENCH_THREADS=2 BENCH_RUNS=10)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
THREADS="${BENCH_THREADS:-2}"; RUNS="${BENCH_RUNS:-10}"
FULL="$ROOT/artifacts/vision-full"
[ -f "$FULL/resnet50/onnx/model.onnx" ] || /usr/bin/python3 "$ROOT/test/fixtures/scripts/make_vision_fixtures.py" --full "$FULL"
dotnet build "$ROOT/test/benchmarks/VisionBench" -c Release -nologo -v:q >/dev/null
VB="dotnet $ROOT/test/benchmarks/VisionBench/bin/Release/net10.0/VisionBench.dll --threads $THREADS --runs $RUNS"
for m in resnet50 swin_t; do for e in libtorch onnx; do $VB --model "$FULL/$m" --engine $e; done; done
/usr/bin/python3 "$ROOT/test/benchmarks/VisionBench/bench_torchvision.py" --threads "$THREADS" --runs "$RUNS"
IMAGES="$ROOT/artifacts/bench/photos"
mkdir -p "$IMAGES"
cp /usr/lib/python3/dist-packages/sklearn/datasets/images/*.jpg "$IMAGES/" 2>/dev/null || cp "$ROOT"/test/fixtures/vision/images/[a-z]*-*.{jpg,png} "$IMAGES/"
[ -f "$FULL/resnet50/preprocessor_config.json" ] || printf '%s\n' '{"image_processor_type": "ConvNextImageProcessor", "size": {"shortest_edge": 224}, "crop_pct": 0.875, "resample": 3}' > "$FULL/resnet50/preprocessor_config.json"
for e in libtorch onnx; do $VB --pipeline "$FULL/resnet50" --images "$IMAGES" --batch 8 --engine $e; done
