#!/usr/bin/env bash
# all-MiniLM-L6-v2 sentence embeddings, sentences/s on real fortunes, all sides in one run, same ONNX file, same threads:
#   ours (SentenceTransformer.Encode) on ONNX Runtime and on libtorch, and the Transformers.js 4.3.1 feature-extraction
#   pipeline (pooling mean, normalize), at batch 32 over COUNT32 texts and batch 1 over COUNT1 texts (a fixed prefix of
#   the same texts: batch 1 over all 10,000 on every side takes too long on a 2-core machine; COUNT1=10000 for all);
#   then the search latency over 100,000 stored embeddings (k 10, one thread): EmbeddingStore.Search beside numpy.
#   bash test/benchmarks/SentenceBench/run.sh          (THREADS=2, COUNT32=10000, COUNT1=1000)
# Needs the fortunes (eng/setup-fortunes.sh), the model folder (eng/MiniLMSetup) and the oracles (eng/install-deps.sh --oracles).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
THREADS="${THREADS:-2}"; COUNT32="${COUNT32:-10000}"; COUNT1="${COUNT1:-1000}"
MODEL="$ROOT/artifacts/models/all-minilm-l6-v2"
OUT="$ROOT/artifacts/bench/minilm"
mkdir -p "$OUT"
[ -f "$MODEL/onnx/model.onnx" ] && [ -f "$MODEL/model.safetensors" ] || dotnet run --project "$ROOT/eng/MiniLMSetup" -c Release -- "$MODEL"
dotnet build "$HERE/SentenceBench.csproj" -c Release -nologo -v:q >/dev/null
SB=(dotnet "$HERE/bin/Release/net10.0/SentenceBench.dll")
"${SB[@]}" texts --out "$OUT/texts.txt" --count "$COUNT32"
: > "$OUT/embed.jsonl"
for batch in 32 1; do
  count=$([ "$batch" = 1 ] && echo "$COUNT1" || echo "$COUNT32")
  for engine in onnx libtorch; do
    echo "[bench] minilm: ours $engine, batch $batch, $count texts" >&2
    "${SB[@]}" embed --model "$MODEL" --texts "$OUT/texts.txt" --engine $engine --batch $batch --count "$count" --threads "$THREADS" \
      --probe "$OUT/probe-$engine-$batch.f32" >> "$OUT/embed.jsonl"
  done
  echo "[bench] minilm: Transformers.js, batch $batch, $count texts" >&2
  node "$HERE/bench_minilm_tjs.mjs" --model "$MODEL" --texts "$OUT/texts.txt" --batch $batch --count "$count" --threads "$THREADS" \
    --probe "$OUT/probe-tjs-$batch.f32" >> "$OUT/embed.jsonl"
done
echo "[bench] minilm: search over 100,000 stored embeddings" >&2
"${SB[@]}" search --store "$OUT/store-100k.emb" --count 100000 --queries 50 --k 10 > "$OUT/search.jsonl"
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 /usr/bin/python3 "$HERE/search_numpy.py" "$OUT/store-100k.emb" 10 >> "$OUT/search.jsonl"
/usr/bin/python3 - "$OUT" "$THREADS" <<'PY'
import json, os, sys
import numpy as np
out, threads = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(os.path.join(out, "embed.jsonl"))]
print(f"\nall-MiniLM-L6-v2 embeddings (mean pooling, normalize) of real fortunes, {threads} intra-op threads, all in this run")
print(f"{'batch':>5} {'texts':>6} | {'ours ONNX Runtime':>17} | {'ours libtorch':>13} | {'Transformers.js':>15} | ours ORT / tjs | sentences/s")
for b in (32, 1):
    side = {r["side"]: r for r in rows if r["batch"] == b}
    o, t, j = side["ours onnx"], side["ours libtorch"], side["Transformers.js"]
    print(f"{b:>5} {o['texts']:>6} | {o['sentences_per_s']:>17} | {t['sentences_per_s']:>13} | {j['sentences_per_s']:>15} | {o['sentences_per_s'] / j['sentences_per_s']:>13.2f}x |")
    probe = lambda n: np.fromfile(os.path.join(out, f"probe-{n}-{b}.f32"), dtype="<f4")
    po, pt, pj = probe("onnx"), probe("libtorch"), probe("tjs")
    print(f"      first 32 embeddings, max |diff|: ours ORT vs tjs {np.abs(po - pj).max():.1e}, ours libtorch vs tjs {np.abs(pt - pj).max():.1e}")
s = [json.loads(l) for l in open(os.path.join(out, "search.jsonl"))]
print(f"\nsearch, top {s[0]['k']} of {s[0]['rows']:,} stored embeddings x {s[0]['dim']}, {s[0]['queries']} queries, one thread, ms per query")
for r in s:
    print(f"  {r['side']:<48} median {r['median_ms']:>7} p90 {r['p90_ms']:>7} min {r['min_ms']:>7}")
print("  same top-10 for query 0:", s[0]["top_of_query0"] == s[1]["top_of_query0"])
PY
