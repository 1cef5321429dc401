// Registers the guide's pair-classification pipeline, creates it by task name like a built-in one, runs it on both
// engines, saves it to a folder and recreates it from that folder alone.
//   dotnet run --project samples/PairClassification [model folder]
// The model folder defaults to the repository's tiny BERT sequence-classification fixture (random weights: the labels
// it picks mean nothing; the point is the mechanics).
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using PairClassification;

string folder = args.Length > 0 ? args[0] : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../test/fixtures/models/bert-seqcls"));

// PIPELINE_REGISTRY.register_pipeline("pair-classification", pipeline_class=..., pt_model=AutoModelForSequenceClassification, default=..., type="text")
PipelineRegistry.Register("pair-classification", c => new PairClassificationPipeline(c), ModelHead.SequenceClassification,
    defaultModelFolder: folder, inputType: PipelineInputType.Text);

foreach (var engine in new[] { Engine.OnnxRuntime, Engine.LibTorch })
{
    using var classifier = Pipelines.Create<PairClassificationPipeline>("pair-classification", options: new PipelineOptions { Engine = engine });
    var r = classifier.Run("i love this movie", new PipelineParameters { ["second_text"] = "the movie was good" });
    Console.WriteLine($"{engine,-12} {r.Label} {r.Score:F4} logits [{string.Join(", ", r.Logits.Select(x => x.ToString("F4")))}]");
}

// Construction-time parameters and a batch of inputs.
using (var classifier = Pipelines.Create<PairClassificationPipeline>("pair-classification",
    options: new PipelineOptions { Parameters = new PipelineParameters { ["second_text"] = "she said hello", ["batch_size"] = 2 } }))
{
    foreach (var (text, r) in new[] { "hello world", "i hate this city", "the capital of france is paris" }
        .Zip(classifier.RunBatch(["hello world", "i hate this city", "the capital of france is paris"])))
        Console.WriteLine($"batch        {text,-32} -> {r.Label} {r.Score:F4}");

    var saved = Path.Combine(Path.GetTempPath(), $"pair-classification-{Guid.NewGuid():N}");
    classifier.SavePretrained(saved);
    using var reloaded = Pipelines.Load(saved);   // pipeline.json names the task; the registry builds it
    var again = ((PairClassificationPipeline)reloaded).Run("hello world");
    Console.WriteLine($"reloaded     {reloaded.GetType().Name} from {saved}: {again.Label} {again.Score:F4}");
    Directory.Delete(saved, recursive: true);
}
