// A Hugging Face text classifier as one step of an ML.NET pipeline:
//   a TSV loaded with mlContext.Data.LoadFromTextFile, mlContext.Transforms.TextClassification, the multiclass
//   metrics from mlContext.MulticlassClassification.Evaluate, model.zip saved and loaded back (the model files are
//   inside the zip), and a PredictionEngine answering one row.
//   dotnet run --project samples/MLNet -- [model-folder] [data.tsv]
// Without arguments it uses the tiny random BERT classifier and the labelled TSV the tests use, so the metrics are
// those of a random model; pass a real text-classification checkpoint (config.json, tokenizer.json, model.safetensors
// or onnx/model.onnx) and a TSV of "Label<TAB>Text" rows whose labels are its id2label names for real ones.
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transformers.MLNet;

string folder = args.Length > 0 ? args[0] : FindRepo("test/fixtures/models/bert-seqcls");
string tsv = args.Length > 1 ? args[1] : FindRepo("test/fixtures/mlnet/sentences.tsv");
var ml = new MLContext(seed: 1);

// 1. Data: a TSV with a header, read lazily by ML.NET's TextLoader.
IDataView data = ml.Data.LoadFromTextFile<Sentence>(tsv, separatorChar: '\t', hasHeader: true);

// 2. The transform. Fit opens the model (nothing is trained). Its PredictedLabel is a key over the model's label names;
//    the Label column is keyed in the same order so the evaluator compares like with like.
var classify = ml.Transforms.TextClassification(folder, inputColumnName: nameof(Sentence.Text));
IReadOnlyList<string> labels;
using (var probe = classify.Fit(data)) labels = probe.Labels;
var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", keyData: ml.Data.LoadFromEnumerable(labels.Select(l => new LabelName { Label = l })))
    .Append(classify)
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"));
var model = pipeline.Fit(data);

// 3. Evaluation with ML.NET's own evaluator.
var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data));
Console.WriteLine($"Model folder: {folder}");
Console.WriteLine($"Labels: {string.Join(", ", labels)}");
Console.WriteLine($"Micro accuracy {metrics.MicroAccuracy:F3}, macro accuracy {metrics.MacroAccuracy:F3}, log-loss {metrics.LogLoss:F3}");
Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());

// 4. model.zip: the chain, with config, tokenizer and weights inside; loaded back in a fresh context.
var zip = Path.Combine(Path.GetTempPath(), $"mlt-mlnet-sample-{Environment.ProcessId}.zip");
ml.Model.Save(model, data.Schema, zip);
Console.WriteLine($"Saved {zip} ({new FileInfo(zip).Length / 1024.0:F0} KiB)");
foreach (var t in model) (t as IDisposable)?.Dispose();
var fresh = new MLContext();
var loaded = fresh.Model.Load(zip, out _);

// 5. A prediction engine over plain classes, one per thread as ML.NET documents.
using (var engine = fresh.Model.CreatePredictionEngine<Sentence, Prediction>(loaded))
{
    var p = engine.Predict(new Sentence { Text = "the museum was wonderful" });
    Console.WriteLine($"\"the museum was wonderful\" -> {p.PredictedName} (scores {string.Join(", ", labels.Zip(p.Score, (l, s) => $"{l} {s:F3}"))})");
}
foreach (var t in (TransformerChain<ITransformer>)loaded) (t as IDisposable)?.Dispose();
File.Delete(zip);

static string FindRepo(string relative)
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, relative);
        if (Directory.Exists(candidate) || File.Exists(candidate)) return candidate;
    }
    throw new FileNotFoundException($"'{relative}' not found above {AppContext.BaseDirectory}; pass a model folder and a TSV as arguments.");
}

sealed class Sentence
{
    [LoadColumn(0)] public string Label { get; set; } = "";
    [LoadColumn(1)] public string Text { get; set; } = "";
}

sealed class LabelName
{
    public string Label { get; set; } = "";
}

sealed class Prediction
{
    public float[] Score { get; set; } = [];
    public string PredictedName { get; set; } = "";
}
