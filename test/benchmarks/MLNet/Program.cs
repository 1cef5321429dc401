// TextClassification through ML.NET (mlContext.Transforms.TextClassification, a cursor over Score and PredictedLabel)
// beside the same pipeline called directly (TextClassificationPipeline.Stream), on the same lazily generated texts.
//   dotnet MLNetBench.dll --model <folder> --rows 100000 --mode mlnet|direct [--batch 32] [--engine onnx|libtorch]
// Prints one JSON line: rows, seconds, rows/s and the process's peak RSS (VmHWM), so run.sh can start one process per
// measurement and compare 10,000 with 100,000 rows (streaming: the peak should not grow with the row count).
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;

string model = Arg("--model") ?? throw new ArgumentException("--model <folder> is required");
int rows = int.Parse(Arg("--rows") ?? "100000");
int batch = int.Parse(Arg("--batch") ?? "32");
string mode = Arg("--mode") ?? "mlnet";
var engine = (Arg("--engine") ?? "onnx") == "libtorch" ? Engine.LibTorch : Engine.OnnxRuntime;

string[] words = ["the", "movie", "was", "good", "bad", "city", "paris", "france", "i", "hate", "love", "this", "soup", "slow", "train", "wonderful"];
IEnumerable<string> Texts(int n)
{
    var rng = new Random(1);
    for (int i = 0; i < n; i++)
        yield return string.Join(' ', Enumerable.Range(0, 6 + rng.Next(10)).Select(_ => words[rng.Next(words.Length)]));
}

// warm up both paths on a few rows (JIT, session creation), outside the timing
double checksum = 0;
var sw = new Stopwatch();
if (mode == "mlnet")
{
    var ml = new MLContext(seed: 1);
    var estimator = ml.Transforms.TextClassification(new TextClassificationEstimator.Options { ModelFolder = model, Engine = engine, BatchSize = batch });
    using var transformer = estimator.Fit(ml.Data.LoadFromEnumerable(Texts(1).Select(t => new Row { Text = t })));
    Consume(transformer.Transform(ml.Data.LoadFromEnumerable(Texts(64).Select(t => new Row { Text = t }))));
    checksum = 0;
    sw.Start();
    Consume(transformer.Transform(ml.Data.LoadFromEnumerable(Texts(rows).Select(t => new Row { Text = t }))));
    sw.Stop();

    void Consume(IDataView view)
    {
        using var cursor = view.GetRowCursor([view.Schema["Score"], view.Schema["PredictedLabel"]]);
        var score = cursor.GetGetter<VBuffer<float>>(view.Schema["Score"]);
        var label = cursor.GetGetter<uint>(view.Schema["PredictedLabel"]);
        VBuffer<float> s = default;
        uint l = 0;
        while (cursor.MoveNext())
        {
            score(ref s);
            label(ref l);
            checksum += s.GetValues()[0] + l;
        }
    }
}
else
{
    using var pipe = (TextClassificationPipeline)Pipelines.Create("text-classification", model, new PipelineOptions { Engine = engine });
    var p = new TextClassificationOptions { TopK = TextClassificationOptions.All, Truncation = true, BatchSize = batch };
    var labels = Enumerable.Range(0, pipe.Model.Config.NumLabels).Select(i => pipe.Model.Config.Id2Label.TryGetValue(i, out var x) ? x : $"LABEL_{i}").ToList();
    Consume(pipe.Stream(Texts(64).Select(t => new TextInput(t)), p));
    checksum = 0;
    sw.Start();
    Consume(pipe.Stream(Texts(rows).Select(t => new TextInput(t)), p));
    sw.Stop();

    void Consume(IEnumerable<IReadOnlyList<TextClassificationResult>> results)
    {
        // the same per-row work the ML.NET columns do: scores in label order and the best label
        var scores = new float[labels.Count];
        foreach (var r in results)
        {
            foreach (var x in r) scores[labels.IndexOf(x.Label)] = (float)x.Score;
            checksum += scores[0] + labels.IndexOf(r[0].Label) + 1;
        }
    }
}

Console.WriteLine(JsonSerializer.Serialize(new
{
    mode, rows, batch, engine = engine.ToString(), seconds = sw.Elapsed.TotalSeconds, rows_per_second = rows / sw.Elapsed.TotalSeconds,
    peak_rss_mb = PeakRssMb(), checksum,
}));

static double PeakRssMb()
{
    foreach (var line in File.ReadLines("/proc/self/status"))
        if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
    return double.NaN;
}

string? Arg(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

sealed class Row
{
    public string Text { get; set; } = "";
}
