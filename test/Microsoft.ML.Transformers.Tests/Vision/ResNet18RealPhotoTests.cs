using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Transformers.Vision;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>
/// The real ImageNet ResNet-18 of Microsoft.ML.DnnImageFeaturizer.ResNet18, converted by eng/setup-resnet18.sh (run here
/// once when artifacts/resnet18 is missing), on real photos (Debian's python3-sklearn sample images): every stage's feature
/// map, on libtorch (our ResNet) and on ONNX Runtime (the folder's onnx/model.onnx: torchvision's ResNet with the converted
/// weights, exported by torch.onnx), equals ONNX Runtime's value at the matching node of the original graph (fed the same
/// pixels in its BGR order).
/// </summary>
[TestClass]
public class ResNet18RealPhotoTests
{
    private static readonly Lazy<(string? Folder, string? Why)> s_folder = new(Setup);

    private static (string?, string?) Setup()
    {
        var folder = Path.Combine(TestPaths.RepoRoot, "artifacts", "resnet18");
        if (File.Exists(Path.Combine(folder, "onnx", "model.onnx"))) return (folder, null);
        var psi = new ProcessStartInfo("bash", [Path.Combine(TestPaths.RepoRoot, "eng", "setup-resnet18.sh")]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd() + stderr.Result;
        p.WaitForExit();
        if (p.ExitCode == 0) return (folder, null);
        // only a package the feed cannot give makes the tests inconclusive; any other failure is a failure
        if (p.ExitCode == 2) return (null, $"Microsoft.ML.DnnImageFeaturizer.ResNet18 could not be restored: {output.Trim()}");
        throw new InvalidOperationException($"eng/setup-resnet18.sh failed (exit {p.ExitCode}):\n{output}");
    }

    [TestMethod]
    [TestCategory("Slow")]
    public void StagesOnBothEnginesEqualOnnxRuntimeOnTheOriginalGraph()
    {
        var photos = new[] { "china.jpg", "flower.jpg" }.Select(p => Path.Combine("/usr/lib/python3/dist-packages/sklearn/datasets/images", p)).ToList();
        if (photos.FirstOrDefault(p => !File.Exists(p)) is { } absent) Assert.Inconclusive($"{absent} is missing (apt-get install python3-sklearn)");
        var folder = s_folder.Value.Folder ?? throw new AssertInconclusiveException(s_folder.Value.Why ?? "");
        var processor = AutoImageProcessor.FromPretrained(folder);
        var stageNames = new[] { "stem", "stage1", "stage2", "stage3", "stage4" };
        using var session = new InferenceSession(Path.Combine(folder, "onnx", "ResNet18-stages.onnx"));
        var engines = new[] { Engine.LibTorch, Engine.OnnxRuntime }.Select(e => new InferenceModelOptions { Engine = e })
            .Select(o => (Backbone: InferenceBackbone.Load(folder, stageNames, options: o), Model: InferenceModel.Load(folder, ModelHead.Base, o))).ToList();
        try
        {
            foreach (var path in photos) Check(folder, processor.Preprocess(RgbImage.Load(path)), Path.GetFileName(path), session, engines);
        }
        finally
        {
            foreach (var (b, m) in engines) { b.Dispose(); m.Dispose(); }
        }
    }

    private static void Check(string folder, PixelValues pv, string photo, InferenceSession session, List<(IInferenceBackbone Backbone, IInferenceModel Model)> engines)
    {
        CollectionAssert.AreEqual(new long[] { 1, 3, 224, 224 }, pv.Shape);
        var stagesJson = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "onnx", "stages.json")))!;
        var stageNames = engines[0].Backbone.OutFeatures;
        var nodeNames = stageNames.Select(s => stagesJson["stages"]![s]!.GetValue<string>()).Append(stagesJson["pooled"]!.GetValue<string>()).ToList();

        // ONNX Runtime on the original graph: channels in BGR order.
        int plane = 224 * 224;
        var bgr = new float[pv.Data.Length];
        for (int c = 0; c < 3; c++) Array.Copy(pv.Data, (2 - c) * plane, bgr, c * plane, plane);
        using var ortOutputs = session.Run([NamedOnnxValue.CreateFromTensor(stagesJson["input"]!.GetValue<string>(), new DenseTensor<float>(bgr, [1, 3, 224, 224]))], nodeNames);
        var ort = ortOutputs.Select(o => o.AsTensor<float>()).ToList();

        using var scope = NewDisposeScope();
        foreach (var (backbone, model) in engines)
        {
            var engine = backbone.Engine;
            var maps = backbone.Run(pv).Append(model.RunPixels(pv)["pooler_output"]).ToList();
            var report = new List<string>();
            for (int i = 0; i < maps.Count; i++)
            {
                var expected = tensor(ort[i].ToArray(), ort[i].Dimensions.ToArray().Select(d => (long)d).ToArray());
                var actual = tensor(maps[i].GetData<float>(), maps[i].Shape);
                CollectionAssert.AreEqual(expected.shape, actual.shape, $"{engine} {nodeNames[i]}");
                double diff = actual.sub(expected).abs().max().item<float>(), scale = expected.abs().max().item<float>();
                report.Add($"{(i < 5 ? stageNames[i] : "pooled")} {diff:E1} (max |x| {scale:F1})");
                Assert.IsTrue(diff <= 1e-4 * Math.Max(1, scale), $"{engine} {photo} {nodeNames[i]}: {diff:E2} vs scale {scale:F2}");
            }
            Console.WriteLine($"{photo} {engine}: {string.Join(", ", report)}");
        }
    }
}
