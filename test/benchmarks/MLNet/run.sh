#!/usr/bin/env bash
# TextClassification on the tiny bert-seqcls fixture (ONNX Runtime), 100,000 rows: through ML.NET vs the pipeline called
# directly (rows/s, 3 alternating runs each, best kept), and the ML.NET path's peak RSS for 10,000 vs 100,000 rows.
#   bash test/benchmarks/MLNet/run.sh [model-folder]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
MODEL="${1:-$ROOT/test/fixtures/models/bert-seqcls}"
OUT="$ROOT/artifacts/bench/results"
mkdir -p "$OUT"
dotnet build "$ROOT/test/benchmarks/MLNet" -c Release -nologo -v:q >/dev/null
BENCH="dotnet $ROOT/test/benchmarks/MLNet/bin/Release/net10.0/MLNetBench.dll --model $MODEL"
: > "$OUT/mlnet.jsonl"
for i in 1 2 3; do
  $BENCH --rows 100000 --mode direct >> "$OUT/mlnet.jsonl"
  $BENCH --rows 100000 --mode mlnet >> "$OUT/mlnet.jsonl"
done
$BENCH --rows 10000 --mode mlnet >> "$OUT/mlnet.jsonl"
$BENCH --rows 10000 --mode direct >> "$OUT/mlnet.jsonl"
python3 - "$OUT/mlnet.jsonl" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
best = lambda mode, rows: max((r for r in runs if r["mode"] == mode and r["rows"] == rows), key=lambda r: r["rows_per_second"])
d, m = best("direct", 100000), best("mlnet", 100000)
print("\nTextClassification, tiny BERT (bert-seqcls), ONNX Runtime, batch 32, 100,000 rows (best of 3)")
print(f"{'':>22} {'rows/s':>9} {'peak RSS 10k':>13} {'peak RSS 100k':>14}")
for name, mode in (("pipeline called direct", "direct"), ("ML.NET transform", "mlnet")):
    r100, r10 = best(mode, 100000), best(mode, 10000)
    print(f"{name:>22} {r100['rows_per_second']:9.0f} {r10['peak_rss_mb']:10.0f} MB {r100['peak_rss_mb']:11.0f} MB")
print(f"ML.NET / direct throughput: {m['rows_per_second'] / d['rows_per_second']:.3f}")
PY
