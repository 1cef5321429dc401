// Writes the tokenizer parity goldens with Hugging Face's Rust `tokenizers` (npm tokenizers@0.23.2).
//   cd <repo> && npm install --prefix artifacts/oracles --ignore-scripts tokenizers@0.23.2
//   node test/oracles/tokenizers/make_goldens.js [data-dir]
// The tokenizer files are read from the committed gzipped copies in test/fixtures/tokenizers/files (or from
// data-dir, a folder of plain <name>/<file> copies, when given).
// Output: test/fixtures/tokenizers/corpus.jsonl.gz (the seeded corpus) and golden/<name>.jsonl.gz.
// Offsets: the node binding reports offsets in Unicode code points; .NET strings index UTF-16 code
// units, so every offset is converted here to UTF-16 indices into the text (or the pair) it refers to.
// gpt2 ships only vocab.json + merges.txt: it is assembled here as GPT-2's byte-level BPE
// (the same configuration Tokenizer.FromVocabAndMerges builds on the .NET side).
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const repo = path.resolve(__dirname, '../../..');
const tk = require(path.join(repo, 'artifacts/oracles/node_modules/tokenizers'));
const { makeCorpus } = require('./corpus.js');

const SEED = 12345, COUNT = 5000, TP_COUNT = 800;
// Items below FULL (and the first FULL_TP batches) are stored in full; every item also carries `h`, a digest of
// its canonical form (see canon below; the .NET test computes the same), which keeps the goldens small.
const FULL = 200, FULL_TP = 12;
const crypto = require('crypto');
const ALL_FULL = process.argv.includes('--full');
const dataArg = process.argv.slice(2).find((a) => !a.startsWith('--'));
const dataDir = dataArg ? path.resolve(dataArg) : null;
const filesDir = path.join(repo, 'test/fixtures/tokenizers/files');
// One tokenizer file as text: data-dir/<name>/<file> when given, else the committed <file>.gz.
function readData(name, file) {
  if (dataDir) return fs.readFileSync(path.join(dataDir, name, file), 'utf8');
  return zlib.gunzipSync(fs.readFileSync(path.join(filesDir, name, file + '.gz'))).toString('utf8');
}
const outDir = path.join(repo, 'test/fixtures/tokenizers');
const NAMES = ['bert-base-uncased', 'bert-base-cased', 'all-minilm-l6-v2', 'roberta-base', 't5-small', 'llama2', 'clip', 'gpt2'];
// component variants (test/fixtures/tokenizers/variants.json) run on the first VARIANT_COUNT corpus items
const VARIANT_COUNT = 1000, VARIANT_TP = 24;
const PAD = { 'bert-base-uncased': '[PAD]', 'bert-base-cased': '[PAD]', 'all-minilm-l6-v2': '[PAD]', 'roberta-base': '<pad>',
  't5-small': '<pad>', llama2: '<unk>', clip: '<|endoftext|>', gpt2: '<|endoftext|>' };
// Strides stay below every possible per-sequence limit: the Rust library aborts the process (a panic) otherwise.
// Truncation / padding settings exercised on the first TP_COUNT corpus items, in batches of 8.
const TP = [
  { trunc: { maxLength: 24, strategy: 'LongestFirst', stride: 0, direction: 'right' }, pad: { direction: 'right' } },
  { trunc: { maxLength: 32, strategy: 'OnlyFirst', stride: 0, direction: 'right' }, pad: { maxLength: 40, direction: 'left' } },
  { trunc: { maxLength: 20, strategy: 'LongestFirst', stride: 3, direction: 'left' }, pad: { direction: 'right', padToMultipleOf: 8 } },
  { trunc: { maxLength: 48, strategy: 'OnlySecond', stride: 0, direction: 'right' }, pad: null },
  { trunc: { maxLength: 9, strategy: 'LongestFirst', stride: 1, direction: 'right' }, pad: { direction: 'left', padToMultipleOf: 16 } },
  { trunc: null, pad: { maxLength: 64, direction: 'right', padToMultipleOf: 8 } },
];

const VARIANTS = JSON.parse(fs.readFileSync(path.join(repo, 'test/fixtures/tokenizers/variants.json'), 'utf8'));
delete VARIANTS._comment;

function load(name) {
  if (VARIANTS[name]) return tk.Tokenizer.fromString(JSON.stringify(variantJson(name)));
  const json = JSON.parse(readData(name, 'tokenizer.json'));
  repairMerges(json);
  return tk.Tokenizer.fromString(JSON.stringify(json));
}

// A variant: base tokenizer.json with top-level keys and model keys replaced and added tokens appended.
function variantJson(name) {
  const v = VARIANTS[name];
  const json = JSON.parse(readData(v.base, 'tokenizer.json'));
  repairMerges(json);
  for (const [k, val] of Object.entries(v.set || {})) json[k] = val;
  for (const [k, val] of Object.entries(v.model_set || {})) { if (val === null) delete json.model[k]; else json.model[k] = val; }
  for (const t of v.add_tokens || []) json.added_tokens.push(t);
  if (v.unigram_byte_pieces) for (let b = 0; b < 256; b++) json.model.vocab.push(['<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>', -20]);
  return json;
}
// llama2's file has string merges made only of spaces/'▁' with several spaces ("   "), which the Rust
// library rejects as ambiguous. Rewrite every merge into the unambiguous [left, right] array form, splitting
// at the first space whose two sides and their concatenation are vocabulary entries (the .NET tests apply the same rule in memory).
function repairMerges(json) {
  const m = json.model && json.model.merges;
  if (!Array.isArray(m) || !m.some((x) => typeof x === 'string' && x.split(' ').length !== 2)) return;
  json.model.merges = m.map((x) => {
    if (typeof x !== 'string') return x;
    const v = json.model.vocab;
    for (let i = 1; i < x.length - 1; i++) {
      if (x[i] === ' ' && x.slice(0, i) in v && x.slice(i + 1) in v && x.slice(0, i) + x.slice(i + 1) in v) return [x.slice(0, i), x.slice(i + 1)];
    }
    throw new Error('unsplittable merge ' + JSON.stringify(x));
  });
}
// The same tokenizer.json that Tokenizer.FromVocabAndMerges builds on the .NET side (GPT2TokenizerFast's layout).
async function loadGpt2() {
  const vocab = JSON.parse(readData('gpt2', 'vocab.json'));
  const merges = readData('gpt2', 'merges.txt').split('\n')
    .filter((l, i) => l.length > 0 && !(i === 0 && l.startsWith('#version'))).map((l) => l.split(' '));
  const bl = (prefix, trim) => ({ type: 'ByteLevel', add_prefix_space: prefix, trim_offsets: trim, use_regex: true });
  const root = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [{ id: vocab['<|endoftext|>'], content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null, pre_tokenizer: bl(false, true), post_processor: bl(true, false), decoder: bl(true, true),
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false,
      byte_fallback: false, ignore_merges: false, vocab, merges },
  };
  return tk.Tokenizer.fromString(JSON.stringify(root));
}

// BERT from a plain vocab.txt (what BertTokenizerFast builds; the .NET side: Tokenizer.FromWordPieceVocab).
// The vocab.txt is bert-base-uncased's vocabulary written one token per line in id order.
function loadBertVocabTxt() {
  const json = JSON.parse(readData('bert-base-uncased', 'tokenizer.json'));
  const tokens = Object.entries(json.model.vocab).sort((a, b) => a[1] - b[1]).map((e) => e[0]);
  const file = path.join(repo, 'artifacts', 'bert-vocab.txt');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, tokens.join('\n') + '\n');
  const vocab = {};
  tokens.forEach((t, i) => { vocab[t] = i; });
  const t = new tk.Tokenizer(tk.WordPiece.init(vocab, { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 }));
  t.setNormalizer(tk.bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true }));
  t.setPreTokenizer(tk.bertPreTokenizer());
  t.setPostProcessor(tk.bertProcessing(['[SEP]', vocab['[SEP]']], ['[CLS]', vocab['[CLS]']]));
  t.setDecoder(tk.wordPieceDecoder('##', true));
  t.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  return t;
}

function cpToU16(s) {
  const map = [0];
  let u = 0;
  for (const ch of s) { u += ch.length; map.push(u); }
  return map;
}

// Canonical text of one encoding: fields on lines, numbers comma-separated, tokens joined by U+0001,
// overflowing encodings joined by U+0002. The digest is the first 16 hex digits of SHA-256 over its UTF-8.
function canon(r) {
  const n = r.ids.length;
  return [r.ids.join(','), r.tokens.join('\u0001'), r.off.join(','), (r.tt || new Array(n).fill(0)).join(','),
    r.sm.join(','), (r.am || new Array(n).fill(1)).join(','), r.w.join(','), (r.ov || []).map(canon).join('\u0002')].join('\n');
}
const digest = (s) => crypto.createHash('sha256').update(Buffer.from(s, 'utf8')).digest('hex').slice(0, 16);

function record(enc, text, pair) {
  const mt = cpToU16(text), mp = pair == null ? null : cpToU16(pair);
  const seq = enc.getSequenceIds();
  const off = [];
  enc.getOffsets().forEach(([s, e], i) => {
    const m = seq[i] === 1 ? mp : mt;
    off.push(m[s], m[e]);
  });
  const r = { ids: enc.getIds(), tokens: enc.getTokens(), off };
  const tt = enc.getTypeIds(); if (tt.some((x) => x !== 0)) r.tt = tt;
  r.sm = enc.getSpecialTokensMask();
  const am = enc.getAttentionMask(); if (am.some((x) => x !== 1)) r.am = am;
  r.w = enc.getWordIds().map((x) => (x == null ? -1 : x));
  const ov = enc.getOverflowing();
  if (ov.length) r.ov = ov.map((o) => record(o, text, pair));
  return r;
}

async function main() {
  const corpus = makeCorpus(COUNT, SEED);
  fs.mkdirSync(path.join(outDir, 'golden'), { recursive: true });
  writeGz(path.join(outDir, 'corpus.jsonl.gz'), corpus.map((c) => JSON.stringify(c)));
  const only = (process.argv.find((a) => a.startsWith('--only=')) || '').slice(7);
  const variantNames = ['bert-vocab-txt', ...Object.keys(JSON.parse(fs.readFileSync(path.join(repo, 'test/fixtures/tokenizers/variants.json'), 'utf8'))).filter((k) => k !== '_comment')];
  for (const name of [...NAMES, ...variantNames]) {
    if (only && only !== name && !(only === 'variants' && !NAMES.includes(name))) continue;
    const isVariant = !NAMES.includes(name);
    const count = isVariant ? VARIANT_COUNT : corpus.length;
    const tpCount = isVariant ? VARIANT_TP * 8 : TP_COUNT;
    const padName = name === 'bert-vocab-txt' ? 'bert-base-uncased' : isVariant ? VARIANTS[name].base : name;
    const t = name === 'gpt2' ? await loadGpt2() : name === 'bert-vocab-txt' ? loadBertVocabTxt() : load(name);
    const lines = [];
    for (let i = 0; i < count; i++) {
      const { text, pair } = corpus[i];
      const enc = await t.encode(text, pair ?? null, { addSpecialTokens: true });
      const r = record(enc, text, pair);
      r.dec = await t.decode(enc.getIds(), true);
      const dec0 = await t.decode(enc.getIds(), false);
      if (dec0 !== r.dec) r.dec0 = dec0;
      if (i % 5 === 0) {
        const plain = await t.encode(text, pair ?? null, { addSpecialTokens: false });
        r.plain = { ids: plain.getIds(), off: record(plain, text, pair).off };
      }
      r.h = digest(canon(r) + '\u0003' + r.dec + '\u0003' + (r.dec0 ?? r.dec) + '\u0003' +
        (r.plain ? r.plain.ids.join(',') + '|' + r.plain.off.join(',') : ''));
      lines.push(JSON.stringify(ALL_FULL || i < (isVariant ? 20 : FULL) ? r : { h: r.h }));
    }
    // truncation / padding in batches (settings given by arguments, as a user would)
    const padId = t.tokenToId(PAD[padName]);
    for (let b = 0; b * 8 < tpCount; b++) {
      const cfg = TP[b % TP.length];
      const items = corpus.slice(b * 8, b * 8 + 8);
      const tt = name === 'gpt2' ? await loadGpt2() : name === 'bert-vocab-txt' ? loadBertVocabTxt() : load(name);
      if (cfg.trunc) tt.setTruncation(cfg.trunc.maxLength, { strategy: cfg.trunc.strategy, stride: cfg.trunc.stride, direction: cfg.trunc.direction });
      else tt.disableTruncation();
      if (cfg.pad) tt.setPadding({ ...cfg.pad, padId, padToken: PAD[padName], padTypeId: 0 });
      else tt.disablePadding();
      const rec = { batch: b, cfg: b % TP.length };
      try {
        // The node binding's encodeBatch takes single strings only, so each input is encoded by the Rust library
        // (truncation, overflow, per-encoding padding) and the batch padding is then applied as Rust's
        // pad_encodings does: the longest main encoding, rounded up to pad_to_multiple_of, overflowing included.
        const encs = [];
        for (const c of items) encs.push(await tt.encode(c.text, c.pair ?? null, { addSpecialTokens: true }));
        if (cfg.pad) {
          let len = cfg.pad.maxLength ?? Math.max(...encs.map((e) => e.getLength()));
          const m = cfg.pad.padToMultipleOf;
          if (m && len % m) len += m - (len % m);
          for (const e of encs) e.pad(len, { direction: cfg.pad.direction, padId, padTypeId: 0, padToken: PAD[padName] });
        }
        rec.out = encs.map((e, k) => record(e, items[k].text, items[k].pair));
      } catch (e) {
        rec.error = String(e.message || e);
      }
      rec.h = digest(rec.error != null ? 'E' : rec.out.map(canon).join('\u0004'));
      if (!ALL_FULL && b >= (isVariant ? 3 : FULL_TP)) delete rec.out;
      lines.push(JSON.stringify(rec));
    }
    writeGz(path.join(ALL_FULL ? path.join(repo, 'artifacts') : path.join(outDir, 'golden'), name + '.jsonl.gz'), lines);
    if (!ALL_FULL) console.log(name, fs.statSync(path.join(outDir, 'golden', name + '.jsonl.gz')).size);
  }
  fs.writeFileSync(path.join(outDir, 'golden', 'settings.json'), JSON.stringify({ seed: SEED, count: COUNT, tpCount: TP_COUNT, pad: PAD, tp: TP, full: FULL, fullTp: FULL_TP, variantCount: VARIANT_COUNT, variantTp: VARIANT_TP }, null, 1) + '\n');
}

function writeGz(file, lines) {
  const tmp = file + '.tmp';
  fs.writeFileSync(tmp, zlib.gzipSync(Buffer.from(lines.join('\n') + '\n'), { level: 9 }));
  fs.renameSync(tmp, file);
}

module.exports = { load, loadGpt2, loadBertVocabTxt, record, canon, digest, readData, repairMerges, writeGz, tk, repo };
if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
