// A pipeline end to end (tokenize, model, postprocess) over a file of texts (one per line): text-classification (top-1
// label) or feature-extraction (mean pooling), on ONNX Runtime or libtorch; prints one JSON object {"1": {...}, "32": {...}}
// of median wall times over the rounds. run.sh times the Transformers.js pipeline on the same folder and texts in the same
// run and prints both side by side.
//   PipelineBench --model DIR --sentences FILE [--task text-classification|feature-extraction] [--engine onnx|libtorch]
//                 [--batches 1,32] [--threads 2] [--rounds 5] [--warmup 1]
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Pipelines;

var opts = new Dictionary<string, string>();
for (int i = 0; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
string model = opts.GetValueOrDefault("model") ?? throw new ArgumentException("--model DIR is required");
var sentences = File.ReadAllLines(opts.GetValueOrDefault("sentences") ?? throw new ArgumentException("--sentences FILE is required"))
    .Where(l => l.Length > 0).Select(l => (TextInput)l).ToList();
int threads = int.Parse(opts.GetValueOrDefault("threads", "2"), CultureInfo.InvariantCulture);
int rounds = int.Parse(opts.GetValueOrDefault("rounds", "5"), CultureInfo.InvariantCulture);
int warmup = int.Parse(opts.GetValueOrDefault("warmup", "1"), CultureInfo.InvariantCulture);
var batches = opts.GetValueOrDefault("batches", "1,32").Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture));
string task = opts.GetValueOrDefault("task", "text-classification");
var engine = opts.GetValueOrDefault("engine", "onnx") == "libtorch" ? Engine.LibTorch : Engine.OnnxRuntime;
if (engine == Engine.LibTorch) TorchSharp.torch.set_num_threads(threads);

// The session settings Transformers.js gets in bench_tjs.mjs: 2 intra-op threads, sequential, all graph optimizations.
var parameters = new PipelineParameters { ["truncation"] = true };
if (task == "feature-extraction") parameters["pooling"] = "mean";
using var pipe = Pipelines.Create(task, model, new PipelineOptions
{
    Engine = engine,
    Onnx = new OnnxModelOptions { Session = new OnnxSessionOptions { IntraOpThreads = threads, InterOpThreads = 1 } },
    Parameters = parameters,
});
// the first result, to check both sides computed the same thing: the top label, or the first pooled value
Func<IReadOnlyList<TextInput>, PipelineParameters, string> run = pipe switch
{
    TextClassificationPipeline tc => (texts, p) => tc.RunBatch(texts, p)[0][0].Label,
    FeatureExtractionPipeline fe => (texts, p) => fe.RunBatch(texts, p)[0].Data[0].ToString("F4", CultureInfo.InvariantCulture),
    _ => throw new ArgumentException($"--task {task}: text-classification or feature-extraction"),
};
var results = new List<string>();
foreach (int batch in batches)
{
    var p = new PipelineParameters { ["batch_size"] = batch };
    var times = new List<double>();
    string first = "";
    for (int r = 0; r < warmup + rounds; r++)
    {
        var sw = Stopwatch.StartNew();
        first = run(sentences, p);
        sw.Stop();
        if (r >= warmup) times.Add(sw.Elapsed.TotalMilliseconds);
    }
    times.Sort();
    double median = times[times.Count / 2];
    results.Add(string.Create(CultureInfo.InvariantCulture,
        $"\"{batch}\": {{\"median_ms\": {median:F1}, \"min_ms\": {times[0]:F1}, \"sentences_per_s\": {sentences.Count / median * 1000:F0}, \"first_label\": \"{first}\"}}"));
}
Console.WriteLine("{" + string.Join(", ", results) + "}");
