// Writes N texts of mixed length (one per line) from the Debian fortunes (fortunes-min / fortune-mod data in
// /usr/share/games/fortunes: English files fortunes, literature, riddles, computer, whichever exist): every entry, its
// lines joined by spaces, then N picked evenly through them (fixed, so every run and both sides read the same texts).
// Without fortunes it writes nothing and exits 3 (run.sh then falls back to make_sentences.mjs).
//   node test/benchmarks/Pipelines/make_corpus.mjs <out-file> [N]
import fs from 'node:fs';
import path from 'node:path';

const [outPath, nArg] = process.argv.slice(2);
const dir = '/usr/share/games/fortunes';
const files = ['computer', 'fortunes', 'literature', 'riddles'].map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f));
if (files.length === 0) process.exit(3);
const entries = files.flatMap((f) => fs.readFileSync(f, 'utf8').split(/^%$/m))
  .map((e) => e.replace(/\s+/g, ' ').trim()).filter((e) => e.length > 0);
const n = Math.min(Number(nArg ?? 512), entries.length);
const picked = Array.from({ length: n }, (_, i) => entries[Math.floor((i * entries.length) / n)]);
fs.writeFileSync(outPath + '.tmp', picked.join('\n') + '\n');
fs.renameSync(outPath + '.tmp', outPath);
const chars = picked.map((t) => t.length).sort((a, b) => a - b);
console.error(`[corpus] ${n} fortunes from ${files.map((f) => path.basename(f)).join(', ')}: characters min ${chars[0]}, median ${chars[n >> 1]}, max ${chars[n - 1]}`);
