// The Transformers.js 4.3.1 feature-extraction pipeline (pooling 'mean', normalize true) on the same folder (its
// onnx/model.onnx), texts and threads as SentenceBench embed; prints the same JSON.
//   node bench_minilm_tjs.mjs --model DIR --texts FILE [--batch 32] [--count N] [--threads 2] [--probe FILE]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { pipeline, env } = await import(pathToFileURL(path.join(root, 'artifacts/oracles/node_modules/@huggingface/transformers/dist/transformers.node.mjs')).href);

const args = process.argv.slice(2);
const opt = (name, fallback) => { const i = args.indexOf('--' + name); return i >= 0 ? args[i + 1] : fallback; };
const model = path.resolve(opt('model'));
const texts = fs.readFileSync(opt('texts'), 'utf8').split('\n').filter((l) => l.length > 0);
const threads = Number(opt('threads', 2)), batch = Number(opt('batch', 32));
const count = Math.min(Number(opt('count', texts.length)), texts.length);

env.allowRemoteModels = false;
env.localModelPath = path.dirname(model) + '/';
const extract = await pipeline('feature-extraction', path.basename(model), {
  dtype: 'fp32',
  session_options: { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' },
});
const embed = async (list) => {
  const rows = [];
  for (let i = 0; i < list.length; i += batch) {
    const out = await extract(list.slice(i, i + batch), { pooling: 'mean', normalize: true });
    rows.push(...out.tolist());
  }
  return rows;
};
await embed(texts.slice(0, 64));
const run = texts.slice(0, count);
const t0 = performance.now();
const rows = await embed(run);
const ms = performance.now() - t0;
const probe = opt('probe');
if (probe) fs.writeFileSync(probe, Buffer.from(new Float32Array(rows.slice(0, 32).flat()).buffer));
console.log(JSON.stringify({ side: 'Transformers.js', batch, texts: count, ms: +ms.toFixed(1), sentences_per_s: +((count / ms) * 1000).toFixed(1) }));
