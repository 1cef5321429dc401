// Times eval forward passes of a checkpoint folder through our libtorch path, printing one JSON object
// {"batch": median_ms, ...}. The anchors (PyTorch eager from Python, ONNX Runtime, Transformers.js) are timed by
// test/benchmarks/run.sh in the same run.
//   ModelBench --model DIR [--engine libtorch|onnx|torchsharp-direct] [--threads 2] [--batches 1,8] [--seq 128] [--runs 10] [--warmup 3]
// --engine onnx runs DIR/onnx/model.onnx through our OnnxModel (intra-op threads = --threads, sequential,
// all graph optimizations: the settings Transformers.js uses on onnxruntime-node).
// --engine torchsharp-direct is the anchor for our libtorch path: the same weights run by a plain BERT written
// directly on TorchSharp (DirectBert.cs: separate q/k/v linears, matmul-softmax attention), no library in between.
// --export OUT [--fuse] [--quantize] writes DIR's model with our ONNX exporter (model.ExportOnnx) to OUT and exits;
// --engine onnx --quantized then times OUT/onnx/model_quantized.onnx.
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;

var opts = new Dictionary<string, string>();
for (int i = 0; i < args.Length; i++)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal)) continue;
    opts[args[i][2..]] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
}
string model = opts.GetValueOrDefault("model") ?? throw new ArgumentException("--model DIR is required");
int threads = int.Parse(opts.GetValueOrDefault("threads", "2"), CultureInfo.InvariantCulture);
int seq = int.Parse(opts.GetValueOrDefault("seq", "128"), CultureInfo.InvariantCulture);
int runs = int.Parse(opts.GetValueOrDefault("runs", "10"), CultureInfo.InvariantCulture);
int warmup = int.Parse(opts.GetValueOrDefault("warmup", "3"), CultureInfo.InvariantCulture);
var batches = opts.GetValueOrDefault("batches", "1,8").Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToArray();
string engine = opts.GetValueOrDefault("engine", "libtorch");
if (opts.TryGetValue("export", out var exportDir))
{
    using var source = AutoModel.FromPretrained(model);
    var sw = Stopwatch.StartNew();
    var written = Microsoft.ML.Transformers.Onnx.OnnxExport.ExportOnnx(source, exportDir, new Microsoft.ML.Transformers.Onnx.OnnxExportOptions
    {
        Fuse = opts.ContainsKey("fuse"),
        Quantize = opts.ContainsKey("quantize"),
    });
    long Size(string? f) => f is null ? 0 : new FileInfo(f).Length + (File.Exists(f + "_data") ? new FileInfo(f + "_data").Length : 0);
    Console.WriteLine($"{{\"export_s\": {sw.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)}, \"model_bytes\": {Size(written.ModelPath)}, \"quantized_bytes\": {Size(written.QuantizedModelPath)}}}");
    return;
}
bool onnx = engine == "onnx";
if (!onnx) Microsoft.ML.Transformers.Engines.TorchThreads.SetIntraOpThreads(threads); // the ONNX path never loads libtorch
using IInferenceModel m = engine == "torchsharp-direct" ? new DirectBert(model) : InferenceModel.Load(model, ModelHead.Base, new InferenceModelOptions
{
    Engine = onnx ? Engine.OnnxRuntime : Engine.LibTorch,
    Onnx = new OnnxModelOptions { Quantized = opts.ContainsKey("quantized"), Session = new OnnxSessionOptions { IntraOpThreads = threads } },
});
var vocab = m.Config.GetOrDefault("vocab_size", 30522);
var results = new List<string>();
foreach (var batch in batches)
{
    var rng = new Random(batch * 1000 + seq);
    var ids = new long[batch * seq];
    for (int i = 0; i < ids.Length; i++) ids[i] = rng.Next(5, vocab);
    var mask = Enumerable.Repeat(1L, ids.Length).ToArray();
    var types = new long[ids.Length];
    var inputs = new InferenceBatch(ids, mask, types, batch, seq);
    var times = new List<double>();
    for (int r = 0; r < warmup + runs; r++)
    {
        var sw = Stopwatch.StartNew();
        var o = m.Run(inputs);
        _ = o["last_hidden_state"].Shape;
        sw.Stop();
        if (r >= warmup) times.Add(sw.Elapsed.TotalMilliseconds);
    }
    times.Sort();
    results.Add($"\"{batch}\": {times[times.Count / 2].ToString("F2", CultureInfo.InvariantCulture)}");
}
if (!onnx) Console.Error.WriteLine($"libtorch threads: {TorchSharp.torch.get_num_threads()}, OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY")}");
Console.WriteLine("{" + string.Join(", ", results) + "}");

