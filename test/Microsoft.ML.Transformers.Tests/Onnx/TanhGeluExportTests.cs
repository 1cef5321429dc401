using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Onnx;
using Microsoft.ML.Transformers.Tests.Models;
using Microsoft.ML.Transformers.Tests.SafeTensors;

namespace Microsoft.ML.Transformers.Tests.Onnx;

/// <summary>
/// The tanh GELU path of the export (every committed fixture uses the erf "gelu"): a tiny fixture with its activation
/// switched to gelu_new / gelu_pytorch_tanh / gelu_fast in config.json, loaded on libtorch (whose tanh GELU
/// ActivationTests checks against the formula) and exported. Fused, the feed-forward activation is com.microsoft FastGelu
/// (never BiasGelu, which is erf); unfused it is written out with Tanh. On ONNX Runtime both give the libtorch model's
/// outputs on the goldens' padded batch within 1e-4 (fused) and 1e-5 (unfused).
/// </summary>
[TestClass]
public class TanhGeluExportTests
{
    public static IEnumerable<object[]> Cases =>
        from arch in new[] { ("bert", "gelu_new"), ("roberta", "gelu_pytorch_tanh"), ("distilbert", "gelu_fast") }
        from head in new[] { "base", "seqcls", "tokcls", "qa", "mlm" }
        select new object[] { $"{arch.Item1}-{head}", arch.Item2 };

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void FusedExportUsesFastGeluAndMatchesLibtorch(string caseName, string act)
    {
        using var dir = new TempFolder();
        string source = Path.Combine(dir.Path, "model");
        Directory.CreateDirectory(source);
        foreach (var f in Directory.EnumerateFiles(TestPaths.Fixture("models", caseName)))
            File.Copy(f, Path.Combine(source, Path.GetFileName(f)));
        bool distil = caseName.StartsWith("distilbert", StringComparison.Ordinal);
        string key = distil ? "activation" : "hidden_act";
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "config.json")))!;
        Assert.AreEqual("gelu", config[key]!.GetValue<string>(), "the fixture's activation is the erf gelu");
        config[key] = act;
        File.WriteAllText(Path.Combine(source, "config.json"), config.ToJsonString());

        string fused = Path.Combine(dir.Path, "fused"), plain = Path.Combine(dir.Path, "plain");
        using (var model = ModelParityTests.RegistryFor(caseName).FromPretrained(source))
        {
            model.ExportOnnx(fused, new OnnxExportOptions { Fuse = true });
            model.ExportOnnx(plain);
        }

        var head = EngineParityTests.HeadOf(caseName);
        using var torchModel = InferenceModel.Load(source, head, new InferenceModelOptions { Engine = Engine.LibTorch });
        using var g = new Goldens(caseName);
        var batch = OnnxExportTests.GoldenBatch(g);
        Assert.IsTrue(batch.AttentionMask.Contains(0), "the batch has padding");
        var expected = torchModel.Run(batch);

        // The switch took effect: the libtorch model no longer gives the erf model's golden outputs.
        string[] names = OnnxExportTests.OutputNames(head);
        double vsErf = names.Max(n => { using var t = g.Tensor(n); return OnnxExportTests.MaxDiff(expected[n], t.data<float>().ToArray()); });
        Assert.IsTrue(vsErf > 1e-5, $"{caseName} {act}: outputs within {vsErf:E2} of the erf goldens");

        foreach (var (folder, tolerance) in new[] { (fused, 1e-4), (plain, 1e-5) })
        {
            using var onnxModel = InferenceModel.Load(folder, head, new InferenceModelOptions { Engine = Engine.OnnxRuntime });
            var actual = onnxModel.Run(batch);
            CollectionAssert.AreEqual(names, actual.Select(o => o.Name).ToArray(), caseName);
            foreach (var output in actual)
            {
                var mine = expected[output.Name];
                CollectionAssert.AreEqual(mine.Shape, output.Shape, $"{caseName} {output.Name} shape");
                double diff = OnnxExportTests.MaxDiff(output, mine.GetData<float>());
                Console.WriteLine($"{caseName} {act} {Path.GetFileName(folder)} {output.Name}: {diff:E2} from libtorch; libtorch {vsErf:E2} from the erf goldens");
                Assert.IsTrue(diff <= tolerance, $"{caseName} {act} {Path.GetFileName(folder)} {output.Name}: {diff:E2} from libtorch (tolerance {tolerance:E0}; erf goldens {vsErf:E2})");
            }
        }

        var rows = OnnxExportTests.RunChecker([Path.Combine(fused, "onnx", "model.onnx"), Path.Combine(plain, "onnx", "model.onnx")]);
        foreach (var row in rows) Assert.IsTrue(row["ok"]!.GetValue<bool>(), row.ToJsonString());
        int Count(JsonNode row, string op) => row["ops"]![op]?.GetValue<int>() ?? 0;
        const int layers = 2;
        bool mlm = caseName.EndsWith("-mlm", StringComparison.Ordinal);
        // RoBERTa's lm_head applies the erf gelu whatever hidden_act says (modeling_roberta.py RobertaLMHead); BERT's MLM
        // transform follows hidden_act and DistilBERT's vocab_transform follows activation.
        bool erfHead = mlm && caseName.StartsWith("roberta", StringComparison.Ordinal);
        int tanhGelus = layers + (mlm && !erfHead ? 1 : 0);
        string what = $"{caseName} {act}: fused {rows[0]["ops"]!.ToJsonString()}";
        Assert.AreEqual(tanhGelus, Count(rows[0], "FastGelu"), what);
        Assert.AreEqual(erfHead ? 1 : 0, Count(rows[0], "BiasGelu"), what);
        Assert.AreEqual(0, Count(rows[0], "Erf"), what);
        what = $"{caseName} {act}: unfused {rows[1]["ops"]!.ToJsonString()}";
        Assert.IsNull(rows[1]["opsets"]!["com.microsoft"], what);
        Assert.AreEqual(erfHead ? 1 : 0, Count(rows[1], "Erf"), what);
        Assert.IsTrue(Count(rows[1], "Tanh") >= tanhGelus, what);
    }
}
