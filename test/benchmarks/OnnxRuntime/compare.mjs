// Prints our timings beside onnxruntime-node's from the JSON files run.sh wrote, one line per (batch, seq).
//   node compare.mjs <dotnet.json>... -- <node.json>...
// Each side's figure is the best of its rounds' medians (rounds alternate, so both see the same machine load).
import fs from 'node:fs';

const args = process.argv.slice(2);
const split = args.indexOf('--');
const load = (files) => files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
const ours = load(args.slice(0, split)), anchor = load(args.slice(split + 1));
const best = (runs, batch, seq, key) =>
  Math.min(...runs.map((r) => r.results.find((x) => x.batch === batch && x.seq === seq)[key].median_ms));

const tjs = anchor.filter((r) => r.transformers_js?.results).map((r) => r.transformers_js);
const rows = ours[0].results.map(({ batch, seq }) => {
  const session = best(ours, batch, seq, 'session_run');
  const copied = best(ours, batch, seq, 'model_run');
  const node = best(anchor, batch, seq, 'session_run');
  const tj = tjs.length ? best(tjs, batch, seq, 'model_call') : null;
  return { batch, seq, ours_session_run_ms: session, ours_model_run_ms: copied, onnxruntime_node_ms: node,
           transformers_js_ms: tj, node_over_ours: Math.round((node / copied) * 100) / 100 };
});
// Both sides must have computed the same thing: compare the first logits of the batch-1 run.
const a = ours[0].check.batch1_first4, b = anchor[0].check.batch1_first4;
const maxAbsDiff = Math.max(...a.map((x, i) => Math.abs(x - b[i])));
console.log(`model ${ours[0].model}; ONNX Runtime ${ours[0].ort_version} both sides; intra-op threads ${ours[0].intra_op_threads}, sequential, all optimizations; ${ours.length} alternating rounds of ${ours[0].iters} runs`);
console.log(`outputs agree: max |ours - onnxruntime-node| over ${a.length} logits = ${maxAbsDiff.toExponential(2)}`);
console.log('batch  seq   ours Session.Run  ours OnnxModel.Run  onnxruntime-node  Transformers.js  node/ours(OnnxModel.Run)');
const ms = (x) => (x === null ? 'n/a' : `${x.toFixed(2)} ms`);
for (const r of rows)
  console.log(`${String(r.batch).padStart(5)}  ${String(r.seq).padStart(3)}  ${ms(r.ours_session_run_ms).padStart(17)}  ${ms(r.ours_model_run_ms).padStart(18)}  ${ms(r.onnxruntime_node_ms).padStart(16)}  ${ms(r.transformers_js_ms).padStart(15)}  ${r.node_over_ours.toFixed(2).padStart(8)}x`);
if (!tjs.length) console.log(`Transformers.js not timed: ${anchor[0].transformers_js?.skipped ?? 'not installed'}`);
console.log(JSON.stringify({ benchmark: 'onnxruntime', max_abs_diff: maxAbsDiff, rows }));
