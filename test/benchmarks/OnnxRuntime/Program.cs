// Times ONNX Runtime inference through Microsoft.ML.Transformers on a Hugging Face-layout ONNX folder and prints JSON.
//   dotnet run -c Release --project test/benchmarks/OnnxRuntime -- <model-folder> [--iters 20] [--warmup 5] [--threads 2]
// Session settings match bench_ort_node.mjs: intra-op threads 2, sequential execution, all graph optimizations.
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.Transformers.OnnxRuntime;

string folder = args.Length > 0 && !args[0].StartsWith("--") ? args[0] : Path.Combine("artifacts", "bench", "onnx-bert-h256-l4");
int iters = Option("--iters", 20), warmup = Option("--warmup", 5), threads = Option("--threads", 2), seq = Option("--seq", 128);

var options = new OnnxModelOptions
{
    Session = new OnnxSessionOptions
    {
        IntraOpThreads = threads,
        InterOpThreads = 1,
        ExecutionMode = ExecutionMode.Sequential,
        GraphOptimizationLevel = GraphOptimizationLevel.All,
    },
};
using OnnxModel model = OnnxModel.FromPretrained(folder, options);
int vocab = model.Config.TryGetProperty("vocab_size", out JsonElement v) ? v.GetInt32() : 1000;

var results = new List<object>();
float[]? check = null;
foreach (int batch in new[] { 1, 8 })
{
    // Deterministic ids, full mask, segment 0 — the same tensors bench_ort_node.mjs builds.
    var ids = new long[batch * seq];
    for (int i = 0; i < ids.Length; i++) ids[i] = (i * 7 + 3) % vocab;
    var mask = new long[ids.Length];
    Array.Fill(mask, 1L);
    var types = new long[ids.Length];
    var feed = model.Session.Inputs.Select(n => n.Name switch
    {
        OnnxModel.InputIds => OnnxInput.Create<long>(n.Name, ids, batch, seq),
        OnnxModel.AttentionMask => OnnxInput.Create<long>(n.Name, mask, batch, seq),
        _ => OnnxInput.Create<long>(n.Name, types, batch, seq),
    }).ToArray();

    if (batch == 1)
    {
        using OnnxRunResult first = model.Session.Run(feed);
        check = first[0].AsSpan<float>()[..Math.Min(4, (int)first[0].ElementCount)].ToArray();
    }
    // session.run: outputs stay in ONNX Runtime's memory (what a zero-copy consumer pays).
    double[] session = Time(() => { using OnnxRunResult r = model.Session.Run(feed); });
    // model.run: OnnxModel.Run, outputs copied to managed arrays (what onnxruntime-node also does).
    double[] copied = Time(() => model.Run(ids, mask, types, batch, seq));
    results.Add(new { batch, seq, session_run = Stats(session), model_run = Stats(copied) });
}

Console.WriteLine(JsonSerializer.Serialize(new
{
    engine = "Microsoft.ML.Transformers (C# over the ONNX Runtime C API)",
    ort_version = OnnxRuntimeEnvironment.Version,
    model = Path.GetFullPath(model.ModelPath),
    intra_op_threads = threads,
    execution_mode = "sequential",
    graph_optimization = "all",
    warmup,
    iters,
    results,
    check = new { output = model.Session.Outputs[0].Name, batch1_first4 = check },
}, new JsonSerializerOptions { WriteIndented = true }));

double[] Time(Action run)
{
    for (int i = 0; i < warmup; i++) run();
    var ms = new double[iters];
    for (int i = 0; i < iters; i++)
    {
        long t0 = Stopwatch.GetTimestamp();
        run();
        ms[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }
    return ms;
}

static object Stats(double[] ms)
{
    double[] s = ms.Order().ToArray();
    double median = s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    return new { median_ms = Math.Round(median, 3), min_ms = Math.Round(s[0], 3), max_ms = Math.Round(s[^1], 3) };
}

int Option(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
}
