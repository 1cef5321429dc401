// Times the same ONNX file through onnxruntime-node (the engine Transformers.js uses in Node) and prints JSON.
//   node test/benchmarks/OnnxRuntime/bench_ort_node.mjs <model-folder> [--iters 20] [--warmup 5] [--threads 2]
// onnxruntime-node@1.30.0 is installed with --ignore-scripts into artifacts/oracles (eng/install-deps.sh --oracles);
// its binding (bin/napi-v6/linux/x64/onnxruntime_binding.node) ships in the npm package, so no install script runs.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const require = createRequire(path.join(root, 'artifacts', 'oracles', 'package.json'));
const ort = require('onnxruntime-node');

const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : fallback; };
const folder = args[0] && !args[0].startsWith('--') ? args[0] : path.join(root, 'artifacts', 'bench', 'onnx-bert-h256-l4');
const iters = option('--iters', 20), warmup = option('--warmup', 5), threads = option('--threads', 2), seq = option('--seq', 128);

const config = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8'));
const vocab = config.vocab_size ?? 1000;
const modelPath = path.resolve(fs.existsSync(path.join(folder, 'onnx', 'model.onnx')) ? path.join(folder, 'onnx', 'model.onnx') : path.join(folder, 'model.onnx'));
const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});

const stats = (ms) => {
  const s = [...ms].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  const r = (x) => Math.round(x * 1000) / 1000;
  return { median_ms: r(median), min_ms: r(s[0]), max_ms: r(s[s.length - 1]) };
};

const results = [];
for (const batch of [1, 8]) {
  const n = batch * seq;
  const ids = new BigInt64Array(n).map((_, i) => BigInt((i * 7 + 3) % vocab));
  const feeds = {};
  for (const name of session.inputNames) {
    const data = name === 'input_ids' ? ids : name === 'attention_mask' ? new BigInt64Array(n).fill(1n) : new BigInt64Array(n);
    feeds[name] = new ort.Tensor('int64', data, [batch, seq]);
  }
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  results.push({ batch, seq, session_run: stats(ms) });
}

console.log(JSON.stringify({
  engine: 'onnxruntime-node', ort_version: ort.env.versions.node, model: modelPath, intra_op_threads: threads,
  execution_mode: 'sequential', graph_optimization: 'all', warmup, iters, results,
}, null, 2));
await session.release();
