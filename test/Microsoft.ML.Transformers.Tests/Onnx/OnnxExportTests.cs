using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Onnx;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Tests.Models;
using Microsoft.ML.Transformers.Tests.SafeTensors;

namespace Microsoft.ML.Transformers.Tests.Onnx;

/// <summary>
/// model.ExportOnnx for every architecture x head of the tiny fixtures: the graph passes onnx.checker (Debian's
/// python3-onnx, test/fixtures/scripts/check_onnx.py), and ONNX Runtime running it (through InferenceModel on
/// Engine.OnnxRuntime) gives the libtorch model's outputs within 1e-5 unfused and 1e-4 fused, and the PyTorch
/// reference goldens' (make_model_fixtures.py) within the same bounds, on the goldens' padded batch.
/// </summary>
[TestClass]
public class OnnxExportTests
{
    private static TempFolder? s_root;

    public static IEnumerable<object[]> Cases => ModelParityTests.Cases;

    [ClassInitialize]
    public static void Init(TestContext _) => s_root = new TempFolder();

    [ClassCleanup]
    public static void Cleanup() => s_root?.Dispose();

    /// <summary>Exports the fixture <paramref name="caseName"/> once per option set (cached for the class).</summary>
    internal static string Export(string caseName, OnnxExportOptions options, string variant)
    {
        string folder = Path.Combine(s_root!.Path, $"{caseName}-{variant}");
        if (File.Exists(Path.Combine(folder, "onnx", "model.onnx"))) return folder;
        using var model = ModelParityTests.RegistryFor(caseName).FromPretrained(TestPaths.Fixture("models", caseName));
        var result = model.ExportOnnx(folder, options);
        Assert.AreEqual(Path.Combine(folder, "onnx", "model.onnx"), result.ModelPath);
        return folder;
    }

    internal static InferenceBatch GoldenBatch(Goldens g)
    {
        using var ids = g.Tensor("input_ids");
        using var mask = g.Tensor("attention_mask");
        using var types = g.TryTensor("token_type_ids");
        return new InferenceBatch(ids.data<long>().ToArray(), mask.data<long>().ToArray(), types?.data<long>().ToArray(), (int)ids.shape[0], (int)ids.shape[1]);
    }

    internal static double MaxDiff(NamedTensor a, float[] b)
    {
        var x = a.GetData<float>();
        Assert.AreEqual(b.Length, x.Length, $"{a.Name} size");
        double max = 0;
        for (int i = 0; i < x.Length; i++) max = Math.Max(max, Math.Abs(x[i] - b[i]));
        return max;
    }

    /// <summary>Runs the export on ONNX Runtime and compares every output with libtorch's and the golden's.</summary>
    private static void AssertMatches(string caseName, string folder, double tolerance, OnnxModelOptions? onnx = null)
    {
        var head = EngineParityTests.HeadOf(caseName);
        using var torchModel = InferenceModel.Load(TestPaths.Fixture("models", caseName), head, new InferenceModelOptions { Engine = Engine.LibTorch });
        using var onnxModel = InferenceModel.Load(folder, head, new InferenceModelOptions { Engine = Engine.OnnxRuntime, Onnx = onnx });
        using var g = new Goldens(caseName);
        var batch = GoldenBatch(g);
        Assert.IsTrue(batch.AttentionMask.Contains(0), "the batch has padding");
        var expected = torchModel.Run(batch);
        var actual = onnxModel.Run(batch);
        var report = new List<string>();
        foreach (var output in actual)
        {
            var mine = expected.TryGet(output.Name) ?? throw new AssertFailedException($"{caseName}: libtorch lacks output {output.Name}");
            CollectionAssert.AreEqual(mine.Shape, output.Shape, $"{caseName} {output.Name} shape");
            double vsTorch = MaxDiff(output, mine.GetData<float>());
            using var golden = g.Tensor(output.Name);
            double vsGolden = MaxDiff(output, golden.data<float>().ToArray());
            report.Add($"{output.Name}: libtorch {vsTorch:E2}, golden {vsGolden:E2}");
            Assert.IsTrue(vsTorch <= tolerance && vsGolden <= tolerance, $"{caseName}: {string.Join("; ", report)}");
        }
        CollectionAssert.AreEqual(OutputNames(head), actual.Select(o => o.Name).ToArray(), caseName);
    }

    /// <summary>The outputs an export of a <paramref name="head"/> model has, as Optimum names them.</summary>
    internal static string[] OutputNames(ModelHead head) => head switch
    {
        ModelHead.Base => ["last_hidden_state"],
        ModelHead.QuestionAnswering => ["start_logits", "end_logits"],
        _ => ["logits"],
    };

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void UnfusedExportMatchesLibtorch(string caseName) =>
        AssertMatches(caseName, Export(caseName, new OnnxExportOptions(), "plain"), 1e-5);

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void FusedExportMatchesLibtorch(string caseName) =>
        AssertMatches(caseName, Export(caseName, new OnnxExportOptions { Fuse = true }, "fused"), 1e-4);

    private static readonly OnnxExportOptions s_skipLayerNorm = new() { Fuse = true, SkipLayerNormalization = true };

    /// <summary>OnnxExportOptions.SkipLayerNormalization: within 1e-4 of libtorch and the goldens.</summary>
    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void SkipLayerNormalizationExportMatchesLibtorch(string caseName) =>
        AssertMatches(caseName, Export(caseName, s_skipLayerNorm, "fused-skipln"), 1e-4);

    /// <summary>OnnxExportOptions.SkipLayerNormalization: every residual + LayerNorm is com.microsoft SkipLayerNormalization,
    /// two per encoder layer (the embeddings' LayerNorm has no residual), and the graphs pass onnx.checker.</summary>
    [TestMethod]
    public void SkipLayerNormalizationExportsPassTheChecker()
    {
        var names = Cases.Select(c => (string)c[0]).ToList();
        var rows = RunChecker(names.Select(c => Path.Combine(Export(c, s_skipLayerNorm, "fused-skipln"), "onnx", "model.onnx")));
        Assert.AreEqual(names.Count, rows.Count);
        foreach (var (caseName, row) in names.Zip(rows))
        {
            Assert.IsTrue(row["ok"]!.GetValue<bool>(), row.ToJsonString());
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.Fixture("models", caseName), "config.json")))!;
            int layers = (config["num_hidden_layers"] ?? config["n_layers"])!.GetValue<int>();
            Assert.AreEqual(2 * layers, row["ops"]!["SkipLayerNormalization"]?.GetValue<int>(), $"{caseName}: {row.ToJsonString()}");
        }
    }

    [TestMethod]
    public void ExportHasOptimumLayoutAndNames()
    {
        foreach (var (caseName, inputs) in new[]
        {
            ("bert-qa", new[] { "input_ids", "attention_mask", "token_type_ids" }),
            ("roberta-seqcls", new[] { "input_ids", "attention_mask" }),
            ("distilbert-base", new[] { "input_ids", "attention_mask" }),
        })
        {
            string folder = Export(caseName, new OnnxExportOptions(), "plain");
            foreach (var f in new[] { "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "onnx/model.onnx" })
                Assert.IsTrue(File.Exists(Path.Combine(folder, f)), $"{caseName}: {f} missing");
            Assert.AreEqual(File.ReadAllText(TestPaths.Fixture("models", caseName, "tokenizer.json")), File.ReadAllText(Path.Combine(folder, "tokenizer.json")));
            Assert.IsFalse(Directory.EnumerateFiles(folder, "*tmp*", SearchOption.AllDirectories).Any(), "no temporary files are left");
            using var m = OnnxModel.FromPretrained(folder);
            CollectionAssert.AreEqual(inputs, m.InputNames.ToArray(), caseName);
            foreach (var input in m.InputMetadata.Values)
                CollectionAssert.AreEqual(new[] { "batch_size", "sequence_length" }, input.SymbolicDimensions, caseName);
        }
    }

    /// <summary>onnx.checker (full_check: shape inference too) on every export: plain, fused, quantized and external-data;
    /// and the operator set of each, as EncoderOnnx / BertOnnx and the README's ONNX export section document it.</summary>
    [TestMethod]
    public void ExportsPassOnnxChecker()
    {
        var files = new List<(string path, string caseName, string kind)>();
        foreach (var c in Cases.Select(c => (string)c[0]))
        {
            files.Add((Path.Combine(Export(c, new OnnxExportOptions(), "plain"), "onnx", "model.onnx"), c, "plain"));
            files.Add((Path.Combine(Export(c, new OnnxExportOptions { Fuse = true }, "fused"), "onnx", "model.onnx"), c, "fused"));
        }
        foreach (var c in new[] { "bert-seqcls", "roberta-mlm", "distilbert-tokcls" })
        {
            string quantized = Export(c, new OnnxExportOptions { Fuse = true, Quantize = true }, "fused-q8");
            files.Add((Path.Combine(quantized, "onnx", "model_quantized.onnx"), c, "fused-q8"));
        }
        files.Add((Path.Combine(Export("roberta-mlm", new OnnxExportOptions { ExternalDataThreshold = 0 }, "external"), "onnx", "model.onnx"), "roberta-mlm", "external"));

        var rows = RunChecker(files.Select(f => f.path));
        Assert.AreEqual(files.Count, rows.Count);
        foreach (var row in rows)
        {
            Assert.IsTrue(row["ok"]!.GetValue<bool>(), row.ToJsonString());
            Assert.AreEqual(17, row["opsets"]!["ai.onnx"]!.GetValue<int>(), row.ToJsonString());
            foreach (var (_, dims) in row["inputs"]!.AsObject())
                Assert.AreEqual("[\"batch_size\",\"sequence_length\"]", dims!.ToJsonString(), row.ToJsonString());
        }
        Assert.IsTrue(rows[^1]["external"]!.GetValue<int>() > 10, rows[^1].ToJsonString());

        for (int i = 0; i < files.Count; i++)
        {
            var (_, caseName, kind) = files[i];
            var row = rows[i];
            string arch = caseName[..caseName.IndexOf('-')];
            const int layers = 2; // every tiny fixture's num_hidden_layers / n_layers
            int Count(string op) => row["ops"]![op]?.GetValue<int>() ?? 0;
            int mlm = caseName.EndsWith("-mlm", StringComparison.Ordinal) ? 1 : 0;
            string what = $"{caseName} {kind}: {row["ops"]!.ToJsonString()}";
            string[] contrib = ["Attention", "MultiHeadAttention", "BiasGelu", "FastGelu", "EmbedLayerNormalization", "SkipLayerNormalization", "DynamicQuantizeMatMul"];
            if (kind is "plain" or "external")
            {
                // The default graph is portable: standard operators only.
                Assert.IsNull(row["opsets"]!["com.microsoft"], what);
                Assert.IsTrue(contrib.All(op => Count(op) == 0), what);
                Assert.AreEqual(layers + mlm, Count("Erf"), what + " (erf gelu written out per layer and in the MLM transform)");
                continue;
            }
            Assert.IsNotNull(row["opsets"]!["com.microsoft"], what);
            // Attention fused per layer: com.microsoft Attention, or after the quantized q/k/v projection MultiHeadAttention.
            Assert.AreEqual(kind == "fused" ? layers : 0, Count("Attention"), what);
            Assert.AreEqual(kind == "fused-q8" ? layers : 0, Count("MultiHeadAttention"), what);
            // Every fixture's activation is the erf "gelu": BiasGelu once per layer (and in the MLM transform: BERT's follows
            // hidden_act, RoBERTa's lm_head is erf gelu always, DistilBERT's vocab_transform follows activation); never FastGelu.
            Assert.AreEqual(layers + mlm, Count("BiasGelu"), what);
            Assert.AreEqual(0, Count("FastGelu"), what);
            Assert.AreEqual(0, Count("Erf"), what);
            // EmbedLayerNormalization for BERT only: RoBERTa's positions start after padding_idx, DistilBERT has no token types.
            Assert.AreEqual(arch == "bert" ? 1 : 0, Count("EmbedLayerNormalization"), what);
            // residual + LayerNorm stays Add + LayerNormalization (EncoderOnnx.AddLayerNorm: faster on ONNX Runtime's CPU).
            Assert.AreEqual(0, Count("SkipLayerNormalization"), what);
            Assert.IsTrue(Count("LayerNormalization") >= 2 * layers, what);
            if (kind == "fused-q8")
            {
                // every linear layer (q/k/v, output, FFN, head) is DynamicQuantizeMatMul: no float MatMul is left
                Assert.IsTrue(Count("DynamicQuantizeMatMul") >= 4 * layers, what);
                Assert.AreEqual(0, Count("MatMul"), what);
            }
            else Assert.AreEqual(0, Count("DynamicQuantizeMatMul"), what);
        }
    }

    internal static List<JsonNode> RunChecker(IEnumerable<string> files)
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) Assert.Inconclusive("Debian's /usr/bin/python3 (python3-onnx) runs onnx.checker.");
        var psi = new ProcessStartInfo(python, [Path.Combine(TestPaths.Fixtures, "scripts", "check_onnx.py"), .. files])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stderrTask = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var stderr = stderrTask.Result;
        if (stderr.Contains("No module named 'onnx'")) Assert.Inconclusive("python3-onnx is not installed.");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList() is { Count: > 0 } rows
            ? rows : throw new AssertFailedException($"check_onnx.py printed nothing: {stderr}");
    }

    [TestMethod]
    public void ExternalDataPathLoadsAndMatches()
    {
        string folder = Export("roberta-mlm", new OnnxExportOptions { ExternalDataThreshold = 0 }, "external");
        Assert.IsTrue(File.Exists(Path.Combine(folder, "onnx", "model.onnx_data")));
        Assert.IsTrue(new FileInfo(Path.Combine(folder, "onnx", "model.onnx")).Length < 64 * 1024, "the graph file holds no weights");
        AssertMatches("roberta-mlm", folder, 1e-5);

        // Exporting again below the threshold replaces the data file's use and removes the stale file.
        using var model = ModelRegistries.MaskedLM.FromPretrained(TestPaths.Fixture("models", "roberta-mlm"));
        model.ExportOnnx(folder);
        Assert.IsFalse(File.Exists(Path.Combine(folder, "onnx", "model.onnx_data")));
        AssertMatches("roberta-mlm", folder, 1e-5);
    }

    [TestMethod]
    public void QuantizedExportIsCloseToFp32()
    {
        foreach (var caseName in new[] { "bert-seqcls", "distilbert-tokcls" })
        {
            foreach (var fuse in new[] { false, true })
            {
                string folder = Export(caseName, new OnnxExportOptions { Fuse = fuse, Quantize = true }, fuse ? "fused-q8" : "q8");
                string q = Path.Combine(folder, "onnx", "model_quantized.onnx");
                Assert.IsTrue(File.Exists(q));
                var head = EngineParityTests.HeadOf(caseName);
                using var fp32 = InferenceModel.Load(folder, head, new InferenceModelOptions { Engine = Engine.OnnxRuntime });
                using var int8 = InferenceModel.Load(folder, head, new InferenceModelOptions { Engine = Engine.OnnxRuntime, Onnx = new OnnxModelOptions { Quantized = true } });
                using var g = new Goldens(caseName);
                var batch = GoldenBatch(g);
                var a = fp32.Run(batch)["logits"];
                var b = int8.Run(batch)["logits"];
                double diff = MaxDiff(b, a.GetData<float>());
                double scale = a.GetData<float>().Max(Math.Abs);
                // int8 weights and activations: close to fp32 but not equal (an identical result would mean nothing was quantized).
                Assert.IsTrue(diff > 0 && diff < 0.1 * scale, $"{caseName} fuse={fuse}: max diff {diff:E2}, max |logit| {scale:E2}");
            }
        }
    }

    [TestMethod]
    public void UnsupportedModelFailsClearlyAndWritesNothing()
    {
        using var model = ModelRegistries.ObjectDetection.FromPretrained(TestPaths.Fixture("vision", "models", "detr"));
        using var dir = new TempFolder();
        string target = Path.Combine(dir.Path, "out");
        var e = Assert.ThrowsExactly<NotSupportedException>(() => model.ExportOnnx(target));
        StringAssert.Contains(e.Message, "DetrForObjectDetection");
        StringAssert.Contains(e.Message, "SwinForImageClassification");
        StringAssert.Contains(e.Message, "BertForSequenceClassification");
        Assert.IsFalse(Directory.Exists(target));
    }

    [TestMethod]
    public void MissingTokenizerFolderFailsClearly()
    {
        using var model = ModelRegistries.Base.FromPretrained(TestPaths.Fixture("models", "bert-base"));
        using var dir = new TempFolder();
        var e = Assert.ThrowsExactly<DirectoryNotFoundException>(() => model.ExportOnnx(dir.File("out"), new OnnxExportOptions { TokenizerFolder = dir.File("nope") }));
        StringAssert.Contains(e.Message, "TokenizerFolder");
        Assert.IsFalse(Directory.Exists(dir.File("out")));
    }
}
