// Quick start: a Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer.json, onnx/model.onnx)
// loaded from disk, run on libtorch and on ONNX Runtime, and saved back.
//   dotnet msbuild Build.proj -t:Sample            (from the repository root; installs what is missing)
//   dotnet run --project samples/QuickStart -- [model-folder]
// Without an argument it uses the tiny random BERT sequence classifier the tests use, so the labels are not
// meaningful; point it at any BERT / RoBERTa / DistilBERT text-classification folder for real predictions.
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Tokenizers;
using static TorchSharp.torch;

string folder = args.Length > 0 ? args[0] : FindRepoFile("test/fixtures/models/bert-seqcls");
string[] sentences = ["the capital of france is paris.", "this is not what i would have said about it"];

var tokenizer = AutoTokenizer.FromPretrained(folder);
var encodings = tokenizer.EncodeBatch(sentences, padding: new PaddingOptions(PadId: tokenizer.PadTokenId ?? 0, PadToken: tokenizer.PadToken ?? "[PAD]"));
int batch = encodings.Count, length = encodings[0].Length;
var ids = encodings.SelectMany(e => e.Ids.Select(i => (long)i)).ToArray();
var mask = encodings.SelectMany(e => e.AttentionMask.Select(i => (long)i)).ToArray();
var types = encodings.SelectMany(e => e.TypeIds.Select(i => (long)i)).ToArray();
Console.WriteLine($"Model folder: {folder}");
Console.WriteLine($"Tokens of the first sentence: {string.Join(" ", encodings[0].Tokens)}");

// 1. libtorch through TorchSharp: the checkpoint's safetensors weights, eager, with the typed model and its outputs.
using (var model = AutoModelForSequenceClassification.FromPretrained(folder))
using (var scope = NewDisposeScope())
using (no_grad())
{
    var output = model.Forward(ModelInputs.FromArrays(ids, mask, types, batch, length));
    var probs = output.Logits!.softmax(-1);
    Print("libtorch", model.Config.Id2Label, probs.data<float>().ToArray(), (int)probs.size(1));

    // Save it back: config.json + model.safetensors, written to temporary files and moved into place.
    var saved = Path.Combine(Path.GetTempPath(), "mlt-quickstart-" + Environment.ProcessId);
    model.SavePretrained(saved);
    Console.WriteLine($"Saved to {saved}: {string.Join(", ", Directory.GetFiles(saved).Select(Path.GetFileName))}");
    Directory.Delete(saved, recursive: true);
}

// 2. The same folder through either engine behind one interface (ONNX Runtime reads onnx/model.onnx).
foreach (var engine in new[] { Engine.LibTorch, Engine.OnnxRuntime })
{
    if (engine == Engine.OnnxRuntime && !File.Exists(Path.Combine(folder, "onnx", "model.onnx"))) continue;
    using var m = InferenceModel.Load(folder, ModelHead.SequenceClassification, new InferenceModelOptions { Engine = engine });
    var logits = m.Run(new InferenceBatch(ids, mask, types, batch, length))["logits"];
    int labels = (int)logits.Shape[1];
    var p = logits.GetData<float>().Chunk(labels).SelectMany(Softmax).ToArray();
    Print(engine.ToString(), m.Config.Id2Label, p, labels);
}

// 3. The task API: pipeline("text-classification", model=folder, top_k=2), on each engine.
foreach (var engine in new[] { Engine.LibTorch, Engine.OnnxRuntime })
{
    using var classifier = Pipelines.Create<TextClassificationPipeline>("text-classification", folder,
        new PipelineOptions { Engine = engine, Parameters = new PipelineParameters { ["top_k"] = 2 } });
    foreach (var (sentence, result) in sentences.Zip(classifier.RunBatch(sentences.Select(s => (TextInput)s).ToList())))
        Console.WriteLine($"[pipeline {engine,-11}] \"{sentence}\" -> {string.Join(", ", result.Select(r => $"{r.Label} {r.Score:F4}"))}");
}

static IEnumerable<float> Softmax(float[] row)
{
    var max = row.Max();
    var e = row.Select(x => MathF.Exp(x - max)).ToArray();
    var sum = e.Sum();
    return e.Select(x => x / sum);
}

void Print(string engine, IReadOnlyDictionary<int, string> id2label, float[] probs, int labels)
{
    for (int i = 0; i < sentences.Length; i++)
    {
        var row = probs.AsSpan(i * labels, labels).ToArray();
        int best = Array.IndexOf(row, row.Max());
        Console.WriteLine($"[{engine,-11}] \"{sentences[i]}\" -> {id2label[best]} ({row[best]:F4})");
    }
}

static string FindRepoFile(string relative)
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, relative);
        if (Directory.Exists(candidate)) return candidate;
    }
    throw new DirectoryNotFoundException($"'{relative}' not found above {AppContext.BaseDirectory}; pass a model folder as the first argument.");
}
