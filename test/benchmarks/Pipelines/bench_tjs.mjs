// The Transformers.js 4.3.1 pipeline (text-classification, or feature-extraction with mean pooling) over the same texts
// and folder as PipelineBench; prints JSON.
//   node test/benchmarks/Pipelines/bench_tjs.mjs --model DIR --sentences FILE [--task text-classification|feature-extraction]
//                                                [--batches 1,32] [--threads 2] [--rounds 5] [--warmup 1]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { pipeline, env } = await import(pathToFileURL(path.join(root, 'artifacts/oracles/node_modules/@huggingface/transformers/dist/transformers.node.mjs')).href);

const args = process.argv.slice(2);
const opt = (name, fallback) => { const i = args.indexOf('--' + name); return i >= 0 ? args[i + 1] : fallback; };
const model = path.resolve(opt('model'));
const sentences = fs.readFileSync(opt('sentences'), 'utf8').split('\n').filter((l) => l.length > 0);
const threads = Number(opt('threads', 2)), rounds = Number(opt('rounds', 5)), warmup = Number(opt('warmup', 1));
const batches = opt('batches', '1,32').split(',').map(Number);
const task = opt('task', 'text-classification');

env.allowRemoteModels = false;
env.localModelPath = path.dirname(model) + '/';
const pipe = await pipeline(task, path.basename(model), {
  dtype: 'fp32',
  session_options: { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' },
});

const out = {};
for (const batch of batches) {
  const times = [];
  let first = '';
  for (let r = 0; r < warmup + rounds; r++) {
    const t0 = performance.now();
    const results = [];
    for (let i = 0; i < sentences.length; i += batch) {
      const chunk = sentences.slice(i, i + batch);
      if (task === 'feature-extraction') {
        // truncation as ours: Transformers.js pads and truncates to model_max_length
        const o = await pipe(batch === 1 ? chunk[0] : chunk, { pooling: 'mean' });
        results.push(o.data[0].toFixed(4));
      } else {
        const o = await pipe(batch === 1 ? chunk[0] : chunk);
        results.push(o[0].label);
      }
    }
    const ms = performance.now() - t0;
    first = results[0];
    if (r >= warmup) times.push(ms);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  out[batch] = { median_ms: +median.toFixed(1), min_ms: +times[0].toFixed(1), sentences_per_s: Math.round((sentences.length / median) * 1000), first_label: first };
}
console.log(JSON.stringify(out));
