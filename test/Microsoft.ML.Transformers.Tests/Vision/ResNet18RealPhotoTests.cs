using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Transformers.Vision;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>
/// The real ImageNet ResNet-18 of Microsoft.ML.DnnImageFeaturizer.ResNet18, converted by eng/setup-resnet18.sh, on real
/// photos (Debian's python3-sklearn sample images): every stage's feature map on libtorch equals ONNX Runtime's value at
/// the matching node of the original graph (fed the same pixels in its BGR order).
/// </summary>
[TestClass]
public class ResNet18RealPhotoTests
{
    [TestMethod]
    [TestCategory("Slow")]
    [DataRow("china.jpg")]
    [DataRow("flower.jpg")]
    public void StagesEqualOnnxRuntimeOnTheOriginalGraph(string photo)
    {
        var folder = Path.Combine(TestPaths.RepoRoot, "artifacts", "resnet18");
        if (!File.Exists(Path.Combine(folder, "model.safetensors"))) Assert.Inconclusive("run eng/setup-resnet18.sh first");
        var path = Path.Combine("/usr/lib/python3/dist-packages/sklearn/datasets/images", photo);
        if (!File.Exists(path)) Assert.Inconclusive($"{path} is missing (apt-get install python3-sklearn)");

        var processor = AutoImageProcessor.FromPretrained(folder);
        var pv = processor.Preprocess(RgbImage.Load(path));
        CollectionAssert.AreEqual(new long[] { 1, 3, 224, 224 }, pv.Shape);
        var stagesJson = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "onnx", "stages.json")))!;
        var stageNames = new[] { "stem", "stage1", "stage2", "stage3", "stage4" };
        var nodeNames = stageNames.Select(s => stagesJson["stages"]![s]!.GetValue<string>()).Append(stagesJson["pooled"]!.GetValue<string>()).ToList();

        // ONNX Runtime on the original graph: channels in BGR order.
        int plane = 224 * 224;
        var bgr = new float[pv.Data.Length];
        for (int c = 0; c < 3; c++) Array.Copy(pv.Data, (2 - c) * plane, bgr, c * plane, plane);
        using var session = new InferenceSession(Path.Combine(folder, "onnx", "ResNet18-stages.onnx"));
        using var ortOutputs = session.Run([NamedOnnxValue.CreateFromTensor(stagesJson["input"]!.GetValue<string>(), new DenseTensor<float>(bgr, [1, 3, 224, 224]))], nodeNames);
        var ort = ortOutputs.Select(o => o.AsTensor<float>()).ToList();

        using var backbone = AutoBackbone.FromPretrained(folder, stageNames);
        using var model = AutoModel.FromPretrained(folder);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = pv.ToTensor();
        var maps = backbone.ForwardBackbone(x).FeatureMaps.Append(model.Forward(new ModelInputs { PixelValues = x }).PoolerOutput!).ToList();
        var report = new List<string>();
        for (int i = 0; i < maps.Count; i++)
        {
            var expected = tensor(ort[i].ToArray(), ort[i].Dimensions.ToArray().Select(d => (long)d).ToArray());
            CollectionAssert.AreEqual(expected.shape, maps[i].shape, nodeNames[i]);
            double diff = maps[i].sub(expected).abs().max().item<float>(), scale = expected.abs().max().item<float>();
            report.Add($"{(i < 5 ? stageNames[i] : "pooled")} {diff:E1} (max |x| {scale:F1})");
            Assert.IsTrue(diff <= 1e-4 * Math.Max(1, scale), $"{photo} {nodeNames[i]}: {diff:E2} vs scale {scale:F2}");
        }
        Console.WriteLine($"{photo}: {string.Join(", ", report)}");
    }
}
