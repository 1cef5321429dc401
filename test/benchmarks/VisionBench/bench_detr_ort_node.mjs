// DETR's ONNX export (DIR/onnx/model.onnx, written by make_detr_fixtures.py --bench) through onnxruntime-node, the engine
// Transformers.js runs on: batch 1, a square image of --size, pixel_mask ones; prints JSON (median ms).
//   node test/benchmarks/VisionBench/bench_detr_ort_node.mjs DIR [--size 800] [--threads 2] [--runs 3] [--warmup 1]
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ort = createRequire(path.join(root, 'artifacts', 'oracles', 'package.json'))('onnxruntime-node');
const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : fallback; };
const size = option('--size', 800), threads = option('--threads', 2), runs = option('--runs', 3), warmup = option('--warmup', 1);
const session = await ort.InferenceSession.create(path.join(path.resolve(args[0]), 'onnx', 'model.onnx'),
  { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
const n = size * size;
const feeds = {
  pixel_values: new ort.Tensor('float32', Float32Array.from({ length: 3 * n }, (_, i) => Math.sin(i * 0.001)), [1, 3, size, size]),
  pixel_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, size, size]),
};
const times = [];
for (let r = 0; r < warmup + runs; r++) {
  const t = performance.now();
  await session.run(feeds);
  if (r >= warmup) times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ model: 'detr-resnet-50-sized', engine: 'onnxruntime-node (Transformers.js runtime)', batch: 1, size, threads,
  median_ms: Math.round(times[Math.floor(times.length / 2)] * 10) / 10 }));
