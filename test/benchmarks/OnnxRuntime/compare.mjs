// Prints our OnnxModel.Run beside a raw InferenceSession on the same file (both from our JSON, timed in one process)
// and beside onnxruntime-node / Transformers.js, from the JSON files run.sh wrote, one line per (batch, seq).
//   node compare.mjs <dotnet.json>... -- <node.json>...
// Each side's figure is the best of its rounds' medians (rounds alternate, so both see the same machine load).
import fs from 'node:fs';

const args = process.argv.slice(2);
const split = args.indexOf('--');
const load = (files) => files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
const ours = load(args.slice(0, split)), anchor = load(args.slice(split + 1));
const best = (runs, batch, seq, key, stat = 'median_ms') =>
  Math.min(...runs.map((r) => r.results.find((x) => x.batch === batch && x.seq === seq)[key][stat]));

const tjs = anchor.filter((r) => r.transformers_js?.results).map((r) => r.transformers_js);
const rows = ours[0].results.map(({ batch, seq }) => {
  const raw = best(ours, batch, seq, 'session_run');
  const model = best(ours, batch, seq, 'model_run');
  const rawMin = best(ours, batch, seq, 'session_run', 'min_ms');
  const modelMin = best(ours, batch, seq, 'model_run', 'min_ms');
  const node = best(anchor, batch, seq, 'session_run');
  const tj = tjs.length ? best(tjs, batch, seq, 'model_call') : null;
  return { batch, seq, raw_inference_session_ms: raw, ours_onnx_model_ms: model,
           overhead_ms: Math.round((model - raw) * 1000) / 1000, overhead_pct: Math.round(((model - raw) / raw) * 1000) / 10,
           raw_min_ms: rawMin, ours_min_ms: modelMin,
           onnxruntime_node_ms: node, transformers_js_ms: tj, node_over_ours: Math.round((node / model) * 100) / 100 };
});
// All sides must have computed the same thing: ours vs the raw session over the first output of every batch,
// and the first logits of the batch-1 run vs onnxruntime-node.
const a = ours[0].check.batch1_first4, b = anchor[0].check.batch1_first4;
const maxAbsDiff = Math.max(...a.map((x, i) => Math.abs(x - b[i])));
const oursVsRaw = Math.max(...ours.map((r) => r.max_abs_diff_ours_vs_raw));
console.log(`model ${ours[0].model}; intra-op threads ${ours[0].intra_op_threads}, sequential, all optimizations; ${ours.length} alternating rounds of ${ours[0].iters} runs`);
console.log(`ONNX Runtime: ours and raw InferenceSession ${ours[0].ort_version} (NuGet), onnxruntime-node ${anchor[0].ort_version ?? '?'}`);
console.log(`outputs agree: max |ours - raw InferenceSession| = ${oursVsRaw.toExponential(2)}; max |ours - onnxruntime-node| over ${a.length} logits = ${maxAbsDiff.toExponential(2)}`);
console.log('median ms (best round); in brackets the fastest single run, steadier on a loaded machine');
console.log('batch  seq  raw InferenceSession     ours OnnxModel.Run  overhead  onnxruntime-node  Transformers.js  node/ours');
const ms = (x) => (x === null ? 'n/a' : `${x.toFixed(2)} ms`);
for (const r of rows)
  console.log(`${String(r.batch).padStart(5)}  ${String(r.seq).padStart(3)}  ${(ms(r.raw_inference_session_ms) + ` (${r.raw_min_ms.toFixed(2)})`).padStart(20)}  ${(ms(r.ours_onnx_model_ms) + ` (${r.ours_min_ms.toFixed(2)})`).padStart(20)}  ${(r.overhead_pct.toFixed(1) + '%').padStart(8)}  ${ms(r.onnxruntime_node_ms).padStart(16)}  ${ms(r.transformers_js_ms).padStart(15)}  ${r.node_over_ours.toFixed(2).padStart(8)}x`);
console.log('first output (logits) only, so no last_hidden_state to copy out:');
for (const { batch, seq } of rows) {
  const raw = best(ours, batch, seq, 'session_run_first_output'), model = best(ours, batch, seq, 'model_run_first_output');
  const rawMin = best(ours, batch, seq, 'session_run_first_output', 'min_ms');
  const modelMin = best(ours, batch, seq, 'model_run_first_output', 'min_ms');
  console.log(`${String(batch).padStart(5)}  ${String(seq).padStart(3)}  ${(ms(raw) + ` (${rawMin.toFixed(2)})`).padStart(20)}  ${(ms(model) + ` (${modelMin.toFixed(2)})`).padStart(20)}  ${(((model - raw) / raw * 100).toFixed(1) + '%').padStart(8)}`);
}
if (!tjs.length) console.log(`Transformers.js not timed: ${anchor[0].transformers_js?.skipped ?? 'not installed'}`);
console.log(JSON.stringify({ benchmark: 'onnxruntime', max_abs_diff: maxAbsDiff, max_abs_diff_ours_vs_raw: oursVsRaw, rows }));
