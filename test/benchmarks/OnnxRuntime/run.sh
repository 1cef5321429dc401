#!/usr/bin/env bash
# Side-by-side ONNX Runtime inference timing on the same ONNX file with the same settings (intra-op threads 2,
# sequential, all graph optimizations): our OnnxModel.Run vs a raw Microsoft.ML.OnnxRuntime InferenceSession (the
# overhead of our layer; both timed alternately in one process), and vs onnxruntime-node / Transformers.js.
#   bash test/benchmarks/OnnxRuntime/run.sh [model-folder] [rounds]     (BENCH_ARGS="--iters 20 --warmup 5" by default)
# Without a folder, a BERT-shaped encoder is exported by make_bench_model.py into artifacts/bench/.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
MODEL="${1:-$ROOT/artifacts/bench/onnx-bert-h256-l4}"
ROUNDS="${2:-3}"
read -r -a BENCH_ARGS <<< "${BENCH_ARGS:---iters 20 --warmup 5}"
OUT="$ROOT/artifacts/bench/results"
mkdir -p "$OUT"

[ -f "$MODEL/config.json" ] || /usr/bin/python3 "$HERE/make_bench_model.py" "$MODEL" >/dev/null
if [ ! -d "$ROOT/artifacts/oracles/node_modules/onnxruntime-node" ]; then
  mkdir -p "$ROOT/artifacts/oracles"
  (cd "$ROOT/artifacts/oracles" && { [ -f package.json ] || echo '{"name":"mlt-oracles","private":true}' > package.json; } &&
   npm install --silent --ignore-scripts onnxruntime-node@1.30.0 >/dev/null)
fi
dotnet build "$HERE/OnnxRuntimeBench.csproj" -c Release -nologo -v:q >/dev/null

ours=() node=()
for r in $(seq 1 "$ROUNDS"); do
  dotnet "$HERE/bin/Release/net10.0/OnnxRuntimeBench.dll" "$MODEL" "${BENCH_ARGS[@]}" > "$OUT/ort-dotnet-$r.json"
  node "$HERE/bench_ort_node.mjs" "$MODEL" "${BENCH_ARGS[@]}" > "$OUT/ort-node-$r.json"
  ours+=("$OUT/ort-dotnet-$r.json"); node+=("$OUT/ort-node-$r.json")
done
node "$HERE/compare.mjs" "${ours[@]}" -- "${node[@]}"
