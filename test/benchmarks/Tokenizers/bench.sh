#!/usr/bin/env bash
# Side-by-side encode throughput: ours vs Hugging Face's Rust tokenizers (npm tokenizers@0.23.2), same corpus and
# settings, single-threaded and on all cores, for bert-base-uncased, roberta-base and t5-small.
# Needs: node + artifacts/oracles (eng/install-deps.sh --oracles), Debian fortunes-* packages; the tokenizer files
# are the committed copies in test/fixtures/tokenizers/files (MLT_TOKENIZER_DATA names another folder).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
data="${MLT_TOKENIZER_DATA:-$("$repo/test/fixtures/tokenizers/files/unpack.sh")}"
out="$repo/artifacts/bench/tokenizers"
mkdir -p "$out"
if [ ! -d /usr/share/games/fortunes ] && command -v apt-get >/dev/null; then
  apt-get install -y -q fortunes fortunes-de fortunes-fr fortunes-ru fortunes-es fortunes-it fortunes-zh fortunes-pl fortunes-cs fortunes-bg fortunes-br >/dev/null
fi
[ -f "$repo/artifacts/oracles/node_modules/tokenizers/package.json" ] || npm install --prefix "$repo/artifacts/oracles" --ignore-scripts tokenizers@0.23.2 >/dev/null
node "$here/make_corpus.js" "$out/corpus.json" "${MLT_BENCH_MB:-4}"
dotnet build "$here/TokenizerBench.csproj" -c Release -v:q -nologo -o "$out/bin" >/dev/null
rounds="${MLT_BENCH_ROUNDS:-5}" # best of N rounds each side: the figure least disturbed by other load
printf '%-18s %-7s %12s %12s %8s   %14s %14s\n' tokenizer mode "rust MB/s" "ours MB/s" ratio "rust tok/s" "ours tok/s"
for name in ${*:-bert-base-uncased roberta-base t5-small}; do
  ours="$(dotnet "$out/bin/TokenizerBench.dll" "$data/$name" "$out/corpus.json" "$rounds")"
  rust1="$(TOKENIZERS_PARALLELISM=false node "$here/rust_bench.js" "$repo" "$data/$name" "$out/corpus.json" "$rounds")"
  rustN="$(TOKENIZERS_PARALLELISM=true node "$here/rust_bench.js" "$repo" "$data/$name" "$out/corpus.json" "$rounds")"
  python3 - "$name" "$ours" "$rust1" "$rustN" <<'PY'
import json, sys
name, ours, r1, rn = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
for mode, rust in (("single", r1), ("batch", rn)):
    o = ours[mode]
    print(f"{name:<18} {mode:<7} {rust['mbPerSec']:12.2f} {o['mbPerSec']:12.2f} {o['mbPerSec']/rust['mbPerSec']:7.2f}x   {rust['tokensPerSec']:14.0f} {o['tokensPerSec']:14.0f}" + ("" if rust['tokens'] == o['tokens'] else f"   (token counts differ: rust {rust['tokens']} ours {o['tokens']})"))
PY
done
