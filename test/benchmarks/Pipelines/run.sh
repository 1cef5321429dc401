#!/usr/bin/env bash
# A pipeline end to end at batch 1 and 32: ours vs the Transformers.js 4.3.1 pipeline, same folder, same texts, same session
# settings (THREADS=2 intra-op threads), one run.
#   bash test/benchmarks/Pipelines/run.sh [model-folder] [passes]
#       text-classification over 1,000 generated sentences (make_sentences.mjs), ours on ONNX Runtime.
#       Default folder: the tiny BERT sequence-classification fixture.
#   bash test/benchmarks/Pipelines/run.sh mixed [passes]
#       feature-extraction (mean pooling) over 512 real texts of mixed length (make_corpus.mjs: Debian fortunes, 15 to
#       2,400 characters; truncated to 512 tokens), on a bert_uncased_L-4_H-256_A-4-shaped random checkpoint with the real
#       bert-base-uncased tokenizer (written once to artifacts/bench/bert-mini by bench_torch_bert.py --size mini), ours on
#       ONNX Runtime and on libtorch (THREADS threads too). MIXED_TEXTS=N and ROUNDS=R shorten it on a busy machine. Shows what length-grouped batching does: Transformers.js
#       batches in input order, so one long text pads its whole batch.
# The sides run alternately for several passes (the machine is shared: load drifts); each pass warms up and times
# several rounds; the table shows the median over all passes of each side's per-pass median, and the fastest round seen.
# Needs artifacts/oracles with @huggingface/transformers@4.3.1 and onnxruntime-node@1.30.0 (npm install --ignore-scripts).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
OUT="$ROOT/artifacts/bench/pipelines"
mkdir -p "$OUT"
THREADS="${THREADS:-2}"
if [ "${1:-}" = "mixed" ]; then
  MODEL="$ROOT/artifacts/bench/bert-mini"
  PASSES="${2:-2}"
  if [ ! -f "$MODEL/onnx/model.onnx" ] || [ ! -f "$MODEL/tokenizer.json" ]; then
    echo "[bench] writing a bert-mini-shaped checkpoint (safetensors + ONNX) and the bert-base-uncased tokenizer to $MODEL" >&2
    /usr/bin/python3 "$ROOT/test/fixtures/scripts/bench_torch_bert.py" --size mini --save "$MODEL" --onnx "$MODEL" --no-bench
    gzip -dc "$ROOT/test/fixtures/tokenizers/files/bert-base-uncased/tokenizer.json.gz" > "$MODEL/tokenizer.json"
  fi
  # bert-base-uncased's tokenizer_config.json as transformers' save_pretrained writes it. The special tokens matter:
  # Transformers.js takes pad_token from this file only (not from tokenizer.json), and without it every batch that needs
  # padding fails in its tokenizer ("Cannot convert undefined to a BigInt": the pad id is undefined).
  echo '{"cls_token": "[CLS]", "do_lower_case": true, "mask_token": "[MASK]", "model_max_length": 512, "pad_token": "[PAD]", "sep_token": "[SEP]", "strip_accents": null, "tokenize_chinese_chars": true, "tokenizer_class": "BertTokenizer", "unk_token": "[UNK]"}' > "$MODEL/tokenizer_config.json"
  TEXTS="$OUT/fortunes.txt"
  if ! node "$HERE/make_corpus.mjs" "$TEXTS" "${MIXED_TEXTS:-512}"; then
    echo "[bench] no fortunes in /usr/share/games/fortunes (apt-get install fortunes-min): generated sentences instead" >&2
    node "$HERE/make_sentences.mjs" "$MODEL/tokenizer.json" "$TEXTS" "${MIXED_TEXTS:-512}"
  fi
  TASK=feature-extraction; ENGINES=(onnx libtorch); ROUNDS="${ROUNDS:-3}"; WARMUP=1
else
  MODEL="$(cd "${1:-$ROOT/test/fixtures/models/bert-seqcls}" && pwd)"
  PASSES="${2:-3}"
  TEXTS="$OUT/sentences.txt"
  node "$HERE/make_sentences.mjs" "$MODEL/tokenizer.json" "$TEXTS" 1000
  TASK=text-classification; ENGINES=(onnx); ROUNDS=5; WARMUP=3
fi
dotnet build "$HERE/PipelineBench.csproj" -c Release -nologo -v:q >/dev/null
COMMON=(--model "$MODEL" --sentences "$TEXTS" --task "$TASK" --batches 1,32 --threads "$THREADS" --rounds "$ROUNDS" --warmup "$WARMUP")
SIDES=()
for e in "${ENGINES[@]}"; do : > "$OUT/ours-$e.jsonl"; SIDES+=("ours $e=$OUT/ours-$e.jsonl"); done
: > "$OUT/tjs.jsonl"; SIDES+=("Transformers.js=$OUT/tjs.jsonl")
for p in $(seq 1 "$PASSES"); do
  for e in "${ENGINES[@]}"; do dotnet "$HERE/bin/Release/net10.0/PipelineBench.dll" "${COMMON[@]}" --engine "$e" >> "$OUT/ours-$e.jsonl"; done
  node "$HERE/bench_tjs.mjs" "${COMMON[@]}" >> "$OUT/tjs.jsonl"
done
node -e '
const fs = require("fs");
const [task, threads, texts, ...specs] = process.argv.slice(1);
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const n = fs.readFileSync(texts, "utf8").split("\n").filter((l) => l.length > 0).length;
const sides = specs.map((s) => {
  const [name, file] = s.split("=");
  const passes = fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const r = {};
  for (const b of Object.keys(passes[0])) {
    const ms = med(passes.map((p) => p[b].median_ms));
    r[b] = { ms, min: Math.min(...passes.map((p) => p[b].min_ms)), tps: Math.round(n * 1000 / ms), first: passes[0][b].first_label, passes: passes.map((p) => p[b].median_ms) };
  }
  return { name, r };
});
const tjs = sides[sides.length - 1];
console.log(`${task}, ${n} texts, end to end, ${threads} thread(s); texts/s from the median over passes of per-pass medians (fastest round in ms)`);
console.log("batch | " + sides.map((s) => s.name.padStart(24)).join(" | ") + " | " + sides.slice(0, -1).map((s) => `${s.name} vs TJS`).join(" | "));
for (const b of Object.keys(tjs.r)) {
  const cells = sides.map((s) => `${String(s.r[b].tps).padStart(6)} texts/s (${String(s.r[b].min).padStart(7)} ms)`.padStart(24));
  const ratios = sides.slice(0, -1).map((s) => `${(tjs.r[b].ms / s.r[b].ms).toFixed(2)}x`.padStart(`${s.name} vs TJS`.length));
  const firsts = new Set(sides.map((s) => s.r[b].first));
  console.log(`${b.padStart(5)} | ${cells.join(" | ")} | ${ratios.join(" | ")}` + (firsts.size === 1 ? "" : `  (first results differ: ${sides.map((s) => s.r[b].first).join(" / ")})`));
}
for (const s of sides) console.log(`per-pass medians (ms), ${s.name}: ${JSON.stringify(Object.fromEntries(Object.entries(s.r).map(([b, v]) => [b, v.passes])))}`);
' "$TASK" "$THREADS" "$TEXTS" "${SIDES[@]}"
