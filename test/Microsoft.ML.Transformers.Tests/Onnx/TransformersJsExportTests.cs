using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Onnx;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Tests.Models;
using Microsoft.ML.Transformers.Tests.SafeTensors;
using Microsoft.ML.Transformers.Tests.Vision;

namespace Microsoft.ML.Transformers.Tests.Onnx;

/// <summary>
/// Transformers.js 4.3.1 (the oracle, through test/fixtures/scripts/run_transformersjs.mjs) loading our exports:
/// its image-classification pipeline on our vision exports, and its "q8" loader (onnx/model_quantized.onnx) on our
/// int8 text exports.
/// </summary>
[TestClass]
public class TransformersJsExportTests
{
    private static TempFolder? s_root;

    [ClassInitialize]
    public static void Init(TestContext _) => s_root = new TempFolder();

    [ClassCleanup]
    public static void Cleanup() => s_root?.Dispose();

    /// <summary>Runs the jobs through Transformers.js (run_transformersjs.mjs) and returns its results by job id.</summary>
    private static JsonNode RunTransformersJs(JsonArray jobs)
    {
        string request = s_root!.File($"request-{Guid.NewGuid():N}.json");
        File.WriteAllText(request, jobs.ToJsonString());
        return JsonNode.Parse(TransformersJsOracle.Run(Path.Combine(TestPaths.Fixtures, "scripts", "run_transformersjs.mjs"), request))!;
    }

    /// <summary>
    /// Transformers.js' image-classification pipeline runs our export of each vision classifier and gives, label for
    /// label, the scores it gives on torchvision's own torch.onnx export of the same weights (the fixture's
    /// onnx/model.onnx, make_vision_fixtures.py) within 1e-4. For ResNet (ViTImageProcessor: a plain resize) they also
    /// equal the Pillow + torchvision goldens within 1e-4; for ConvNeXt and Swin Transformers.js' own resize and crop
    /// (sharp, not Pillow) move the scores by up to 3e-2 and 6e-3 on both exports alike, so only the first check applies.
    /// </summary>
    [TestMethod]
    public void ImageClassificationPipelineRunsVisionExports()
    {
        string[] archs = ["resnet-basic", "resnet-bottleneck", "convnext", "swin"];
        var images = ImagePipelineTests.Images.Select(ImageProcessorTests.Image).ToArray();
        var jobs = new JsonArray();
        foreach (var arch in archs)
        {
            string fixture = TestPaths.Fixture("vision", "models", arch);
            string ours = Path.Combine(s_root!.Path, arch);
            using (var model = ModelRegistries.ImageClassification.FromPretrained(fixture)) model.ExportOnnx(ours);
            foreach (var (id, folder) in new[] { ("ours", ours), ("torchvision", fixture) })
                jobs.Add(new JsonObject
                {
                    ["id"] = $"{arch}/{id}", ["folder"] = folder, ["dtype"] = "fp32", ["task"] = "image-classification",
                    ["images"] = new JsonArray(images.Select(i => (JsonNode)i).ToArray()), ["top_k"] = 5,
                });
        }
        var results = RunTransformersJs(jobs);
        foreach (var arch in archs)
        {
            var ours = results[$"{arch}/ours"]!.AsArray();
            var reference = results[$"{arch}/torchvision"]!.AsArray();
            Assert.AreEqual(images.Length, ours.Count, arch);
            for (int i = 0; i < images.Length; i++)
            {
                var a = ours[i]!.AsArray();
                var b = reference[i]!.AsArray();
                Assert.AreEqual(5, a.Count, $"{arch} {images[i]}: every label");
                var scores = b.ToDictionary(r => r!["label"]!.GetValue<string>(), r => r!["score"]!.GetValue<double>());
                using var g = new Goldens($"vision-{arch}");
                var golden = g.Tensor($"pipeline.probs/{ImagePipelineTests.Images[i]}").data<float>().ToArray();
                foreach (var r in a)
                {
                    string label = r!["label"]!.GetValue<string>();
                    double score = r["score"]!.GetValue<double>();
                    Assert.AreEqual(scores[label], score, 1e-4, $"{arch} {images[i]} {label}: ours vs torchvision's export");
                    if (arch.StartsWith("resnet", StringComparison.Ordinal))
                        Assert.AreEqual(golden[int.Parse(label["class_".Length..])], score, 1e-4, $"{arch} {images[i]} {label}: vs the Pillow goldens");
                }
            }
        }
    }

    /// <summary>
    /// Transformers.js loads our int8 export with dtype "q8" (onnx/model_quantized.onnx, com.microsoft
    /// DynamicQuantizeMatMul, run by onnxruntime-node) and its logits on the goldens' padded batch equal ours from ONNX
    /// Runtime on the same file within 1e-4, for the portable and the fused int8 graphs.
    /// </summary>
    [TestMethod]
    public void Q8LoaderRunsQuantizedTextExports()
    {
        var cases = new[] { ("bert-seqcls", false), ("bert-seqcls", true), ("distilbert-tokcls", false) };
        var jobs = new JsonArray();
        var ours = new Dictionary<string, NamedTensor>();
        foreach (var (caseName, fuse) in cases)
        {
            string id = $"{caseName}-{(fuse ? "fused" : "plain")}";
            string folder = Path.Combine(s_root!.Path, id);
            using (var model = ModelParityTests.RegistryFor(caseName).FromPretrained(TestPaths.Fixture("models", caseName)))
                model.ExportOnnx(folder, new OnnxExportOptions { Quantize = true, Fuse = fuse });
            using var g = new Goldens(caseName);
            var batch = OnnxExportTests.GoldenBatch(g);
            using (var int8 = InferenceModel.Load(folder, EngineParityTests.HeadOf(caseName),
                new InferenceModelOptions { Engine = Engine.OnnxRuntime, Onnx = new OnnxModelOptions { Quantized = true } }))
                ours[id] = int8.Run(batch)["logits"];
            JsonObject Feed(long[] data) => new()
            {
                ["dims"] = new JsonArray(batch.BatchSize, batch.SequenceLength),
                ["data"] = new JsonArray(data.Select(x => (JsonNode)x).ToArray()),
            };
            var feeds = new JsonObject { ["input_ids"] = Feed(batch.InputIds), ["attention_mask"] = Feed(batch.AttentionMask) };
            if (caseName.StartsWith("bert", StringComparison.Ordinal)) feeds["token_type_ids"] = Feed(batch.TokenTypeIds!);
            foreach (var dtype in new[] { "q8", "fp32" })
                jobs.Add(new JsonObject
                {
                    ["id"] = $"{id}/{dtype}", ["folder"] = folder, ["dtype"] = dtype, ["feeds"] = feeds.DeepClone(),
                    ["model"] = caseName.EndsWith("seqcls", StringComparison.Ordinal) ? "AutoModelForSequenceClassification" : "AutoModelForTokenClassification",
                });
        }
        var results = RunTransformersJs(jobs);
        foreach (var (id, mine) in ours)
        {
            float[] Logits(string dtype)
            {
                var logits = results[$"{id}/{dtype}"]!["logits"]!;
                CollectionAssert.AreEqual(mine.Shape.Select(d => (long)d).ToArray(), logits["dims"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray(), id);
                return logits["data"]!.AsArray().Select(x => (float)x!.GetValue<double>()).ToArray();
            }
            double diff = OnnxExportTests.MaxDiff(mine, Logits("q8"));
            Console.WriteLine($"{id}: max |Transformers.js q8 - ours| {diff:E2}");
            Assert.IsTrue(diff <= 1e-4, $"{id}: Transformers.js q8 vs our ONNX Runtime run of model_quantized.onnx: max diff {diff:E2}");
            // fp32 (model.onnx) differs: Transformers.js did read the int8 graph for q8.
            Assert.IsTrue(OnnxExportTests.MaxDiff(mine, Logits("fp32")) > 1e-6, $"{id}: q8 and fp32 logits are the same");
        }
    }
}
