using System.Text;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Onnx;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Tests.Training;
using Microsoft.ML.Transformers.Tokenizers;
using Microsoft.ML.Transformers.Training;

namespace Microsoft.ML.Transformers.Tests.Onnx;

/// <summary>
/// Fine-tune on libtorch, serve on ONNX Runtime: a tiny RoBERTa trained by our Trainer for a few epochs on Debian's
/// fortunes (language identification, en/de/it/es, the samples/FineTune task), exported with model.ExportOnnx. The
/// text-classification pipeline on the export (ONNX Runtime, unfused and fused) gives the labels and scores of the same
/// pipeline on the saved checkpoint (libtorch) within 1e-4; the dynamic int8 export's held-out accuracy is within one
/// point of fp32's.
/// </summary>
// Not in parallel with other classes: its initial weights and dropout draw from libtorch's process-wide generator,
// which a test running beside it would advance (held-out accuracy then varied between runs).
[TestClass]
[DoNotParallelize]
public class FineTunedExportTests
{
    private const string FortuneRoot = "/usr/share/games/fortunes";
    private static readonly string[] s_languages = ["en", "de", "it", "es"];
    private static string? s_dir, s_checkpoint, s_export, s_fused;
    private static List<(string Text, int Label)> s_heldOut = [];

    [ClassInitialize]
    public static void FineTuneAndExport(TestContext _)
    {
        if (!File.Exists(Path.Combine(FortuneRoot, "fortunes"))) return; // each test reports Inconclusive
        var rng = new Random(3);
        var rows = new List<(string Text, int Label)>();
        for (int l = 0; l < s_languages.Length; l++)
        {
            string folder = l == 0 ? FortuneRoot : Path.Combine(FortuneRoot, s_languages[l]);
            var files = Directory.GetFiles(folder).Where(f => Path.GetExtension(f) is "" or ".fortunes"
                && (l > 0 || Path.GetFileName(f) is "fortunes" or "literature" or "riddles")).Order(StringComparer.Ordinal);
            rows.AddRange(files.SelectMany(Fortunes).Where(t => t.Length >= 30).Distinct().OrderBy(_ => rng.Next()).Take(400).Select(t => (t, l)));
        }
        rows = rows.OrderBy(_ => rng.Next()).ToList();
        s_heldOut = rows.Take(400).ToList();
        var train = rows.Skip(400).ToList();

        var fixture = TestPaths.Fixture("models", "roberta-seqcls");
        var tokenizer = AutoTokenizer.FromPretrained(fixture);
        var config = new RobertaConfig
        {
            VocabSize = tokenizer.VocabSize, HiddenSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 128,
            MaxPositionEmbeddings = 66, PadTokenId = tokenizer.PadTokenId,
            Id2Label = s_languages.Select((name, i) => (name, i)).ToDictionary(p => p.i, p => p.name),
            ProblemType = "single_label_classification",
        };
        TorchSharp.torch.manual_seed(5);
        using var model = AutoModelForSequenceClassification.FromConfig(config);
        s_dir = TrainingFixtures.TempDir("finetuned-export");
        var truncation = new TruncationOptions(32); // language shows in a few words; short rows keep training quick
        var examples = train.Select(r => new TrainingExample
        {
            InputIds = tokenizer.Encode(r.Text, truncation: truncation).Ids.Select(i => (long)i).ToArray(),
            Label = r.Label,
        }).ToList();
        var args = TrainingFixtures.QuietArgs(Path.Combine(s_dir, "trainer")) with
        {
            NumTrainEpochs = 4, PerDeviceTrainBatchSize = 32, LearningRate = 2e-3, WarmupRatio = 0.1, Seed = 7, DisableTqdm = true,
        };
        var trainer = new Trainer(model, args, examples, tokenizer: tokenizer);
        TrainingFixtures.Silence(trainer);
        trainer.Train();

        s_checkpoint = Path.Combine(s_dir, "checkpoint");
        trainer.SaveModel(s_checkpoint);
        s_export = Path.Combine(s_dir, "onnx-plain");
        s_fused = Path.Combine(s_dir, "onnx-fused");
        model.eval();
        model.ExportOnnx(s_export, new OnnxExportOptions { Quantize = true, TokenizerFolder = fixture });
        model.ExportOnnx(s_fused, new OnnxExportOptions { Fuse = true, Quantize = true, TokenizerFolder = fixture });
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        if (s_dir is not null) Directory.Delete(s_dir, recursive: true);
    }

    /// <summary>A fortune file's entries ("%" lines between them), attribution lines dropped, whitespace collapsed, 160 chars at most.</summary>
    private static IEnumerable<string> Fortunes(string file)
    {
        var entry = new StringBuilder();
        foreach (var line in File.ReadLines(file, System.Text.Encoding.UTF8).Append("%"))
        {
            if (line.Trim() != "%")
            {
                if (!line.TrimStart().StartsWith("--", StringComparison.Ordinal)) entry.Append(line).Append(' ');
                continue;
            }
            var text = string.Join(' ', entry.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            entry.Clear();
            if (text.Length > 0 && !text.Contains('\uFFFD')) yield return text[..Math.Min(text.Length, 160)];
        }
    }

    private static void RequireData()
    {
        if (s_checkpoint is null) Assert.Inconclusive($"Debian's fortune files ({FortuneRoot}) are missing: eng/setup-finetune.sh installs them.");
    }

    private static TextClassificationPipeline Classifier(string folder, Engine engine, bool quantized = false) =>
        Microsoft.ML.Transformers.Pipelines.Pipelines.Create<TextClassificationPipeline>("text-classification", folder, new PipelineOptions
        {
            Engine = engine,
            Onnx = new OnnxModelOptions { Quantized = quantized },
            Parameters = new PipelineParameters { ["top_k"] = 4, ["batch_size"] = 16, ["truncation"] = true },
        });

    private static IReadOnlyList<IReadOnlyList<TextClassificationResult>> Classify(string folder, Engine engine, bool quantized = false)
    {
        using var pipe = Classifier(folder, engine, quantized);
        return pipe.RunBatch(s_heldOut.Select(r => (TextInput)r.Text).ToList());
    }

    private static double Accuracy(IReadOnlyList<IReadOnlyList<TextClassificationResult>> results) =>
        results.Where((r, i) => r[0].Label == s_languages[s_heldOut[i].Label]).Count() / (double)results.Count;

    [TestMethod]
    public void PipelineOnOnnxRuntimeMatchesLibtorch()
    {
        RequireData();
        var torch = Classify(s_checkpoint!, Engine.LibTorch);
        Assert.IsGreaterThan(0.6, Accuracy(torch), "the classifier learnt something (chance is 0.25)");
        foreach (var (folder, tolerance) in new[] { (s_export!, 1e-4), (s_fused!, 1e-4) })
        {
            var onnx = Classify(folder, Engine.OnnxRuntime);
            double worst = 0;
            for (int i = 0; i < torch.Count; i++)
            {
                CollectionAssert.AreEqual(torch[i].Select(r => r.Label).ToArray(), onnx[i].Select(r => r.Label).ToArray(), $"{folder} [{i}] {s_heldOut[i].Text}");
                for (int j = 0; j < torch[i].Count; j++) worst = Math.Max(worst, Math.Abs(torch[i][j].Score - onnx[i][j].Score));
            }
            Console.WriteLine($"{Path.GetFileName(folder)}: max |score difference| vs libtorch {worst:E2} over {torch.Count} held-out fortunes");
            Assert.IsTrue(worst <= tolerance, $"{folder}: max score difference {worst:E2}");
        }
    }

    [TestMethod]
    public void QuantizedAccuracyWithinOnePointOfFp32()
    {
        RequireData();
        foreach (var folder in new[] { s_export!, s_fused! })
        {
            double fp32 = Accuracy(Classify(folder, Engine.OnnxRuntime));
            double int8 = Accuracy(Classify(folder, Engine.OnnxRuntime, quantized: true));
            long Size(string name) => new FileInfo(Path.Combine(folder, "onnx", name)).Length;
            double ratio = Size("model_quantized.onnx") / (double)Size("model.onnx");
            Console.WriteLine($"{Path.GetFileName(folder)}: held-out accuracy fp32 {fp32:P2}, int8 {int8:P2} on {s_heldOut.Count}; size int8/fp32 {ratio:F3}");
            Assert.IsGreaterThan(0.6, fp32);
            Assert.IsTrue(Math.Abs(fp32 - int8) <= 0.01, $"{folder}: fp32 {fp32:P2} vs int8 {int8:P2}");
            // Embedding tables stay fp32 (they are gathered, not multiplied): in this tiny model they are a third of the weights.
            Assert.IsTrue(ratio < 0.75, $"int8 / fp32 size {ratio:F3}");
        }
    }
}
