// Vision forward and pipeline timings on our libtorch or ONNX Runtime path, one JSON object per line (median ms of --runs
// after --warmup).
//   VisionBench --model DIR [--engine libtorch|onnx] [--threads 2] [--batches 1,8] [--size 224] [--runs 10] [--warmup 3]
//   VisionBench --detr DIR [--engine libtorch|onnx] [--size 800] [--threads 2] [--runs 3] [--warmup 1]
//   VisionBench --pipeline DIR --images DIR_OF_IMAGES [--engine libtorch|onnx] [--threads 2] [--batch 8]
//       (images/s, decode + preprocess + forward + top-5)
// ONNX Runtime runs DIR/onnx/model.onnx with --threads intra-op threads.
// The PyTorch eager anchor (torchvision, the same weights, the same thread count) is timed by run.sh in the same run.
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Transformers.Engines;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Vision;
using static TorchSharp.torch;

var opts = new Dictionary<string, string>();
for (int i = 0; i < args.Length; i++)
    if (args[i].StartsWith("--", StringComparison.Ordinal))
        opts[args[i][2..]] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
int Int(string k, int d) => int.Parse(opts.GetValueOrDefault(k, d.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
int threads = Int("threads", 2), runs = Int("runs", 10), warmup = Int("warmup", 3);
TorchThreads.SetIntraOpThreads(threads);
bool onnx = opts.GetValueOrDefault("engine", "libtorch") == "onnx";
string engineName = onnx ? "ours-onnxruntime" : "ours-libtorch";
var onnxOptions = new OnnxModelOptions { Session = OnnxSessionOptions.Default with { IntraOpThreads = threads } };

static double Median(List<double> xs) { xs.Sort(); return xs[xs.Count / 2]; }

if (opts.TryGetValue("pipeline", out var pipeFolder))
{
    var images = Directory.GetFiles(opts["images"]).Where(f => f.EndsWith(".jpg") || f.EndsWith(".png")).Order().ToList();
    int batch = Int("batch", 8);
    using var pipe = Pipelines.Create<ImageClassificationPipeline>("image-classification", pipeFolder,
        new PipelineOptions { Engine = onnx ? Engine.OnnxRuntime : Engine.LibTorch, Onnx = onnxOptions });
    var inputs = Enumerable.Range(0, Math.Max(32, images.Count)).Select(i => (ImageInput)images[i % images.Count]).ToList();
    var p = new PipelineParameters { ["batch_size"] = batch };
    pipe.RunBatch(inputs.Take(batch).ToList(), p); // warm up
    var rates = new List<double>();
    for (int r = 0; r < 3; r++)
    {
        var sw = Stopwatch.StartNew();
        pipe.RunBatch(inputs, p);
        rates.Add(inputs.Count / sw.Elapsed.TotalSeconds);
    }
    Console.WriteLine($"{{\"pipeline\": \"{Path.GetFileName(pipeFolder)}\", \"engine\": \"{engineName}\", \"batch\": {batch}, \"images_per_s\": {Median(rates).ToString("F1", CultureInfo.InvariantCulture)}}}");
    return;
}

if (opts.TryGetValue("detr", out var detrFolder))
{
    // DETR forward at --size (default 800) on a square image, batch 1, no pixel_mask (all real pixels; ONNX Runtime
    // gets ones, as Transformers.js feeds them).
    int side = Int("size", 800);
    using var px = randn([1, 3, side, side], generator: new Generator(1));
    var times = new List<double>();
    if (onnx)
    {
        using var ort = InferenceModel.Load(detrFolder, ModelHead.ObjectDetection, new InferenceModelOptions { Engine = Engine.OnnxRuntime, Onnx = onnxOptions });
        var pixels = PixelValues.FromTensor(px);
        for (int r = 0; r < warmup + runs; r++)
        {
            var sw = Stopwatch.StartNew();
            _ = ort.RunPixels(pixels);
            sw.Stop();
            if (r >= warmup) times.Add(sw.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine($"{{\"model\": \"detr-resnet-50-sized\", \"engine\": \"ours-onnxruntime\", \"batch\": 1, \"size\": {side}, \"threads\": {threads}, \"median_ms\": {Median(times).ToString("F1", CultureInfo.InvariantCulture)}}}");
        return;
    }
    using var detr = AutoModelForObjectDetection.FromPretrained(detrFolder);
    for (int r = 0; r < warmup + runs; r++)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sw = Stopwatch.StartNew();
        var o = detr.Forward(new ModelInputs { PixelValues = px });
        _ = o.PredBoxes!.data<float>()[0];
        sw.Stop();
        if (r >= warmup) times.Add(sw.Elapsed.TotalMilliseconds);
    }
    Console.WriteLine($"{{\"model\": \"detr-resnet-50-sized\", \"engine\": \"ours-libtorch\", \"batch\": 1, \"size\": {side}, \"threads\": {threads}, \"median_ms\": {Median(times).ToString("F1", CultureInfo.InvariantCulture)}}}");
    return;
}

string folder = opts["model"];
int size = Int("size", 224);
if (onnx)
{
    using var ort = InferenceModel.Load(folder, ModelHead.ImageClassification, new InferenceModelOptions { Engine = Engine.OnnxRuntime, Onnx = onnxOptions });
    foreach (var b in opts.GetValueOrDefault("batches", "1,8").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)))
    {
        using var x = randn([b, 3, size, size], generator: new Generator((ulong)b));
        var pixels = PixelValues.FromTensor(x);
        var times = new List<double>();
        for (int r = 0; r < warmup + runs; r++)
        {
            var sw = Stopwatch.StartNew();
            _ = ort.RunPixels(pixels);
            sw.Stop();
            if (r >= warmup) times.Add(sw.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine($"{{\"model\": \"{Path.GetFileName(folder)}\", \"engine\": \"{engineName}\", \"batch\": {b}, \"median_ms\": {Median(times).ToString("F1", CultureInfo.InvariantCulture)}}}");
    }
    return;
}

using var model = AutoModelForImageClassification.FromPretrained(folder);
foreach (var b in opts.GetValueOrDefault("batches", "1,8").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)))
{
    using var x = randn([b, 3, size, size], generator: new Generator((ulong)b));
    var times = new List<double>();
    for (int r = 0; r < warmup + runs; r++)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sw = Stopwatch.StartNew();
        var o = model.Forward(new ModelInputs { PixelValues = x });
        _ = o.Logits!.data<float>()[0];
        sw.Stop();
        if (r >= warmup) times.Add(sw.Elapsed.TotalMilliseconds);
    }
    Console.WriteLine($"{{\"model\": \"{Path.GetFileName(folder)}\", \"engine\": \"{engineName}\", \"batch\": {b}, \"median_ms\": {Median(times).ToString("F1", CultureInfo.InvariantCulture)}}}");
}
