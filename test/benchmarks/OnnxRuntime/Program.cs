// Times ONNX Runtime inference on a Hugging Face-layout ONNX folder, in one process, two ways, and prints JSON:
//   session_run: a raw Microsoft.ML.OnnxRuntime InferenceSession on the same file with the same settings, input OrtValues
//                made once and reused, outputs left in ONNX Runtime's memory (the floor a hand-written caller can reach);
//   model_run:   our OnnxModel.Run (wraps the caller's long[] buffers, runs, copies outputs into NamedTensors);
//   *_first_output: both again asking for the first output (logits) only.
//   dotnet run -c Release --project test/benchmarks/OnnxRuntime -- <model-folder> [--iters 20] [--warmup 5] [--threads 2]
// Session settings match bench_ort_node.mjs: intra-op threads 2, sequential execution, all graph optimizations.
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Transformers.OnnxRuntime;

string folder = args.Length > 0 && !args[0].StartsWith("--") ? args[0] : Path.Combine("artifacts", "bench", "onnx-bert-h256-l4");
int iters = Option("--iters", 20), warmup = Option("--warmup", 5), threads = Option("--threads", 2), seq = Option("--seq", 128);

using OnnxModel model = OnnxModel.FromPretrained(folder, new OnnxModelOptions
{
    Session = new OnnxSessionOptions
    {
        IntraOpThreads = threads,
        InterOpThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    },
});
// The anchor: ONNX Runtime's own API as an application would write it, on the file OnnxModel loaded.
using var rawOptions = new SessionOptions
{
    IntraOpNumThreads = threads,
    InterOpNumThreads = 1,
    ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
};
using var raw = new InferenceSession(model.ModelPath, rawOptions);
using var runOptions = new RunOptions();
int vocab = model.Config.TryGetProperty("vocab_size", out JsonElement v) ? v.GetInt32() : 1000;
string firstOutput = raw.OutputNames[0];

var results = new List<object>();
float[]? check = null;
double maxOursVsRaw = 0;
foreach (int batch in new[] { 1, 8 })
{
    // Deterministic ids, full mask, segment 0 — the same tensors bench_ort_node.mjs builds.
    var ids = new long[batch * seq];
    for (int i = 0; i < ids.Length; i++) ids[i] = (i * 7 + 3) % vocab;
    var mask = new long[ids.Length];
    Array.Fill(mask, 1L);
    var types = new long[ids.Length];
    long[] shape = [batch, seq];
    var feed = raw.InputNames.Select(n => OrtValue.CreateTensorValueFromMemory(
        n == OnnxModel.InputIds ? ids : n == OnnxModel.AttentionMask ? mask : types, shape)).ToList();
    try
    {
        float[] rawValues, oursValues;
        using (var first = raw.Run(runOptions, raw.InputNames, feed, raw.OutputNames))
            rawValues = first.First().GetTensorDataAsSpan<float>().ToArray();
        oursValues = model.Run(ids, mask, types, batch, seq)[firstOutput].GetData<float>();
        maxOursVsRaw = Math.Max(maxOursVsRaw, rawValues.Zip(oursValues, (a, b) => Math.Abs(a - b)).Max());
        if (batch == 1) check = oursValues[..Math.Min(4, oursValues.Length)];

        (double[] session, double[] ours) = TimeAlternating(
            () => { using var r = raw.Run(runOptions, raw.InputNames, feed, raw.OutputNames); },
            () => model.Run(ids, mask, types, batch, seq));
        // The same with the first output only (the logits): what is left of the difference without copying the
        // [batch, seq, hidden] last_hidden_state into managed memory.
        string[] firstOnly = [firstOutput];
        (double[] sessionFirst, double[] oursFirst) = TimeAlternating(
            () => { using var r = raw.Run(runOptions, raw.InputNames, feed, firstOnly); },
            () => model.Run(ids, mask, types, batch, seq, firstOnly));
        results.Add(new
        {
            batch, seq, session_run = Stats(session), model_run = Stats(ours),
            session_run_first_output = Stats(sessionFirst), model_run_first_output = Stats(oursFirst),
        });
    }
    finally { foreach (OrtValue x in feed) x.Dispose(); }
}

Console.WriteLine(JsonSerializer.Serialize(new
{
    engine = "Microsoft.ML.Transformers OnnxModel over Microsoft.ML.OnnxRuntime (managed API)",
    ort_version = OrtEnv.Instance().GetVersionString(),
    model = Path.GetFullPath(model.ModelPath),
    intra_op_threads = threads,
    execution_mode = "sequential",
    graph_optimization = "all",
    warmup,
    iters,
    results,
    max_abs_diff_ours_vs_raw = maxOursVsRaw,
    check = new { output = firstOutput, batch1_first4 = check },
}, new JsonSerializerOptions { WriteIndented = true }));

// Iterations of the two alternate, so both see the same load on a shared machine.
(double[], double[]) TimeAlternating(Action a, Action b)
{
    for (int i = 0; i < warmup; i++) { a(); b(); }
    var msA = new double[iters];
    var msB = new double[iters];
    for (int i = 0; i < iters; i++)
    {
        msA[i] = Time(a);
        msB[i] = Time(b);
    }
    return (msA, msB);
}

static double Time(Action run)
{
    long t0 = Stopwatch.GetTimestamp();
    run();
    return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
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
