#!/usr/bin/env bash
# Side-by-side benchmarks, each anchor measured in the same run as our figure (never in tests).
#   bash test/benchmarks/run.sh [all|model|onnx-overhead|tokenizers|pipelines|mlnet|vision|trainer|onnx-export|detr|minilm|robustness]
# model:          BERT-base-shaped random model (12 layers, hidden 768), batch 1 and 8, sequence 128, 2 threads:
#                 ours on libtorch (TorchSharp), a BERT written directly on TorchSharp, ours on ONNX Runtime,
#                 PyTorch eager from Python (HF-shaped and nn fast path), onnxruntime-node and Transformers.js on the
#                 same ONNX file; then ours on libtorch with a busy core under both OpenMP wait policies.
# onnx-overhead:  a small encoder through our ONNX Runtime binding vs onnxruntime-node / Transformers.js.
# tokenizers:     encode throughput vs Hugging Face's Rust tokenizers (Tokenizers/bench.sh).
# pipelines:      text-classification end to end vs the Transformers.js pipeline (Pipelines/run.sh).
# vision:         ResNet-50 / Swin-T forward on both engines vs PyTorch eager; image-classification images/s (VisionBench/run.sh).
# onnx-export:    our ONNX export of the BERT-base checkpoint (model.ExportOnnx, fused, and its dynamic int8 copy) on ONNX
#                 Runtime beside the torch.onnx export of the same weights run by Transformers.js and by us; batch 1 and 8, seq 128.
# detr:           DETR-ResNet-50 sized forward at 800x800 vs the torch.nn + torchvision reference, and on ONNX Runtime vs onnxruntime-node on its export (VisionBench/run_detr.sh).
# minilm:         all-MiniLM-L6-v2 sentences/s on 10,000 fortunes, ours on both engines vs Transformers.js, and search
#                 latency over 100k stored embeddings vs numpy (SentenceBench/run.sh).
# mlnet:          TextClassification through ML.NET vs the pipeline called directly; peak RSS 10k vs 100k rows (MLNet/run.sh).
# robustness:     not a speed comparison: the long runs of the parser fuzz suite (MLT_FUZZ_SCALE, default 10 x CI's cases)
#                 and of the killed-save test (MLT_KILL_TRIALS, default 50 SIGKILLs); not part of "all".
# Needs the oracles (eng/install-deps.sh --oracles), which `dotnet msbuild Build.proj -t:Bench` installs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WHAT="${1:-all}"
THREADS="${BENCH_THREADS:-2}"
RUNS="${BENCH_RUNS:-10}"
OUT="$ROOT/artifacts/bench/results"
mkdir -p "$OUT"
cd "$ROOT"

model_bench() {
  local dir="$ROOT/artifacts/bench/bert-base"
  if [ ! -f "$dir/model.safetensors" ] || [ ! -f "$dir/onnx/model.onnx" ]; then
    echo "[bench] writing the BERT-base-shaped checkpoint and its ONNX export to $dir"
    /usr/bin/python3 test/fixtures/scripts/bench_torch_bert.py --threads "$THREADS" --save "$dir" --onnx "$dir" --no-bench
  fi
  dotnet build test/benchmarks/ModelBench -c Release -nologo -v:q >/dev/null
  local mb="dotnet test/benchmarks/ModelBench/bin/Release/net10.0/ModelBench.dll --model $dir --threads $THREADS --runs $RUNS --warmup 3"
  echo "[bench] model: ours (libtorch via TorchSharp)"; $mb --engine libtorch > "$OUT/model-ours-libtorch.json"
  echo "[bench] model: ours (ONNX Runtime)";    $mb --engine onnx > "$OUT/model-ours-onnx.json"
  echo "[bench] model: BERT written directly on TorchSharp (anchor for our libtorch path)"
  $mb --engine torchsharp-direct > "$OUT/model-torchsharp-direct.json"
  echo "[bench] model: PyTorch eager (nn.Linear, nn.LayerNorm, F.gelu, matmul-softmax attention: how HF eager BERT runs)"
  /usr/bin/python3 test/fixtures/scripts/bench_torch_bert.py --threads "$THREADS" --impl hf --runs "$RUNS" > "$OUT/model-torch-eager.json"
  echo "[bench] model: PyTorch nn.TransformerEncoderLayer (fused inference path)"
  /usr/bin/python3 test/fixtures/scripts/bench_torch_bert.py --threads "$THREADS" --impl nn --runs "$RUNS" > "$OUT/model-torch-nn.json"
  echo "[bench] model: onnxruntime-node and Transformers.js"
  node test/benchmarks/OnnxRuntime/bench_ort_node.mjs "$dir" --iters "$RUNS" --warmup 3 --threads "$THREADS" > "$OUT/model-node.json"
  # OpenMP wait policy, chosen by measurement: ours on libtorch while another process keeps one core busy.
  echo "[bench] model: libtorch with one core busy (yes > /dev/null), OMP_WAIT_POLICY=ACTIVE vs PASSIVE"
  yes > /dev/null & local hog=$!
  OMP_WAIT_POLICY=ACTIVE $mb --engine libtorch --batches 1,8 > "$OUT/model-busy-active.json"
  OMP_WAIT_POLICY=PASSIVE $mb --engine libtorch --batches 1,8 > "$OUT/model-busy-passive.json"
  kill $hog
  python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
load = lambda n: json.load(open(os.path.join(out, n)))
ours_t, ours_o = load("model-ours-libtorch.json"), load("model-ours-onnx.json")
direct = load("model-torchsharp-direct.json")
plain, nn = load("model-torch-eager.json"), load("model-torch-nn.json")
busy_a, busy_p = load("model-busy-active.json"), load("model-busy-passive.json")
node = load("model-node.json")
def node_ms(batch):
    for r in node.get("results", []):
        if r["batch"] == batch: return r["session_run"]["median_ms"]
def tjs_ms(batch):
    for r in (node.get("transformers_js") or {}).get("results", []):
        if r["batch"] == batch: return r["model_call"]["median_ms"]
def pick(d, b):
    v = d.get(str(b), d.get(b))
    return v if not isinstance(v, dict) else v.get("median_ms")
f = lambda x: f"{x:.1f}" if x is not None else "n/a"
r = lambda a, c: f"{a / c:.2f}x" if a and c else "n/a"
print("\nBERT-base forward, seq 128, median ms (lower is better), all in this run")
print(f"{'batch':>5} {'ours TorchSharp':>16} {'direct TorchSharp':>18} {'ours ORT':>9} {'torch eager':>12} {'torch nn':>9} {'ort-node':>9} {'transformers.js':>16} {'direct/ours':>12} {'eager/ours':>11} {'tjs/ours ORT':>13}")
for b in (1, 8):
    t, d, o, p, n = pick(ours_t, b), pick(direct, b), pick(ours_o, b), pick(plain, b), pick(nn, b)
    on, tj = node_ms(b), tjs_ms(b)
    print(f"{b:>5} {f(t):>16} {f(d):>18} {f(o):>9} {f(p):>12} {f(n):>9} {f(on):>9} {f(tj):>16} {r(d, t):>12} {r(p, t):>11} {r(tj, o):>13}")
print("\nOurs on libtorch with one core busy, median ms: OMP_WAIT_POLICY=ACTIVE vs PASSIVE (our default when unset)")
for b in (1, 8):
    a, p = pick(busy_a, b), pick(busy_p, b)
    print(f"{b:>5} ACTIVE {f(a):>9}  PASSIVE {f(p):>9}  ACTIVE/PASSIVE {r(a, p)}")
PY
}

# onnx-export: issue 15's figures, all timed in this one run.
onnx_export_bench() {
  local dir="$ROOT/artifacts/bench/bert-base" exp="$ROOT/artifacts/bench/bert-base-export"
  if [ ! -f "$dir/model.safetensors" ] || [ ! -f "$dir/onnx/model.onnx" ]; then
    echo "[bench] writing the BERT-base-shaped checkpoint and its torch.onnx export to $dir"
    /usr/bin/python3 test/fixtures/scripts/bench_torch_bert.py --threads "$THREADS" --save "$dir" --onnx "$dir" --no-bench
  fi
  dotnet build test/benchmarks/ModelBench -c Release -nologo -v:q >/dev/null
  local mb="dotnet test/benchmarks/ModelBench/bin/Release/net10.0/ModelBench.dll --threads $THREADS --runs $RUNS --warmup 3"
  echo "[bench] onnx-export: exporting $dir with our exporter (Fuse, Quantize) to $exp"
  $mb --model "$dir" --export "$exp" --fuse --quantize > "$OUT/export-info.json"
  # The four sides take turns, ROUNDS times (default 3), so a noisy stretch of the machine falls on all of them; the table
  # gives the median of the rounds' medians, and each round's figure below it.
  local rounds="${ROUNDS:-3}" r
  for r in $(seq 1 "$rounds"); do
    echo "[bench] onnx-export round $r/$rounds: ours fused export, its int8 copy, ours on the torch.onnx export (ONNX Runtime); Transformers.js (onnxruntime-node) on the torch.onnx export"
    $mb --engine onnx --model "$exp" > "$OUT/export-ours-fused.$r.json"
    $mb --engine onnx --model "$exp" --quantized > "$OUT/export-ours-q8.$r.json"
    $mb --engine onnx --model "$dir" > "$OUT/export-ours-torch-onnx.$r.json"
    node test/benchmarks/OnnxRuntime/bench_ort_node.mjs "$dir" --iters "$RUNS" --warmup 3 --threads "$THREADS" > "$OUT/export-node.$r.json"
  done
  echo "[bench] onnx-export: ONNX Runtime's SGEMM alone on BERT-base's GEMM shapes (the fp32 ceiling)"
  /usr/bin/python3 test/benchmarks/OnnxRuntime/make_gemm_models.py "$ROOT/artifacts/bench/gemm"
  node test/benchmarks/OnnxRuntime/sgemm_ceiling.mjs "$ROOT/artifacts/bench/gemm" --iters "$RUNS" > "$OUT/export-sgemm.txt"
  python3 - "$OUT" "$rounds" <<'PY'
import json, sys, os, statistics
out, rounds = sys.argv[1], int(sys.argv[2])
load = lambda n: json.load(open(os.path.join(out, n)))
info = load("export-info.json")
def tjs(node, b):
    for r in (node.get("transformers_js") or {}).get("results", []):
        if r["batch"] == b: return r["model_call"]["median_ms"]
sides = {"fused": [], "q8": [], "torch_onnx": [], "tjs": []}
for k in range(1, rounds + 1):
    node = load(f"export-node.{k}.json")
    sides["fused"].append(load(f"export-ours-fused.{k}.json"))
    sides["q8"].append(load(f"export-ours-q8.{k}.json"))
    sides["torch_onnx"].append(load(f"export-ours-torch-onnx.{k}.json"))
    sides["tjs"].append({str(b): tjs(node, b) for b in (1, 8)})
def med(side, b):
    xs = [r.get(str(b)) for r in sides[side]]
    return statistics.median(xs) if xs and all(x is not None for x in xs) else None
f = lambda x: f"{x:.1f}" if x is not None else "n/a"
r = lambda a, c: f"{a / c:.2f}x" if a and c else "n/a"
print(f"\nBERT-base forward, seq 128, 2 threads, median ms (lower is better) of {rounds} interleaved rounds, all in this run; export took {info['export_s']} s,")
print(f"fp32 {info['model_bytes'] / 1e6:.0f} MB, int8 {info['quantized_bytes'] / 1e6:.0f} MB (ratio {info['quantized_bytes'] / info['model_bytes']:.2f})")
print(f"{'batch':>5} {'ours fused export':>18} {'ours int8 export':>17} {'ours torch.onnx':>16} {'tjs torch.onnx':>15} {'tjs/ours fused':>15} {'tjs/ours int8':>14}")
for b in (1, 8):
    a, q, t, j = med("fused", b), med("q8", b), med("torch_onnx", b), med("tjs", b)
    print(f"{b:>5} {f(a):>18} {f(q):>17} {f(t):>16} {f(j):>15} {r(j, a):>15} {r(j, q):>14}")
for b in (1, 8):
    print(f"rounds, batch {b}: " + "; ".join(f"{name} " + " / ".join(f(x.get(str(b))) for x in sides[name]) for name in sides))
PY
  cat "$OUT/export-sgemm.txt"
}

# trainer: steps/s and peak RSS fine-tuning BERT 4 x 256 (batch 16 x 128) with our Trainer vs the same loop in PyTorch.
trainer_bench() {
  local dir="$ROOT/artifacts/bench/bert-train"
  echo "[bench] trainer: PyTorch loop (also writes the initial weights)"
  /usr/bin/python3 test/fixtures/scripts/bench_torch_train.py --threads "$THREADS" --save "$dir" | tee "$OUT/trainer-pytorch.json"
  dotnet build test/benchmarks/TrainerBench -c Release -nologo -v:q >/dev/null
  echo "[bench] trainer: ours"
  dotnet test/benchmarks/TrainerBench/bin/Release/net10.0/TrainerBench.dll --model "$dir" --threads "$THREADS" | tail -1 | tee "$OUT/trainer-ours.json"
}

case "$WHAT" in
  model) model_bench ;;
  onnx-export) onnx_export_bench ;;
  trainer) trainer_bench ;;
  onnx-overhead) bash test/benchmarks/OnnxRuntime/run.sh ;;
  tokenizers) bash test/benchmarks/Tokenizers/bench.sh ;;
  pipelines) bash test/benchmarks/Pipelines/run.sh ;;
  mlnet) bash test/benchmarks/MLNet/run.sh ;;
  vision) bash test/benchmarks/VisionBench/run.sh ;;
  robustness)
    dotnet build test/Microsoft.ML.Transformers.Tests -c Release -nologo -v:q >/dev/null
    MLT_FUZZ_SCALE="${MLT_FUZZ_SCALE:-10}" MLT_KILL_TRIALS="${MLT_KILL_TRIALS:-50}" dotnet test test/Microsoft.ML.Transformers.Tests -c Release --no-build \
      --filter "FullyQualifiedName~ParserFuzzTests|FullyQualifiedName~AtomicSaveTests" --logger "console;verbosity=detailed" | grep -E "cases in|killed saves|Test Run|Failed" ;;
  detr) bash test/benchmarks/VisionBench/run_detr.sh ;;
  minilm) bash test/benchmarks/SentenceBench/run.sh ;;
  all)
    model_bench
    onnx_export_bench
    bash test/benchmarks/OnnxRuntime/run.sh
    bash test/benchmarks/Tokenizers/bench.sh
    bash test/benchmarks/Pipelines/run.sh
    bash test/benchmarks/MLNet/run.sh
    bash test/benchmarks/VisionBench/run.sh
    bash test/benchmarks/SentenceBench/run.sh
    trainer_bench
    ;;
  *) echo "unknown benchmark '$WHAT' (all|model|onnx-overhead|tokenizers|pipelines|mlnet|vision|trainer|robustness|onnx-export|detr|minilm)" >&2; exit 2 ;;
esac
