// Times ONNX Runtime's SGEMM (MLAS, through onnxruntime-node) on the GEMM shapes of BERT-base at batch 1, seq 128
// (make_gemm_models.py), at 1 and 2 intra-op threads, and prints GFLOP/s and what they imply: the least time the
// GEMMs of a BERT-base forward (12 layers, 21.7 GFLOP of 22.3) can take at that rate.
//   node test/benchmarks/OnnxRuntime/sgemm_ceiling.mjs GEMM_DIR [--iters 20]
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ort = createRequire(path.join(root, 'artifacts', 'oracles', 'package.json'))('onnxruntime-node');
const [dir] = process.argv.slice(2);
const i = process.argv.indexOf('--iters');
const iters = i >= 0 ? Number(process.argv[i + 1]) : 20;
const shapes = [[128, 768, 2304], [128, 768, 768], [128, 768, 3072], [128, 3072, 768]];
const repeat = 12;
const perLayer = shapes.reduce((s, [m, k, n]) => s + 2 * m * k * n, 0); // one of each per layer
console.log(`ONNX Runtime ${ort.env.versions.node} SGEMM, ${repeat} MatMuls per run, median of ${iters} runs`);
for (const threads of [1, 2]) {
  let seconds = 0;
  const cells = [];
  for (const [m, k, n] of shapes) {
    const session = await ort.InferenceSession.create(path.join(dir, `mm_${m}_${k}_${n}.onnx`),
      { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    const feeds = { A: new ort.Tensor('float32', Float32Array.from({ length: m * k }, (_, j) => ((j * 7919) % 1000) / 1000 - 0.5), [m, k]) };
    for (let w = 0; w < 3; w++) await session.run(feeds);
    const ms = [];
    for (let r = 0; r < iters; r++) { const t0 = performance.now(); await session.run(feeds); ms.push(performance.now() - t0); }
    await session.release();
    ms.sort((a, b) => a - b);
    const median = ms[ms.length >> 1] / repeat;
    seconds += median / 1000;
    cells.push(`[${m},${k}]x[${k},${n}] ${(2 * m * k * n / (median / 1000) / 1e9).toFixed(0)} GFLOP/s`);
  }
  const rate = perLayer / seconds / 1e9;
  console.log(`${threads} thread(s): ${cells.join(', ')}; one layer's GEMMs ${(seconds * 1000).toFixed(2)} ms (${rate.toFixed(0)} GFLOP/s) -> BERT-base b1 GEMMs >= ${(seconds * 12 * 1000).toFixed(1)} ms`);
}
