// The slow tests' real sentences and their token ids from Hugging Face's Rust `tokenizers` (npm tokenizers@0.23.2).
//   apt-get install fortunes-min fortunes-de fortunes-es fortunes-it fortunes-ru
//   bash eng/install-deps.sh --oracles && node test/oracles/minilm/make_sentences.js
// Output: test/fixtures/minilm/sentences.jsonl.gz, one {"text", "ids"} per line: 1,000 fortunes in five languages (every
// k-th cookie of each file set, whitespace collapsed, 20-400 characters), then 8 long texts (several cookies joined)
// that the tokenizer.json's own truncation block (LongestFirst, 256) cuts to 256 tokens.
// Next: /usr/bin/python3 test/fixtures/scripts/make_minilm_goldens.py (the PyTorch embeddings of these ids).
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const repo = path.resolve(__dirname, '../../..');
const tk = require(path.join(repo, 'artifacts/oracles/node_modules/tokenizers'));

const DIR = '/usr/share/games/fortunes';
// language -> (files, how many sentences); English gets the most, as the model was trained mostly on English
const LANGS = [
  ['en', ['fortunes', 'literature', 'riddles'], 400],
  ['de', ['de'], 150], ['es', ['es'], 150], ['it', ['it'], 150], ['ru', ['ru'], 150],
];

function cookies(p) {
  const st = fs.statSync(p);
  const files = st.isDirectory() ? fs.readdirSync(p).filter((f) => !f.endsWith('.dat') && !f.endsWith('.u8')).sort().map((f) => path.join(p, f)) : [p];
  const out = [];
  for (const f of files) {
    if (!fs.statSync(f).isFile()) continue;
    for (const c of fs.readFileSync(f, 'utf8').split(/^%$/m)) {
      const t = c.replace(/\s+/g, ' ').trim();
      if (t.length >= 20 && t.length <= 400 && !t.includes('\uFFFD')) out.push(t);
    }
  }
  return out;
}

const texts = [];
for (const [lang, names, count] of LANGS) {
  const all = [];
  for (const n of names) if (fs.existsSync(path.join(DIR, n))) all.push(...cookies(path.join(DIR, n)));
  if (all.length < count) throw new Error(`${lang}: ${all.length} cookies, need ${count}; install fortunes-${lang}`);
  const step = all.length / count;
  for (let i = 0; i < count; i++) texts.push(all[Math.floor(i * step)]);
}
for (let i = 0; i < 8; i++) texts.push(texts.slice(i * 50, i * 50 + 40).join(' '));

const tokenizer = tk.Tokenizer.fromFile(path.join(repo, 'eng/MiniLMSetup/tokenizer.json'));
(async () => {
  const lines = [];
  for (const text of texts) {
    const e = await tokenizer.encode(text);
    // the tokenizer.json's padding block (BatchLongest, pad_to_multiple_of 8) pads even a single text: keep the real tokens
    const n = e.getAttentionMask().reduce((a, b) => a + b, 0);
    lines.push(JSON.stringify({ text, ids: e.getIds().slice(0, n) }));
  }
  const out = path.join(repo, 'test/fixtures/minilm/sentences.jsonl.gz');
  fs.writeFileSync(out + '.tmp', zlib.gzipSync(lines.join('\n') + '\n', { level: 9 }));
  fs.renameSync(out + '.tmp', out);
  console.log(`${lines.length} texts -> ${out}; longest ${Math.max(...lines.map((l) => JSON.parse(l).ids.length))} tokens`);
})();
