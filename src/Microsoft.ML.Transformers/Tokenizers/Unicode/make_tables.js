// Writes unicode-tables.json.gz: the Unicode character data Hugging Face's Rust `tokenizers` 0.23.2 uses, read back
// from the library itself (npm tokenizers@0.23.2 in artifacts/oracles) by running its components on every code point.
//   node src/Microsoft.ML.Transformers/Tokenizers/Unicode/make_tables.js
// Rust's tokenizers mixes several Unicode versions: Rust's std (to_lowercase, is_numeric), the unicode_categories crate
// (is_punctuation, is_other, is_mark_nonspacing), unicode-normalization-alignments (NFC/NFD/NFKC/NFKD, is_combining_mark)
// and Oniguruma (regex classes). .NET's own tables follow yet another version, so the tokenizers use these instead.
// Tables (code points are scalar values; ranges are inclusive [first, last] pairs, flattened):
//   lower      Rust's char::to_lowercase where it changes the character: [cp, n, c1..cn]...
//   sets       predicates as ranges: punct, numeric, bertRemove (BertNormalizer clean_text drops it), combining
//              (StripAccents), nonspacing (BertNormalizer strip_accents), regexWord / regexSpace / regexDigit (Oniguruma's
//              \w \s \d), rustWord (the regex crate's \w: the Whitespace pre-tokenizer, single_word added tokens)
//   category   Oniguruma's general category: [first, categoryIndex]... over the whole range (names in categoryNames)
//   ccc        canonical combining class as a rank (only the order matters to normalization): [cp, rank]...
//   canonical  full canonical decompositions (Hangul syllables excluded: algorithmic): [cp, n, d1..dn]...
//   compat     full compatibility decompositions where they differ from the canonical one: [cp, n, d1..dn]...
//   compose    primary compositions: [first, second, composite]...
// The script checks the tables by normalizing every code point and the combining sequences of the test sweeps with
// a JavaScript model of the same algorithm and comparing with the Rust library's output.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const repo = path.resolve(__dirname, '../../../..');
const tk = require(path.join(repo, 'artifacts/oracles/node_modules/tokenizers'));

const ALL = [];
for (let c = 0; c <= 0x10FFFF; c++) if (c < 0xD800 || c > 0xDFFF) ALL.push(c);
const str = (c) => String.fromCodePoint(c);
const cps = (s) => [...s].map((ch) => ch.codePointAt(0));
function component(key, json) {
  const t = tk.Tokenizer.fromString(JSON.stringify({ version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: null, post_processor: null, decoder: null, [key]: json,
    model: { type: 'WordLevel', vocab: { a: 0 }, unk_token: 'a' } }));
  return key === 'normalizer' ? t.getNormalizer() : t.getPreTokenizer();
}
function ranges(pred) {
  const r = [];
  let start = -1, prev = -2;
  for (const c of ALL) {
    if (!pred(c)) continue;
    if (start >= 0 && c === prev + 1) { prev = c; continue; }
    if (start >= 0) r.push(start, prev);
    start = prev = c;
  }
  if (start >= 0) r.push(start, prev);
  return r;
}
const regexMatches = (re) => { const n = component('normalizer', { type: 'Replace', pattern: { Regex: re }, content: '' }); return (c) => n.normalizeString(str(c)) === ''; };

const out = { source: 'Hugging Face tokenizers 0.23.2 (npm), probed by make_tables.js' };

// ---- lowercase (Rust std) ----
const lower = tk.lowercase();
out.lower = [];
for (const c of ALL) { const l = lower.normalizeString(str(c)); if (l !== str(c)) out.lower.push(c, cps(l).length, ...cps(l)); }

// ---- predicates ----
const punct = tk.punctuationPreTokenizer('removed');
const whitespace = tk.whitespacePreTokenizer();
const digits = tk.digitsPreTokenizer(false);
const bertClean = tk.bertNormalizer({ cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false });
const bertStrip = tk.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: true, lowercase: false });
const stripAccents = tk.stripAccentsNormalizer();
const nfd = tk.nfdNormalizer(), nfkd = tk.nfkdNormalizer(), nfc = tk.nfcNormalizer(), nfkc = tk.nfkcNormalizer();
out.sets = {
  punct: ranges((c) => punct.preTokenizeString(str(c)).length === 0),
  numeric: ranges((c) => digits.preTokenizeString('a' + str(c) + 'a').length === 3),
  bertRemove: ranges((c) => bertClean.normalizeString(str(c)) === ''),
  combining: ranges((c) => stripAccents.normalizeString(str(c)) === ''),
  // BertNormalizer strips after NFD: a character that NFD leaves alone and that is dropped is a nonspacing mark
  nonspacing: ranges((c) => nfd.normalizeString(str(c)) === str(c) && bertStrip.normalizeString(str(c)) === ''),
  regexWord: ranges(regexMatches('\\w')),
  regexSpace: ranges(regexMatches('\\s')),
  regexDigit: ranges(regexMatches('\\d')),
  // the Whitespace pre-tokenizer and added tokens' single_word use the regex crate's \w, not Oniguruma's
  rustWord: ranges((c) => whitespace.preTokenizeString('a' + str(c) + 'a').length === 1),
};
// The BertNormalizer maps every other character to itself or (whitespace) to ' ': check that nothing else happens.
for (const c of ALL) {
  const r = bertClean.normalizeString(str(c));
  if (r !== '' && r !== ' ' && r !== str(c)) throw new Error('BertNormalizer clean_text maps U+' + c.toString(16) + ' to ' + JSON.stringify(r));
}

// ---- Oniguruma general categories ----
const CATS = ['Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'Mn', 'Mc', 'Me', 'Nd', 'Nl', 'No', 'Pc', 'Pd', 'Ps', 'Pe', 'Pi', 'Pf', 'Po', 'Sm', 'Sc', 'Sk', 'So',
  'Zs', 'Zl', 'Zp', 'Cc', 'Cf', 'Co', 'Cn'];
out.categoryNames = CATS;
const catOf = new Uint8Array(0x110000).fill(255);
for (let k = 0; k < CATS.length; k++) {
  const m = regexMatches('\\p{' + CATS[k] + '}');
  for (const c of ALL) if (m(c)) { if (catOf[c] !== 255) throw new Error('two categories for U+' + c.toString(16)); catOf[c] = k; }
}
out.category = [];
let last = -1;
for (const c of ALL) {
  if (catOf[c] === 255) throw new Error('no category for U+' + c.toString(16));
  if (catOf[c] !== last) { out.category.push(c, catOf[c]); last = catOf[c]; }
}

// ---- normalization (unicode-normalization-alignments) ----
const isHangul = (c) => c >= 0xAC00 && c <= 0xD7A3;
const canonical = new Map(), compat = new Map();
for (const c of ALL) {
  if (isHangul(c)) continue;
  const d = nfd.normalizeString(str(c)), k = nfkd.normalizeString(str(c));
  if (d !== str(c)) canonical.set(c, cps(d));
  if (k !== d) compat.set(c, cps(k));
}
// Combining classes: x has a non-zero class when NFD moves it around U+0345 (class 240) or U+0334 (class 1); the
// classes are then ordered by sorting with NFD itself (x after y <=> class(x) > class(y)).
const swaps = (x, y) => nfd.normalizeString('a' + str(x) + str(y)) === 'a' + str(y) + str(x);
const marks = ALL.filter((c) => !canonical.has(c) && c !== 0x345 && c !== 0x334 && (swaps(0x345, c) || swaps(c, 0x334)));
marks.push(0x345, 0x334);
marks.sort((x, y) => (swaps(x, y) ? 1 : swaps(y, x) ? -1 : 0));
const rank = new Map();
let r = 0;
for (let i = 0; i < marks.length; i++) {
  if (i === 0 || swaps(marks[i], marks[i - 1])) r++;
  else if (swaps(marks[i - 1], marks[i])) throw new Error('combining classes do not sort');
  rank.set(marks[i], r);
}
out.ccc = [];
for (const c of [...rank.keys()].sort((a, b) => a - b)) out.ccc.push(c, rank.get(c));
out.canonical = [];
for (const [c, d] of canonical) out.canonical.push(c, d.length, ...d);
out.compat = [];
for (const [c, d] of compat) out.compat.push(c, d.length, ...d);
// Primary composites: a canonical decomposition that NFC puts back. Its pair is (NFC of all but the last character, last).
const compose = new Map();
out.compose = [];
for (const [c, d] of canonical) {
  if (nfc.normalizeString(str(c)) !== str(c) || d.length < 2) continue;
  const first = cps(nfc.normalizeString(String.fromCodePoint(...d.slice(0, -1))));
  if (first.length !== 1) throw new Error('composite U+' + c.toString(16) + ' does not split into two characters');
  const key = first[0] * 0x110000 + d[d.length - 1];
  if (compose.has(key)) throw new Error('two composites for one pair');
  compose.set(key, c);
  out.compose.push(first[0], d[d.length - 1], c);
}

// ---- check: a model of the algorithm over these tables against the Rust library ----
const ccc = (c) => rank.get(c) || 0;
const SB = 0xAC00, LB = 0x1100, VB = 0x1161, TB = 0x11A7, LC = 19, VC = 21, TC = 28, NC = VC * TC, SC = LC * NC;
function decompose(s, kind) {
  const res = [];
  let ready = 0;
  const push = (d) => { if (ccc(d) === 0) { sortPending(); } res.push(d); };
  const sortPending = () => { const tail = res.slice(ready).map((d, i) => [d, i]).sort((a, b) => ccc(a[0]) - ccc(b[0]) || a[1] - b[1]); for (let i = 0; i < tail.length; i++) res[ready + i] = tail[i][0]; ready = res.length; };
  for (const c of cps(s)) {
    if (isHangul(c)) { const i = c - SB; push(LB + Math.floor(i / NC)); push(VB + Math.floor((i % NC) / TC)); if (i % TC) push(TB + (i % TC)); continue; }
    const d = (kind === 'k' && compat.get(c)) || canonical.get(c) || [c];
    for (const x of d) push(x);
  }
  sortPending();
  return res;
}
function composeHangul(a, b) {
  if (a >= LB && a < LB + LC && b >= VB && b < VB + VC) return SB + ((a - LB) * VC + (b - VB)) * TC;
  if (a >= SB && a < SB + SC && (a - SB) % TC === 0 && b > TB && b < TB + TC) return a + (b - TB);
  return compose.get(a * 0x110000 + b);
}
// unicode-normalization's Recompositions, step by step
function composeAll(ds) {
  const res = [];
  let composee = null, lastCcc = null, buffer = [];
  for (const ch of ds) {
    const cls = ccc(ch);
    if (composee === null) { if (cls !== 0) res.push(ch); else composee = ch; continue; }
    if (lastCcc === null) {
      const r = composeHangul(composee, ch);
      if (r !== undefined) { composee = r; continue; }
      if (cls === 0) { res.push(composee); composee = ch; continue; }
      buffer.push(ch); lastCcc = cls;
      continue;
    }
    if (lastCcc >= cls) {
      if (cls === 0) { res.push(composee, ...buffer); buffer = []; composee = ch; lastCcc = null; continue; }
      buffer.push(ch); lastCcc = cls;
      continue;
    }
    const r = composeHangul(composee, ch);
    if (r !== undefined) { composee = r; continue; }
    buffer.push(ch); lastCcc = cls;
  }
  if (composee !== null) res.push(composee);
  res.push(...buffer);
  return res;
}
const model = { nfd: (s) => decompose(s, 'c'), nfkd: (s) => decompose(s, 'k'), nfc: (s) => composeAll(decompose(s, 'c')), nfkc: (s) => composeAll(decompose(s, 'k')) };
const rust = { nfd, nfkd, nfc, nfkc };
const inputs = ALL.map(str);
for (const m of marks) for (const p of [769, 790, 820, 837, 795, 808, 824, 1456, 1611, 3640, 12441, 119141, 789, 860]) inputs.push('a' + str(m) + str(p), 'a' + str(p) + str(m));
for (const d of canonical.values()) inputs.push(String.fromCodePoint(...d), String.fromCodePoint(...d) + '\u0301');
let bad = 0;
for (const s of inputs) {
  for (const f of Object.keys(model)) {
    const want = rust[f].normalizeString(s), got = String.fromCodePoint(...model[f](s));
    if (want !== got && bad++ < 10) console.error('model differs', f, JSON.stringify(s), JSON.stringify(got), JSON.stringify(want));
  }
}
if (bad) throw new Error(bad + ' normalization differences');

const file = path.join(__dirname, 'unicode-tables.json.gz');
fs.writeFileSync(file + '.tmp', zlib.gzipSync(Buffer.from(JSON.stringify(out)), { level: 9 }));
fs.renameSync(file + '.tmp', file);
console.log('unicode tables:', fs.statSync(file).size, 'bytes;', out.lower.length, 'lower ints,', marks.length, 'marks in', r, 'classes,',
  canonical.size, 'canonical,', compat.size, 'compat,', out.compose.length / 3, 'compositions,', inputs.length, 'strings checked');
