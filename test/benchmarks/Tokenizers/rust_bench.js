// Rust tokenizers (npm tokenizers@0.23.2) encode throughput on the benchmark corpus: one encodeBatch call over all
// texts, add_special_tokens = true, no truncation or padding. TOKENIZERS_PARALLELISM=false makes it single-threaded.
'use strict';
const fs = require('fs');
const path = require('path');
const [repo, tokDir, corpusFile, rounds = '3'] = process.argv.slice(2);
const tk = require(path.join(repo, 'artifacts/oracles/node_modules/tokenizers'));
const texts = JSON.parse(fs.readFileSync(corpusFile, 'utf8'));
const bytes = texts.reduce((a, t) => a + Buffer.byteLength(t), 0);
const t = tk.Tokenizer.fromFile(path.join(tokDir, 'tokenizer.json'));
(async () => {
  let tokens = 0;
  const warm = await t.encodeBatch(texts.slice(0, 2000), { addSpecialTokens: true });
  let best = Infinity;
  for (let r = 0; r < Number(rounds); r++) {
    const t0 = process.hrtime.bigint();
    const encs = await t.encodeBatch(texts, { addSpecialTokens: true });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.min(best, s);
    tokens = 0; for (const e of encs) tokens += e.getLength();
  }
  void warm;
  console.log(JSON.stringify({ seconds: best, mbPerSec: bytes / 1048576 / best, tokensPerSec: tokens / best, tokens, texts: texts.length }));
})();
