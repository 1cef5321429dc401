#!/usr/bin/env bash
# text-classification end to end over 1,000 sentences at batch 1 and 32: our pipeline (ONNX Runtime path) vs the
# Transformers.js 4.3.1 pipeline, same folder, same sentences, same session settings (2 intra-op threads), one run.
#   bash test/benchmarks/Pipelines/run.sh [model-folder] [passes]        (THREADS=2 by default: ONNX Runtime intra-op threads)
# The two sides run alternately for several passes (the machine is shared: load drifts); each pass warms up 3 times and
# times 5 rounds; the table shows the median over all passes of each side's per-pass median, and the fastest round seen
# (the least disturbed by other load on a shared machine).
# Default folder: the tiny BERT sequence-classification fixture. Needs artifacts/oracles with
# @huggingface/transformers@4.3.1 and onnxruntime-node@1.30.0 (npm install --ignore-scripts).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
MODEL="$(cd "${1:-$ROOT/test/fixtures/models/bert-seqcls}" && pwd)"
PASSES="${2:-3}"
OUT="$ROOT/artifacts/bench/pipelines"
mkdir -p "$OUT"
node "$HERE/make_sentences.mjs" "$MODEL/tokenizer.json" "$OUT/sentences.txt" 1000
dotnet build "$HERE/PipelineBench.csproj" -c Release -nologo -v:q >/dev/null
COMMON=(--model "$MODEL" --sentences "$OUT/sentences.txt" --batches 1,32 --threads "${THREADS:-2}" --rounds 5 --warmup 3)
: > "$OUT/ours.jsonl"; : > "$OUT/tjs.jsonl"
for p in $(seq 1 "$PASSES"); do
  dotnet "$HERE/bin/Release/net10.0/PipelineBench.dll" "${COMMON[@]}" >> "$OUT/ours.jsonl"
  node "$HERE/bench_tjs.mjs" "${COMMON[@]}" >> "$OUT/tjs.jsonl"
done
node -e '
const fs = require("fs");
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const load = (f) => {
  const passes = fs.readFileSync(f, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const r = {};
  for (const b of Object.keys(passes[0])) {
    const ms = med(passes.map((p) => p[b].median_ms));
    r[b] = { median_ms: ms, min_ms: Math.min(...passes.map((p) => p[b].min_ms)), sentences_per_s: Math.round(1000 * 1000 / ms),
      first_label: passes[0][b].first_label, passes: passes.map((p) => p[b].median_ms) };
  }
  return r;
};
const ours = load(process.argv[1]), tjs = load(process.argv[2]);
console.log(`text-classification, 1000 sentences, end to end, ${process.argv[3]} intra-op thread(s) (median over passes of per-pass medians; fastest round)`);
console.log("batch | ours ms (sent/s)      | Transformers.js ms (sent/s) | speed-up | fastest: ours / Transformers.js | speed-up");
for (const b of Object.keys(ours)) {
  const o = ours[b], t = tjs[b];
  console.log(`${b.padStart(5)} | ${String(o.median_ms).padStart(8)} (${String(o.sentences_per_s).padStart(6)}) | ${String(t.median_ms).padStart(8)} (${String(t.sentences_per_s).padStart(6)})      | ${(t.median_ms / o.median_ms).toFixed(2)}x` +
    ` | ${String(o.min_ms).padStart(8)} / ${String(t.min_ms).padStart(8)} | ${(t.min_ms / o.min_ms).toFixed(2)}x` +
    (o.first_label === t.first_label ? "" : `  (first labels differ: ${o.first_label} vs ${t.first_label})`));
}
console.log("per-pass medians (ms): ours", JSON.stringify(Object.fromEntries(Object.entries(ours).map(([b, v]) => [b, v.passes]))),
  "Transformers.js", JSON.stringify(Object.fromEntries(Object.entries(tjs).map(([b, v]) => [b, v.passes]))));' "$OUT/ours.jsonl" "$OUT/tjs.jsonl" "${THREADS:-2}"
