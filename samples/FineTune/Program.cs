// Fine-tunes a tiny RoBERTa-style classifier, initialised from a config (no pretrained weights), to tell which language a
// sentence is in: English, German, Italian or Spanish, learnt from Debian's fortune cookie files. Shows the Trainer with
// its progress bar, evaluation every epoch, early stopping, TensorBoard logs and the best checkpoint kept, then uses the
// saved model through a pipeline and through ML.NET.
//
//   dotnet run --project samples/FineTune -c Release [outputFolder]
//
// The data comes from apt packages (fortunes-min, fortunes-de, fortunes-it, fortunes-es); when they are missing the sample
// runs eng/setup-finetune.sh, which installs them.
using System.Diagnostics;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Tokenizers;
using Microsoft.ML.Transformers.Training;

var clock = Stopwatch.StartNew();
var repo = FindRepoRoot();
var output = Path.GetFullPath(args.Length > 0 ? args[0] : Path.Combine(repo, "artifacts", "finetune"));
if (Directory.Exists(output)) Directory.Delete(output, recursive: true);

// ---- data: sentences of four languages, one fortune = one example ----
const string Root = "/usr/share/games/fortunes";
var sources = new (string Label, string Folder, Func<string, bool> Take)[]
{
    ("en", Root, f => Path.GetFileName(f) is "fortunes" or "literature" or "riddles"),
    ("de", Path.Combine(Root, "de"), _ => true),
    ("it", Path.Combine(Root, "it"), _ => true),
    ("es", Path.Combine(Root, "es"), _ => true),
};
if (sources.Any(s => !Directory.Exists(s.Folder)) || !File.Exists(Path.Combine(Root, "fortunes")))
{
    Console.WriteLine("The fortune files are missing; running eng/setup-finetune.sh");
    using var setup = Process.Start(new ProcessStartInfo("sh", [Path.Combine(repo, "eng", "setup-finetune.sh")]))!;
    setup.WaitForExit();
    if (setup.ExitCode != 0) throw new InvalidOperationException($"eng/setup-finetune.sh failed ({setup.ExitCode}).");
}

const int PerLanguage = 500, MaxChars = 160;
var rng = new Random(1);
var labels = sources.Select(s => s.Label).ToArray();
var rows = new List<(string Text, int Label)>();
for (int l = 0; l < sources.Length; l++)
{
    var (_, folder, take) = sources[l];
    var texts = Directory.GetFiles(folder)
        .Where(f => Path.GetExtension(f) is "" or ".fortunes" && take(f) && !File.GetAttributes(f).HasFlag(FileAttributes.ReparsePoint))
        .Order(StringComparer.Ordinal)
        .SelectMany(ReadFortunes)
        .Where(t => t.Length >= 30)
        .Distinct()
        .OrderBy(_ => rng.Next())
        .Take(PerLanguage)
        .ToList();
    Console.WriteLine($"{labels[l]}: {texts.Count} fortunes from {folder}");
    rows.AddRange(texts.Select(t => (t, l)));
}
rows = rows.OrderBy(_ => rng.Next()).ToList();
int nTest = rows.Count / 10, nEval = rows.Count / 10;
var test = rows.Take(nTest).ToList();
var eval = rows.Skip(nTest).Take(nEval).ToList();
var train = rows.Skip(nTest + nEval).ToList();
Console.WriteLine($"{train.Count} training, {eval.Count} validation, {test.Count} held-out examples");

// ---- a tiny RoBERTa from a config, with the byte-level BPE tokenizer of the test fixtures ----
var tokenizer = AutoTokenizer.FromPretrained(Path.Combine(repo, "test", "fixtures", "models", "roberta-seqcls"));
// Train at the length the pipeline will cut to later: the tokenizer's model_max_length (64 for this tokenizer).
int MaxLength = tokenizer.ModelMaxLength ?? 64;
var config = new RobertaConfig
{
    VocabSize = tokenizer.VocabSize, HiddenSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 128,
    MaxPositionEmbeddings = MaxLength + 2, PadTokenId = tokenizer.PadTokenId,
    Id2Label = labels.Select((l, i) => (l, i)).ToDictionary(p => p.i, p => p.l),
    ProblemType = "single_label_classification",
};
using var model = AutoModelForSequenceClassification.FromConfig(config);

var truncation = new TruncationOptions(MaxLength);
List<TrainingExample> Encode(List<(string Text, int Label)> set) => set.Select(r =>
{
    var enc = tokenizer.Encode(r.Text, truncation: truncation);
    return new TrainingExample { InputIds = enc.Ids.Select(i => (long)i).ToArray(), Label = r.Label };
}).ToList();

var trainingArgs = new TrainingArguments
{
    OutputDir = Path.Combine(output, "trainer"),
    NumTrainEpochs = 5,
    PerDeviceTrainBatchSize = 32,
    PerDeviceEvalBatchSize = 64,
    LearningRate = 2e-3,
    WeightDecay = 0.01,
    WarmupRatio = 0.1,
    EvalStrategy = IntervalStrategy.Epoch,
    SaveStrategy = IntervalStrategy.Epoch,
    SaveTotalLimit = 2,
    LoadBestModelAtEnd = true,
    MetricForBestModel = "accuracy",
    LoggingSteps = 20,
    ReportTo = ["tensorboard"],
    Seed = 7,
};
var trainer = new Trainer(model, trainingArgs, Encode(train), Encode(eval), tokenizer,
    computeMetrics: Accuracy, callbacks: [new EarlyStoppingCallback(earlyStoppingPatience: 2, earlyStoppingThreshold: 0.005)]);
var result = trainer.Train();
Console.WriteLine($"trained {result.GlobalStep} steps, training loss {result.TrainingLoss:F4}, best checkpoint {trainer.State.BestModelCheckpoint}");

var heldOut = trainer.Predict(Encode(test));
Console.WriteLine($"held-out accuracy (Trainer.Predict): {heldOut.Metrics["test_accuracy"]:P1} on {test.Count} fortunes");

var modelFolder = Path.Combine(output, "model");
trainer.SaveModel(modelFolder);
Console.WriteLine($"saved to {modelFolder}; TensorBoard logs: tensorboard --logdir {Path.Combine(trainingArgs.OutputDir, "runs")}");

// ---- the saved model through a pipeline ----
string[] sentences =
[
    "The weather is lovely today and we are going to the beach.",
    "Ich habe heute keine Zeit, morgen vielleicht.",
    "Domani andiamo al mare con tutta la famiglia.",
    "No hay mal que por bien no venga.",
];
using (var classifier = Pipelines.Create<TextClassificationPipeline>("text-classification", modelFolder))
{
    foreach (var s in sentences)
    {
        var best = classifier.Run(s)[0];
        Console.WriteLine($"  pipeline: {best.Label} ({best.Score:P0})  {s}");
    }
}

// ---- and through ML.NET: the same folder as a transform, evaluated on the held-out set ----
var ml = new MLContext(seed: 1);
var testView = ml.Data.LoadFromEnumerable(test.Select(r => new Row { Text = r.Text, Language = labels[r.Label] }));
var mlModel = ml.Transforms.Conversion.MapValueToKey("Label", "Language", keyData: ml.Data.LoadFromEnumerable(labels.Select(l => new LanguageName { Language = l })))
    .Append(ml.Transforms.TextClassification(modelFolder, inputColumnName: "Text"))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLanguage", "PredictedLabel"))
    .Fit(testView);
var metrics = ml.MulticlassClassification.Evaluate(mlModel.Transform(testView));
Console.WriteLine($"held-out accuracy (ML.NET Evaluate): {metrics.MicroAccuracy:P1}, macro {metrics.MacroAccuracy:P1}");
var engine = ml.Model.CreatePredictionEngine<Row, Prediction>(mlModel);
foreach (var s in sentences) Console.WriteLine($"  ML.NET:   {engine.Predict(new Row { Text = s }).PredictedLanguage}  {s}");
foreach (var t in mlModel) (t as IDisposable)?.Dispose();
Console.WriteLine($"done in {clock.Elapsed.TotalSeconds:F0} s");

static IReadOnlyDictionary<string, double> Accuracy(EvalPrediction p)
{
    var pred = p.Predictions.ArgMaxLast();
    int right = pred.Where((v, i) => v == (long)p.LabelIds!.Data[i]).Count();
    return new Dictionary<string, double> { ["accuracy"] = (double)right / pred.Length };
}

// A fortune file: entries separated by lines holding "%"; attribution lines ("-- Author") dropped, whitespace collapsed.
static IEnumerable<string> ReadFortunes(string file)
{
    var sb = new StringBuilder();
    foreach (var line in File.ReadLines(file, System.Text.Encoding.UTF8).Append("%"))
    {
        if (line.Trim() == "%")
        {
            var text = string.Join(' ', sb.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            sb.Clear();
            if (text.Length > 0 && !text.Contains('\uFFFD')) yield return text.Length > MaxChars ? text[..MaxChars] : text;
            continue;
        }
        if (line.TrimStart().StartsWith("--", StringComparison.Ordinal)) continue;
        sb.Append(line).Append(' ');
    }
}

static string FindRepoRoot()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "Build.proj"))) return d.FullName;
    throw new DirectoryNotFoundException("Run the sample from inside the repository (Build.proj not found above the program).");
}

sealed class Row
{
    public string Text { get; set; } = "";
    public string Language { get; set; } = "";
}

/// <summary>The key's values in the model's label order (MapValueToKey's keyData: one column).</summary>
sealed class LanguageName
{
    public string Language { get; set; } = "";
}

sealed class Prediction
{
    public string PredictedLanguage { get; set; } = "";
}
