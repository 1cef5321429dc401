// Times the same ONNX file through onnxruntime-node (the engine Transformers.js runs on in Node) and, when it is
// installed, through Transformers.js' AutoModel; prints JSON.
//   node test/benchmarks/OnnxRuntime/bench_ort_node.mjs <model-folder> [--iters 20] [--warmup 5] [--threads 2]
// Both packages are installed with --ignore-scripts into artifacts/oracles (eng/install-deps.sh --oracles);
// onnxruntime-node's binding (bin/napi-v6/linux/x64/onnxruntime_binding.node) ships inside its npm package,
// so no install script is needed.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const require = createRequire(path.join(root, 'artifacts', 'oracles', 'package.json'));
const ort = require('onnxruntime-node');

const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : fallback; };
const folder = path.resolve(args[0] && !args[0].startsWith('--') ? args[0] : path.join(root, 'artifacts', 'bench', 'onnx-bert-h256-l4'));
const iters = option('--iters', 20), warmup = option('--warmup', 5), threads = option('--threads', 2), seq = option('--seq', 128);
const sessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };

const config = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8'));
const vocab = config.vocab_size ?? 1000;
const modelPath = fs.existsSync(path.join(folder, 'onnx', 'model.onnx')) ? path.join(folder, 'onnx', 'model.onnx') : path.join(folder, 'model.onnx');

const stats = (ms) => {
  const s = [...ms].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  const r = (x) => Math.round(x * 1000) / 1000;
  return { median_ms: r(median), min_ms: r(s[0]), max_ms: r(s[s.length - 1]) };
};

// Deterministic ids, full mask, segment 0: the same tensors the C# benchmark builds.
const inputs = (batch) => {
  const n = batch * seq;
  return {
    input_ids: BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 7 + 3) % vocab)),
    attention_mask: new BigInt64Array(n).fill(1n),
    token_type_ids: new BigInt64Array(n),
  };
};

async function time(run) {
  for (let i = 0; i < warmup; i++) await run();
  const ms = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    await run();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return stats(ms);
}

const session = await ort.InferenceSession.create(modelPath, sessionOptions);
const results = [];
let check = null;
for (const batch of [1, 8]) {
  const data = inputs(batch);
  const feeds = Object.fromEntries(session.inputNames.map((n) => [n, new ort.Tensor('int64', data[n], [batch, seq])]));
  if (batch === 1) check = Array.from((await session.run(feeds))[session.outputNames[0]].data.slice(0, 4));
  results.push({ batch, seq, session_run: await time(() => session.run(feeds)) });
}
await session.release();

// Transformers.js, if installed: AutoModel over the same folder (fills token_type_ids itself when the graph takes it).
let transformersJs = null;
try {
  const { AutoModel, env, Tensor } = await import(require.resolve('@huggingface/transformers'));
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(folder) + path.sep;
  const model = await AutoModel.from_pretrained(path.basename(folder), { dtype: 'fp32', device: 'cpu', session_options: sessionOptions });
  const tjsResults = [];
  for (const batch of [1, 8]) {
    const data = inputs(batch);
    const feeds = { input_ids: new Tensor('int64', data.input_ids, [batch, seq]), attention_mask: new Tensor('int64', data.attention_mask, [batch, seq]) };
    tjsResults.push({ batch, seq, model_call: await time(() => model(feeds)) });
  }
  await model.dispose();
  const pkg = path.join(root, 'artifacts', 'oracles', 'node_modules', '@huggingface', 'transformers', 'package.json');
  transformersJs = { version: JSON.parse(fs.readFileSync(pkg, 'utf8')).version, results: tjsResults };
} catch (e) {
  transformersJs = { skipped: String(e.message ?? e).split('\n')[0] };
}

console.log(JSON.stringify({
  engine: 'onnxruntime-node', ort_version: ort.env.versions.node, model: modelPath, intra_op_threads: threads,
  execution_mode: 'sequential', graph_optimization: 'all', warmup, iters, results, transformers_js: transformersJs,
  check: { output: session.outputNames[0], batch1_first4: check },
}, null, 2));
