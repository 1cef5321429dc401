// Writes the targeted tokenizer goldens with Hugging Face's Rust `tokenizers` (npm tokenizers@0.23.2):
//   node test/oracles/tokenizers/make_cases.js
// Input: test/fixtures/tokenizers/cases.json (cases by kind; see its _comment). Output:
//   test/fixtures/tokenizers/golden/cases.jsonl.gz    one line per case with the Rust results in full
//   test/fixtures/tokenizers/golden/sweeps.json.gz    Unicode sweeps: every code point of planes 0-1 and 14 (and a
//                                                     sample of the others) through tokenizers and components; one
//                                                     digest per block of 128 code points
//   test/fixtures/tokenizers/golden/unigram-scores.json  t5-small's scores as the Rust library holds them
// Offsets are converted from the binding's code points to UTF-16 indices, as in make_goldens.js.
// `decode_cleanup` cases take transformers' clean_up_tokenization from Transformers.js (@huggingface/transformers@4.3.1
// in artifacts/oracles), checked first to decode without clean-up exactly as the Rust library does.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const zlib = require('zlib');
const g = require('./make_goldens.js');
const { tk, repo } = g;

const fixtures = path.join(repo, 'test/fixtures/tokenizers');
const CASES = JSON.parse(fs.readFileSync(path.join(fixtures, 'cases.json'), 'utf8'));
const VARIANTS = JSON.parse(fs.readFileSync(path.join(fixtures, 'variants.json'), 'utf8'));
const REAL = ['bert-base-uncased', 'bert-base-cased', 'all-minilm-l6-v2', 'roberta-base', 't5-small', 'llama2', 'clip', 'gpt2'];

const hex8 = (s) => crypto.createHash('sha256').update(Buffer.from(s, 'utf8')).digest('hex').slice(0, 8);
function cpToU16(s) { const map = [0]; let u = 0; for (const ch of s) { u += ch.length; map.push(u); } return map; }

// A tokenizer by name: a real one, a variant of variants.json or one of cases.json's own "tokenizers" (same schema).
const cache = new Map();
async function tokenizer(name) {
  if (cache.has(name)) return cache.get(name);
  let t;
  if (name === 'gpt2') t = await g.loadGpt2();
  else if (REAL.includes(name) || VARIANTS[name]) t = g.load(name);
  else if (CASES.tokenizers[name]) t = tk.Tokenizer.fromString(JSON.stringify(derived(CASES.tokenizers[name])));
  else throw new Error('unknown tokenizer ' + name);
  cache.set(name, t);
  return t;
}
function derived(v) {
  const json = JSON.parse(g.readData(v.base, 'tokenizer.json'));
  g.repairMerges(json);
  for (const [k, val] of Object.entries(v.set || {})) json[k] = val;
  for (const [k, val] of Object.entries(v.model_set || {})) { if (val === null) delete json.model[k]; else json.model[k] = val; }
  for (const t of v.add_tokens || []) json.added_tokens.push(t);
  return json;
}
const names = (x) => (x === 'all' ? REAL : x);

// A tokenizer around one component: every normalized character becomes one <unk> token (BPE without merges), so the
// offsets show each character's alignment with the input.
function shell(parts) {
  return tk.Tokenizer.fromString(JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null,
    decoder: null, ...parts,
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false,
      byte_fallback: false, vocab: { '<unk>': 0 }, merges: [] },
  }));
}
async function normalize(t, text) {
  const norm = t.getNormalizer().normalizeString(text);
  const enc = await t.encode(text, null, { addSpecialTokens: false });
  const m = cpToU16(text);
  return { norm, off: enc.getOffsets().flatMap(([s, e]) => [m[s], m[e]]) };
}
function preTokenize(t, text) {
  const m = cpToU16(text);
  return t.getPreTokenizer().preTokenizeString(text).map(([w, [s, e]]) => [w, m[s], m[e]]);
}
const canonNorm = (r) => r.norm + '\u0001' + r.off.join(',');
const canonPre = (r) => r.map(([w, s, e]) => w + '\u0002' + s + ',' + e).join('\u0001');

async function main() {
  const lines = [];
  // ---- encode: full records, decoded both ways ----
  for (const c of CASES.encode) {
    for (const name of names(c.tokenizers)) {
      const t = await tokenizer(name);
      for (const text of c.texts) {
        const enc = await t.encode(text, c.pair ?? null, { addSpecialTokens: true });
        const r = g.record(enc, text, c.pair ?? null);
        r.dec = await t.decode(enc.getIds(), true);
        r.dec0 = await t.decode(enc.getIds(), false);
        lines.push({ kind: 'encode', tok: name, text, pair: c.pair ?? null, ...r });
      }
    }
  }
  // ---- decode with transformers' clean_up_tokenization (Transformers.js) ----
  if (CASES.decode_cleanup.length) {
    const T = await import(path.join(repo, 'artifacts/oracles/node_modules/@huggingface/transformers/dist/transformers.node.mjs'));
    for (const c of CASES.decode_cleanup) {
      for (const name of names(c.tokenizers)) {
        const t = await tokenizer(name);
        const js = new T.PreTrainedTokenizer(JSON.parse(g.readData(name, 'tokenizer.json')), { clean_up_tokenization_spaces: true });
        for (const text of c.texts) {
          const ids = (await t.encode(text, null, { addSpecialTokens: true })).getIds();
          const rust = await t.decode(ids, true);
          const plain = js.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
          if (plain !== rust) throw new Error(`Transformers.js decodes ${JSON.stringify(text)} as ${JSON.stringify(plain)}, Rust as ${JSON.stringify(rust)}`);
          lines.push({ kind: 'decode_cleanup', tok: name, text, ids, dec: rust, clean: js.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: true }) });
        }
      }
    }
  }
  // ---- components ----
  for (const c of CASES.decoders) {
    const t = shell({ decoder: c.decoder });
    for (const tokens of c.tokens) lines.push({ kind: 'decoder', decoder: c.decoder, tokens, out: t.getDecoder().decode(tokens) });
  }
  for (const c of CASES.normalizers) {
    const t = shell({ normalizer: c.normalizer });
    for (const text of c.texts) lines.push({ kind: 'normalizer', normalizer: c.normalizer, text, ...(await normalize(t, text)) });
  }
  for (const c of CASES.pre_tokenizers) {
    const t = shell({ pre_tokenizer: c.pre_tokenizer });
    for (const text of c.texts) lines.push({ kind: 'pre_tokenizer', pre_tokenizer: c.pre_tokenizer, text, pieces: preTokenize(t, text) });
  }
  g.writeGz(path.join(fixtures, 'golden', 'cases.jsonl.gz'), lines.map((l) => JSON.stringify(l)));
  console.log('cases', lines.length);

  await sweeps();
  await unigramScores();
}

// ---- Unicode sweeps (the .NET test builds the same texts with the same rules) ----
function sweepCps() {
  const out = [];
  const add = (a, b, step) => { for (let c = a; c < b; c += step) if (c < 0xD800 || c > 0xDFFF) out.push(c); };
  add(0, 0x20000, 1); add(0x20000, 0x40000, 7); add(0xE0000, 0xE1000, 1); add(0xF0000, 0x110000, 97);
  return out;
}
const BLOCK = 128;
const fill = (template, cp) => template.split('{c}').join(String.fromCodePoint(cp));
async function sweeps() {
  const S = CASES.sweeps;
  const cps = sweepCps();
  const blocks = [];
  for (let i = 0; i < cps.length; i += BLOCK) blocks.push(cps.slice(i, i + BLOCK));
  const text = (template, block) => block.map((c) => fill(template, c)).join('');
  const out = { block: BLOCK, count: cps.length, tokenizers: {}, normalizers: [], pre_tokenizers: [], sequences: [] };
  for (const name of names(S.tokenizers.names)) {
    const t = await tokenizer(name);
    let d = '';
    for (const b of blocks) {
      const s = text(S.tokenizers.template, b);
      const enc = await t.encode(s, null, { addSpecialTokens: true });
      d += hex8(g.canon(g.record(enc, s, null)) + '\u0003' + (await t.decode(enc.getIds(), true)));
    }
    out.tokenizers[name] = d;
    console.log('sweep', name);
  }
  for (const n of S.normalizers.components) {
    const t = shell({ normalizer: n });
    let d = '';
    for (const b of blocks) d += hex8(canonNorm(await normalize(t, text(S.normalizers.template, b))));
    out.normalizers.push({ normalizer: n, digests: d });
  }
  for (const p of S.pre_tokenizers.components) {
    const t = shell({ pre_tokenizer: p });
    let d = '';
    for (const b of blocks) d += hex8(canonPre(preTokenize(t, text(S.pre_tokenizers.template, b))));
    out.pre_tokenizers.push({ pre_tokenizer: p, digests: d });
  }
  // Combining sequences: every mark (general category M per the Rust regex engine) before and after each of a set of
  // marks of different combining classes, after a base letter; and every canonical decomposition (as the Rust NFD
  // gives it, stored here since it is the input) recomposed.
  const marks = [];
  const isMark = shell({ normalizer: { type: 'Replace', pattern: { Regex: '\\p{M}' }, content: '' } }).getNormalizer();
  for (let c = 0x300; c < 0x110000; c++) if ((c < 0xD800 || c > 0xDFFF) && isMark.normalizeString(String.fromCodePoint(c)) === '') marks.push(c);
  const seqs = [];
  for (const m of marks) for (const r of S.sequences.partners) { seqs.push('a' + String.fromCodePoint(m, r)); seqs.push('a' + String.fromCodePoint(r, m)); }
  const nfd = tk.nfdNormalizer();
  const decomposed = [];
  for (const c of cps) {
    const d = nfd.normalizeString(String.fromCodePoint(c));
    if (d !== String.fromCodePoint(c) && [...d].length > 1 && (c < 0xAC00 || c > 0xD7A3 || c % 97 === 0)) decomposed.push(d);
  }
  out.marks = marks.length;
  out.decomposed = decomposed;
  const all = seqs.concat(decomposed.map((d) => d + ' ' + d + '\u0301'));
  for (const n of S.sequences.components) {
    const t = shell({ normalizer: n });
    let d = '';
    for (let i = 0; i < all.length; i += BLOCK) d += hex8(canonNorm(await normalize(t, all.slice(i, i + BLOCK).join(' '))));
    out.sequences.push({ normalizer: n, digests: d });
  }
  const file = path.join(fixtures, 'golden', 'sweeps.json.gz');
  fs.writeFileSync(file + '.tmp', zlib.gzipSync(Buffer.from(JSON.stringify(out)), { level: 9 }));
  fs.renameSync(file + '.tmp', file);
  console.log('sweeps', fs.statSync(file).size, 'bytes;', cps.length, 'code points,', marks.length, 'marks,', all.length, 'sequences');
}

// ---- t5-small's Unigram scores as the Rust library parsed them (serde_json's default float parsing) ----
async function unigramScores() {
  const text = g.readData('t5-small', 'tokenizer.json');
  const file = path.join(os.tmpdir(), 'mlt-t5-' + process.pid + '.json');
  tk.Tokenizer.fromString(text).save(file, false); // Rust writes each f64 as its shortest round-trip form
  const rust = JSON.parse(fs.readFileSync(file, 'utf8')).model.vocab.map((p) => p[1]);
  fs.unlinkSync(file);
  const exact = JSON.parse(text).model.vocab.map((p) => p[1]); // correctly rounded, as a round-trip parser reads the file
  const differ = [];
  rust.forEach((v, i) => { if (v !== exact[i]) differ.push([i, String(v)]); });
  const bits = Buffer.from(new Float64Array(rust).buffer);
  // the digest covers every score; the first differences are listed to show what the test is about
  const out = { pieces: rust.length, sha256: crypto.createHash('sha256').update(bits).digest('hex'), differCount: differ.length, differ: differ.slice(0, 64) };
  fs.writeFileSync(path.join(fixtures, 'golden', 'unigram-scores.json'), JSON.stringify(out) + '\n');
  console.log('unigram scores', rust.length, 'pieces,', differ.length, 'differ from correctly rounded');
}

main().catch((e) => { console.error(e); process.exit(1); });
