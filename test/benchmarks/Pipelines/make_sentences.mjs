// Writes N sentences (default 1,000) of 4 to 24 words drawn with a fixed seed from the words of the tiny BERT vocabulary,
// so that every benchmark run and both sides read the same text.
//   node test/benchmarks/Pipelines/make_sentences.mjs <tokenizer.json> <out-file> [N]
import fs from 'node:fs';

const [tokPath, outPath, nArg] = process.argv.slice(2);
const vocab = JSON.parse(fs.readFileSync(tokPath, 'utf8')).model.vocab;
const words = Object.keys(vocab).filter((w) => /^[a-z]{2,}$/.test(w));
let seed = 12345;
const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const lines = [];
for (let i = 0; i < Number(nArg ?? 1000); i++) {
  const n = 4 + Math.floor(next() * 21);
  lines.push(Array.from({ length: n }, () => words[Math.floor(next() * words.length)]).join(' '));
}
fs.writeFileSync(outPath + '.tmp', lines.join('\n') + '\n');
fs.renameSync(outPath + '.tmp', outPath);
