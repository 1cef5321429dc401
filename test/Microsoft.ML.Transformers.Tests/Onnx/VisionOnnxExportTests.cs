using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Onnx;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Tests.SafeTensors;
using Microsoft.ML.Transformers.Tests.Vision;
using Microsoft.ML.Transformers.Vision;

namespace Microsoft.ML.Transformers.Tests.Onnx;

/// <summary>
/// model.ExportOnnx for ResNet (basic and bottleneck), ConvNeXt and Swin, each as base model, image classifier and
/// backbone (the tiny torchvision-weighted fixtures of make_vision_fixtures.py): the graphs pass onnx.checker, ONNX
/// Runtime running them gives the libtorch model's outputs within 1e-5 on a batch of 2 at two image sizes (one for Swin,
/// whose export fixes height and width to image_size), and the image pipelines on the exports give the torchvision
/// goldens.
/// </summary>
[TestClass]
public class VisionOnnxExportTests
{
    private static TempFolder? s_root;

    private static readonly string[] s_architectures = ["resnet-basic", "resnet-bottleneck", "convnext", "swin"];
    private static readonly string[] s_heads = ["base", "classification", "backbone"];

    public static IEnumerable<object[]> Cases => s_architectures.SelectMany(a => s_heads.Select(h => new object[] { a, h }));

    [ClassInitialize]
    public static void Init(TestContext _) => s_root = new TempFolder();

    [ClassCleanup]
    public static void Cleanup() => s_root?.Dispose();

    private static string Fixture(string arch, string head) => TestPaths.Fixture("vision", "models", head == "backbone" ? arch + "-backbone" : arch);

    private static ModelRegistry Registry(string head) => head switch
    {
        "base" => ModelRegistries.Base,
        "classification" => ModelRegistries.ImageClassification,
        _ => ModelRegistries.Backbone,
    };

    private static ModelHead Head(string head) => head == "classification" ? ModelHead.ImageClassification : ModelHead.Base;

    /// <summary>Exports fixture <paramref name="arch"/> as <paramref name="head"/> once per variant (cached for the class).</summary>
    internal static string Export(string arch, string head, OnnxExportOptions? options = null, string variant = "plain", int? swinImageSize = null)
    {
        string folder = Path.Combine(s_root!.Path, $"{arch}-{head}-{variant}");
        if (File.Exists(Path.Combine(folder, "onnx", "model.onnx"))) return folder;
        using var model = Registry(head).FromPretrained(Fixture(arch, head));
        if (swinImageSize is int size) ((SwinConfig)model.Config).ImageSize = size;
        model.ExportOnnx(folder, options);
        return folder;
    }

    /// <summary>Deterministic pixel values of a normalized image (roughly N(0, 1)).</summary>
    private static PixelValues Pixels(int batch, int height, int width, int seed)
    {
        var random = new Random(seed);
        var data = new float[batch * 3 * height * width];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 4 - 2);
        return new PixelValues(data, batch, height, width);
    }

    private static (int h, int w)[] Sizes(string arch) => arch == "swin" ? [(64, 64)] : [(64, 64), (56, 40)];

    /// <summary>Every output of the export on ONNX Runtime against the libtorch model on the same pixels.</summary>
    private static void AssertMatches(string arch, string head, string folder, double tolerance, (int h, int w)[]? sizes = null)
    {
        foreach (var (h, w) in sizes ?? Sizes(arch))
        {
            var pixels = Pixels(2, h, w, seed: h * 1000 + w);
            NamedTensors expected, actual;
            string[] want;
            if (head == "backbone")
            {
                using var torch = InferenceBackbone.Load(Fixture(arch, head), options: new InferenceModelOptions { Engine = Engine.LibTorch });
                using var onnx = InferenceBackbone.Load(folder, options: new InferenceModelOptions { Engine = Engine.OnnxRuntime });
                (expected, actual) = (torch.Run(pixels), onnx.Run(pixels));
                want = [.. torch.OutFeatures];
                using var graph = OnnxModel.FromPretrained(folder);
                CollectionAssert.AreEqual(want, graph.OutputNames.ToArray(), $"{arch}: one output per stage of out_features");
            }
            else
            {
                using var torch = InferenceModel.Load(Fixture(arch, head), Head(head), new InferenceModelOptions { Engine = Engine.LibTorch });
                using var onnx = InferenceModel.Load(folder, Head(head), new InferenceModelOptions { Engine = Engine.OnnxRuntime });
                (expected, actual) = (torch.RunPixels(pixels), onnx.RunPixels(pixels));
                want = head == "base" ? ["last_hidden_state", "pooler_output"] : ["logits"];
            }
            CollectionAssert.AreEqual(want, actual.Select(o => o.Name).ToArray(), $"{arch} {head}");
            foreach (var output in actual)
            {
                var mine = expected.TryGet(output.Name) ?? throw new AssertFailedException($"{arch} {head}: libtorch lacks output {output.Name}");
                CollectionAssert.AreEqual(mine.Shape, output.Shape, $"{arch} {head} {output.Name} shape at {h}x{w}");
                double diff = OnnxExportTests.MaxDiff(output, mine.GetData<float>());
                Console.WriteLine($"{arch} {head} {output.Name} {h}x{w}: max |onnx - libtorch| {diff:E2}");
                Assert.IsTrue(diff <= tolerance, $"{arch} {head} {output.Name} at {h}x{w}: max diff {diff:E2} > {tolerance:E0}");
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void ExportMatchesLibtorch(string arch, string head) => AssertMatches(arch, head, Export(arch, head), 1e-5);

    /// <summary>Fused (com.microsoft LayerNorm / GELU kernels) within 1e-4; int8 (the linear layers of ConvNeXt and Swin)
    /// close to fp32 but not equal.</summary>
    [TestMethod]
    [DataRow("convnext")]
    [DataRow("swin")]
    public void FusedAndQuantizedExports(string arch)
    {
        string folder = Export(arch, "classification", new OnnxExportOptions { Fuse = true, Quantize = true }, "fused-q8");
        AssertMatches(arch, "classification", folder, 1e-4);
        using var fp32 = InferenceModel.Load(folder, ModelHead.ImageClassification, new InferenceModelOptions { Engine = Engine.OnnxRuntime });
        using var int8 = InferenceModel.Load(folder, ModelHead.ImageClassification,
            new InferenceModelOptions { Engine = Engine.OnnxRuntime, Onnx = new OnnxModelOptions { Quantized = true } });
        var pixels = Pixels(2, 64, 64, 7);
        var a = fp32.RunPixels(pixels)["logits"];
        double diff = OnnxExportTests.MaxDiff(int8.RunPixels(pixels)["logits"], a.GetData<float>());
        double scale = a.GetData<float>().Max(Math.Abs);
        Assert.IsTrue(diff > 0 && diff < 0.1 * scale, $"{arch}: int8 vs fp32 max diff {diff:E2}, max |logit| {scale:E2}");
    }

    /// <summary>onnx.checker (full_check, with shape inference) on every export; pixel_values is dynamic in batch, and in
    /// height and width except for Swin.</summary>
    [TestMethod]
    public void ExportsPassOnnxChecker()
    {
        var files = Cases.Select(c => Path.Combine(Export((string)c[0], (string)c[1]), "onnx", "model.onnx")).ToList();
        foreach (var arch in new[] { "convnext", "swin" })
        {
            string q = Export(arch, "classification", new OnnxExportOptions { Fuse = true, Quantize = true }, "fused-q8");
            files.Add(Path.Combine(q, "onnx", "model.onnx"));
            files.Add(Path.Combine(q, "onnx", "model_quantized.onnx"));
        }
        var rows = OnnxExportTests.RunChecker(files);
        Assert.AreEqual(files.Count, rows.Count);
        foreach (var row in rows)
        {
            Assert.IsTrue(row["ok"]!.GetValue<bool>(), row.ToJsonString());
            Assert.AreEqual(17, row["opsets"]!["ai.onnx"]!.GetValue<int>(), row.ToJsonString());
            string dims = row["inputs"]!["pixel_values"]!.ToJsonString();
            bool swin = row["path"]!.GetValue<string>().Contains("swin-");
            Assert.AreEqual(swin ? "[\"batch_size\",3,64,64]" : "[\"batch_size\",3,\"height\",\"width\"]", dims, row.ToJsonString());
        }
    }

    [TestMethod]
    public void ExportHasOptimumLayout()
    {
        string folder = Export("convnext", "classification");
        foreach (var f in new[] { "config.json", "preprocessor_config.json", "onnx/model.onnx" })
            Assert.IsTrue(File.Exists(Path.Combine(folder, f)), $"{f} missing");
        Assert.AreEqual(File.ReadAllText(TestPaths.Fixture("vision", "models", "convnext", "preprocessor_config.json")),
            File.ReadAllText(Path.Combine(folder, "preprocessor_config.json")));
        var left = Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder, f)).Order().ToArray();
        CollectionAssert.AreEqual(new[] { "config.json", "onnx", Path.Combine("onnx", "model.onnx"), "preprocessor_config.json" }, left,
            "exactly the layout: no work folders, temporary files or weights");
    }

    /// <summary>
    /// Swin exported for image_size 70 (the fixture's weights): 70 is padded to whole patches (18 x 18), and the maps of
    /// 18, 9, 5 and 3 patches are padded to whole windows of 2, with shifted windows in every stage and odd sizes merged.
    /// </summary>
    [TestMethod]
    [DataRow("classification")]
    [DataRow("backbone")]
    public void SwinPadsPatchesAndWindows(string head) =>
        AssertMatches("swin", head, Export("swin", head, variant: "size70", swinImageSize: 70), 1e-5, [(70, 70)]);

    /// <summary>Swin's export takes image_size only; another size is refused by ONNX Runtime with the file named.</summary>
    [TestMethod]
    public void SwinExportRefusesOtherSizes()
    {
        using var onnx = InferenceModel.Load(Export("swin", "classification"), ModelHead.ImageClassification, new InferenceModelOptions { Engine = Engine.OnnxRuntime });
        var e = Assert.ThrowsExactly<OnnxModelException>(() => onnx.RunPixels(Pixels(1, 56, 40, 1)));
        StringAssert.Contains(e.Message, "model.onnx");
    }

    [TestMethod]
    [DataRow("resnet-basic")]
    [DataRow("resnet-bottleneck")]
    [DataRow("convnext")]
    [DataRow("swin")]
    public void ClassificationPipelineGoldensOnExport(string arch) =>
        ImagePipelineTests.AssertClassificationGoldens(arch, Export(arch, "classification"), Engine.OnnxRuntime);

    [TestMethod]
    [DataRow("resnet-bottleneck")]
    [DataRow("convnext")]
    public void FeatureExtractionPipelineGoldensOnExport(string arch) =>
        ImagePipelineTests.AssertFeatureGoldens(arch, Export(arch, "base"), Engine.OnnxRuntime);
}
