using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Onnx;
using Microsoft.ML.Transformers.Tests.Pipelines;

namespace Microsoft.ML.Transformers.Tests.Onnx;

/// <summary>
/// Our ONNX exports of the pipeline fixtures' models (written by model.ExportOnnx from the safetensors checkpoints) load
/// in our pipelines and in Transformers.js, and give the Transformers.js pipeline goldens (made on the torch.onnx exports
/// by test/fixtures/pipelines/make_goldens.mjs): our pipelines on ONNX Runtime run every golden test on the exports, and
/// Transformers.js 4.3.1 itself runs make_goldens.mjs on the exports, whose output must equal the committed goldens.
/// </summary>
[TestClass]
public class ExportedPipelineTests
{
    private static readonly string[] s_tasks =
        ["text-classification", "token-classification", "question-answering", "fill-mask", "feature-extraction", "zero-shot-classification"];

    private static readonly Lazy<string> s_exports = new(ExportAll, LazyThreadSafetyMode.ExecutionAndPublication);

    [ClassCleanup]
    public static void Cleanup()
    {
        if (s_exports.IsValueCreated) Directory.Delete(s_exports.Value, recursive: true);
    }

    private static ModelRegistry RegistryFor(string name) =>
        name.Contains("seqcls") || name.Contains("nli") ? ModelRegistries.SequenceClassification
        : name.Contains("tokcls") ? ModelRegistries.TokenClassification
        : name.EndsWith("-qa", StringComparison.Ordinal) ? ModelRegistries.QuestionAnswering
        : name.EndsWith("-mlm", StringComparison.Ordinal) ? ModelRegistries.MaskedLM
        : ModelRegistries.Base;

    /// <summary>Exports every model the goldens name (unfused, fp32: what Transformers.js loads by default) into one folder.</summary>
    private static string ExportAll()
    {
        var root = Path.Combine(Path.GetTempPath(), "mlt-exported-pipelines-" + Guid.NewGuid().ToString("N"));
        var names = s_tasks.SelectMany(t => PipelineFixtures.Cases(t).Select(c => (string)c!["model"]!)).Distinct();
        foreach (var name in names)
        {
            using var model = RegistryFor(name).FromPretrained(PipelineFixtures.Model(name));
            model.ExportOnnx(Path.Combine(root, name));
            Assert.IsFalse(File.Exists(Path.Combine(root, name, "model.safetensors")));
        }
        return root;
    }

    private static void OnExports(Action<Engine> goldenTest)
    {
        string root = s_exports.Value;
        int redirected = 0;
        using (PipelineFixtures.RedirectModels((name, _) =>
        {
            redirected++;
            return Path.Combine(root, name);
        }))
            goldenTest(Engine.OnnxRuntime);
        Assert.IsTrue(redirected > 0, "the golden test ran on the exported folders");
    }

    [TestMethod] public void TextClassification() => OnExports(new TextClassificationGoldenTests().MatchesTransformersJs);
    [TestMethod] public void TokenClassification() => OnExports(new TokenClassificationGoldenTests().MatchesTransformersJs);
    [TestMethod] public void QuestionAnswering() => OnExports(new QuestionAnsweringGoldenTests().MatchesTransformersJs);
    [TestMethod] public void FillMask() => OnExports(new FillMaskGoldenTests().MatchesTransformersJs);
    [TestMethod] public void FeatureExtraction() => OnExports(new FeatureExtractionGoldenTests().MatchesTransformersJs);
    [TestMethod] public void ZeroShotClassification() => OnExports(new ZeroShotClassificationGoldenTests().MatchesTransformersJs);

    /// <summary>Transformers.js runs the golden script on our exports; every output equals the committed golden within 1e-4.</summary>
    [TestMethod]
    public void TransformersJsRunsTheExports()
    {
        string root = s_exports.Value;
        string outDir = Path.Combine(root, "_goldens");
        Directory.CreateDirectory(outDir);
        TransformersJsOracle.Run(Path.Combine(TestPaths.Fixtures, "pipelines", "make_goldens.mjs"), "--models", root, "--out", outDir);
        foreach (var task in s_tasks)
        {
            var expected = JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("pipelines", "goldens", task + ".json")))!["cases"]!;
            var actual = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, task + ".json")))!["cases"]!;
            AssertClose(expected, actual, task);
        }
    }

    private static void AssertClose(JsonNode? expected, JsonNode? actual, string where)
    {
        switch (expected)
        {
            case JsonArray e:
                var a = actual as JsonArray ?? throw new AssertFailedException($"{where}: expected an array, found {actual?.ToJsonString()}");
                Assert.AreEqual(e.Count, a.Count, where);
                for (int i = 0; i < e.Count; i++) AssertClose(e[i], a[i], $"{where}[{i}]");
                break;
            case JsonObject e:
                var o = actual as JsonObject ?? throw new AssertFailedException($"{where}: expected an object, found {actual?.ToJsonString()}");
                CollectionAssert.AreEquivalent(e.Select(kv => kv.Key).ToArray(), o.Select(kv => kv.Key).ToArray(), where);
                foreach (var (k, v) in e) AssertClose(v, o[k], $"{where}.{k}");
                break;
            case JsonValue e when e.TryGetValue(out double x):
                double y = actual!.GetValue<double>();
                Assert.IsTrue(Math.Abs(x - y) <= 1e-4, $"{where}: {x} vs {y}");
                break;
            default:
                Assert.AreEqual(expected?.ToJsonString(), actual?.ToJsonString(), where);
                break;
        }
    }
}
