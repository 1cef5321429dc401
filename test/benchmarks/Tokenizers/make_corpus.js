// Benchmark corpus: a few MB of real multilingual text from Debian's fortunes-* packages (apt-get install fortunes
// fortunes-de fortunes-fr fortunes-ru fortunes-es fortunes-it fortunes-zh fortunes-pl fortunes-cs fortunes-bg fortunes-br).
// Writes one JSON array of strings; the .NET and the Rust (node) benchmarks read the same file.
'use strict';
const fs = require('fs');
const path = require('path');
const [out, maxMb = '4'] = process.argv.slice(2);
const roots = ['/usr/share/games/fortunes'];
const files = [];
function walk(d) {
  for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (!/\.(dat|u8)$/.test(e.name) && !e.isSymbolicLink()) files.push(fs.existsSync(p + '.u8') ? p + '.u8' : p);
  }
}
for (const r of roots) if (fs.existsSync(r)) walk(r);
const decoder = new TextDecoder('utf-8', { fatal: true });
const texts = [];
let bytes = 0;
const limit = Number(maxMb) * 1024 * 1024;
// round-robin over files so every language is represented
const perFile = files.map((f) => {
  let s;
  const buf = fs.readFileSync(f);
  try { s = decoder.decode(buf); } catch { s = new TextDecoder('latin1').decode(buf); }
  return s.split(/\n%\n/).map((x) => x.trim()).filter((x) => x.length > 0);
});
for (let i = 0; bytes < limit; i++) {
  let any = false;
  for (const list of perFile) {
    if (i < list.length) { texts.push(list[i]); bytes += Buffer.byteLength(list[i]); any = true; if (bytes >= limit) break; }
  }
  if (!any) break;
}
if (texts.length === 0) { console.error('no fortunes found: apt-get install fortunes fortunes-de ...'); process.exit(1); }
fs.writeFileSync(out, JSON.stringify(texts));
console.error(`corpus: ${texts.length} texts, ${(bytes / 1048576).toFixed(2)} MB UTF-8 from ${files.length} files`);
