// Deterministic multilingual test corpus for tokenizer parity (seeded; no external data).
// Used by make_goldens.js; the generated corpus is written into the fixtures beside the goldens.
'use strict';

function mulberry32(seed) {
  return function () {
    seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  'The quick brown fox jumps over the lazy dog.',
  "Don't stop believing; it's what we'd've done, isn't it?",
  'Tokenization is the first step of nearly every NLP pipeline.',
  'In 1969, Apollo 11 landed on the Moon at 20:17 UTC.',
  'Prices rose 3.5% to $1,299.99 (excl. VAT) on 2024-03-15.',
  'Email me at john.doe@example.com or visit https://example.org/path?q=1&x=2.',
  'HELLO World!!! ThIs Is MiXeD CaSe.',
  'Le cœur a ses raisons que la raison ne connaît point.',
  "L'été dernier, nous sommes allés à la plage près de Nice.",
  'Über den Wolken muss die Freiheit wohl grenzenlos sein; Straße, Größe, Fußgänger.',
  'El niño comió paella en España; ¿cuántos años tienes? ¡Olé!',
  'A ação da população foi não só rápida mas também eficaz.',
  'Zażółć gęślą jaźń. Łódź jest pięknym miastem.',
  'Příliš žluťoučký kůň úpěl ďábelské ódy.',
  'Съешь же ещё этих мягких французских булок, да выпей чаю.',
  'Москва — столица России; население более 12 миллионов человек.',
  'Всичко хубаво има край.',
  'Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.',
  'Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.',
  'Pijamalı hasta yağız şoföre çabucak güvendi.',
  'Tiếng Việt có nhiều dấu thanh: à á ả ã ạ.',
  'العربية لغة جميلة، وهي من أقدم اللغات السامية.',
  'مرحبا بالعالم! كيف حالك اليوم؟',
  'עברית היא שפה שמית; שלום עולם.',
  'हिन्दी भारत की एक प्रमुख भाषा है।',
  'नमस्ते दुनिया, आप कैसे हैं?',
  'ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ',
  'বাংলা ভাষা অত্যন্ত সমৃদ্ধ।',
  'தமிழ் மிகவும் பழமையான மொழி.',
  'ქართული ენა ძალიან ლამაზია.',
  'Հայերենը հնդեվրոպական լեզու է։',
  '我们今天去公园散步，天气非常好。',
  '自然语言处理是人工智能的一个重要分支。',
  '東京は日本の首都です。ひらがなとカタカナと漢字。',
  'すもももももももものうち。',
  'カタカナ：コンピューター、インターネット。',
  '한국어는 한글로 씁니다. 안녕하세요, 세계!',
  '서울특별시는 대한민국의 수도입니다.',
  'Esperanto: Ĉiuĵaŭde ŝi manĝas freŝan ĉokoladon.',
  'Íslenska: Þetta er ótrúlega fallegt land.',
  'Dansk: Æblegrød og rødgrød med fløde.',
  'Suomi: Hyvää huomenta, mitä kuuluu?',
  'Magyar: Árvíztűrő tükörfúrógép.',
  'Română: Înțelepciunea și știința.',
  'def foo(x): return x**2 + 3*x - 1  # comment',
  'for (int i = 0; i < n; ++i) { sum += a[i]; }',
  '<html><body class="main">Hi &amp; bye</body></html>',
  '{"key": [1, 2, 3], "nested": {"a": null}}',
  'C:\\Users\\Public\\Documents\\file_name-v2.final.txt',
  '3.14159265358979323846264338327950288419716939937510',
  '1st 2nd 3rd 4th 100km 42kg 3x4 0xFF 1e-9 -17 +8',
  '...!!!???---___***~~~```\'\'\'""" ;;; :::',
  '(parenthetical) [bracketed] {braced} <angled> «guillemets» „Anführung" “curly” ‘single’',
  'Unicode math: ∀x∈ℝ, ∃y: x² + y² ≤ 1 → ∑ᵢ aᵢ ≠ ∞ ± √2 ≈ 1.41',
  'Full-width: ＡＢＣ１２３！ and half-width ｶﾀｶﾅ.',
  'Ligatures ﬁ ﬂ ﬀ and compatibility ① ② ㍻ ™ ℃ ½.',
  'Roman numerals Ⅻ Ⅳ and superscripts x¹ x² x³.',
  'Ṫḧïṡ ṫëẍṫ ḧäṡ ṁäṅÿ äċċëṅṫṡ.',
  'naïve café résumé coöperate façade jalapeño',
  'Ångström Øresund Œuvre Æsir ß ẞ ı İ ǅ ǈ',
];

const EMOJI = ['😀', '🎉', '👍🏽', '❤️', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇫🇷', '🇯🇵', '🧑🏿‍💻', '👩‍❤️‍💋‍👨', '✌🏻', '🤖', '🐍', '☕', '1️⃣', '#️⃣', '🫠', '🦀'];
const SPACES = [' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', ' \t \n ', '\u00a0', '\u3000', '\u2003', '\u2009', '\u202f', '\u205f', '\u1680', '\u0085', '\u2028', '\u000b', '\u000c'];
const CONTROLS = ['\u0000', '\u0001', '\u0007', '\u001b', '\u007f', '\u200b', '\u200c', '\u200d', '\u200e', '\ufeff', '\u00ad', '\u2060', '\ufffd', '\u0300', '\u034f', '\ue000', '\uffff'];
const COMBINING = ['\u0301', '\u0300', '\u0308', '\u0327', '\u0303', '\u030a', '\u0323', '\u0331', '\u20dd', '\u0489'];
const SPECIALS = ['[CLS]', '[SEP]', '[MASK]', '[PAD]', '[UNK]', '<s>', '</s>', '<pad>', '<unk>', '<mask>', '<|endoftext|>', '<|startoftext|>', '<extra_id_0>', '<extra_id_99>', ' [SEP] ', ' <mask> ', '</s><s>'];
const SYLLABLES = ['ka', 'lo', 'mer', 'tri', 'xen', 'qua', 'zor', 'phi', 'ung', 'ste', 'ba', 'ri', 'ön', 'çe'];

function makeCorpus(count, seed) {
  const rnd = mulberry32(seed);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));

  function longWord() {
    const kind = int(0, 3);
    if (kind === 0) return 'a'.repeat(int(90, 220));
    if (kind === 1) { let w = ''; const n = int(20, 60); for (let i = 0; i < n; i++) w += pick(SYLLABLES); return w; }
    if (kind === 2) return 'Pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(int(1, 4));
    return '漢'.repeat(int(30, 120));
  }

  function mutate(s) {
    const ops = int(0, 4);
    for (let k = 0; k < ops; k++) {
      const op = int(0, 11);
      const pos = int(0, s.length);
      // never split a surrogate pair when inserting
      const at = (pos > 0 && pos < s.length && /[\udc00-\udfff]/.test(s[pos])) ? pos - 1 : pos;
      let ins = '';
      switch (op) {
        case 0: case 1: ins = pick(EMOJI); break;
        case 2: ins = pick(SPACES); break;
        case 3: ins = pick(CONTROLS); break;
        case 4: ins = pick(COMBINING); break;
        case 5: ins = pick(SPECIALS); break;
        case 6: ins = ' ' + longWord() + ' '; break;
        case 7: ins = String(int(0, 1e6)); break;
        case 8: s = s.toUpperCase(); continue;
        case 9: s = s.normalize('NFD'); continue;
        case 10: ins = pick(SPACES).repeat(int(2, 6)); break;
        case 11: ins = pick(EMOJI) + pick(EMOJI) + pick(EMOJI); break;
      }
      s = s.slice(0, at) + ins + s.slice(at);
    }
    return s;
  }

  function text() {
    const r = rnd();
    if (r < 0.02) return '';
    if (r < 0.04) return pick(SPACES).repeat(int(1, 4));
    if (r < 0.05) return pick(SPECIALS);
    if (r < 0.07) return longWord();
    let n = int(1, 3);
    if (r > 0.97) n = int(15, 40); // long documents (exercise truncation / overflow)
    const parts = [];
    for (let i = 0; i < n; i++) parts.push(pick(FRAGMENTS));
    let s = parts.join(pick([' ', ' ', ' ', '\n', '  ', '']));
    if (rnd() < 0.7) s = mutate(s);
    return s;
  }

  const out = [];
  for (let i = 0; i < count; i++) {
    const item = { text: text() };
    if (rnd() < 0.3) item.pair = text();
    out.push(item);
  }
  return out;
}

module.exports = { makeCorpus, mulberry32 };
