using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Tests.Models;
using Microsoft.ML.Transformers.Vision;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>image-classification and image-feature-extraction end to end (decode, Pillow-exact preprocessing, model,
/// postprocessing) against Pillow + torchvision doing the same (make_vision_fixtures.py).</summary>
[TestClass]
public class ImagePipelineTests
{
    private static string Model(string name) => TestPaths.Fixture("vision", "models", name);
    private static readonly string[] Images = ["photo-61x47.jpg", "alpha-50x39.png", "tall-45x70-gray.jpg"];

    [TestMethod]
    [DataRow("resnet-basic", Engine.LibTorch)]
    [DataRow("resnet-bottleneck", Engine.LibTorch)]
    [DataRow("convnext", Engine.LibTorch)]
    [DataRow("swin", Engine.LibTorch)]
    [DataRow("resnet-basic", Engine.OnnxRuntime)]
    [DataRow("resnet-bottleneck", Engine.OnnxRuntime)]
    [DataRow("convnext", Engine.OnnxRuntime)]
    [DataRow("swin", Engine.OnnxRuntime)]
    public void ClassificationScoresEqualTorchvision(string name, Engine engine)
    {
        using var pipe = ImageClassificationPipeline.FromPretrained(Model(name), engine: engine);
        Assert.AreEqual(engine, pipe.Engine);
        using var g = new Goldens($"vision-{name}");
        var inputs = Images.Select(i => (ImageInput)ImageProcessorTests.Image(i)).ToList();
        var batched = pipe.RunBatch(inputs, new PipelineParameters { ["batch_size"] = 2, ["top_k"] = null });
        for (int i = 0; i < Images.Length; i++)
        {
            var expected = g.Tensor($"pipeline.probs/{Images[i]}").data<float>().ToArray();
            var r = batched[i];
            Assert.AreEqual(expected.Length, r.Count, "top_k=null gives every label");
            for (int k = 1; k < r.Count; k++) Assert.IsTrue(r[k - 1].Score >= r[k].Score, "descending scores");
            foreach (var x in r) Assert.AreEqual(expected[int.Parse(x.Label["class_".Length..])], x.Score, 1e-5, $"{name} {Images[i]} {x.Label}");
            var single = pipe.Run(ImageProcessorTests.Image(Images[i]));
            Assert.AreEqual(5, single.Count, "top_k defaults to 5");
            Assert.AreEqual(r[0].Label, single[0].Label);
            Assert.AreEqual(r[0].Score, single[0].Score, 1e-6, "batched equals one by one");
        }
    }

    [TestMethod]
    public void FunctionToApplyAndTopK()
    {
        using var pipe = ImageClassificationPipeline.FromPretrained(Model("convnext"));
        var path = ImageProcessorTests.Image("photo-61x47.jpg");
        var none = pipe.Run(path, new PipelineParameters { ["function_to_apply"] = "none", ["top_k"] = 2 });
        var sigmoid = pipe.Run(path, new PipelineParameters { ["function_to_apply"] = "sigmoid", ["top_k"] = 2 });
        Assert.AreEqual(2, none.Count);
        Assert.AreEqual(1 / (1 + Math.Exp(-none[0].Score)), sigmoid[0].Score, 1e-9);
        Assert.ThrowsExactly<ArgumentException>(() => pipe.Run(path, new PipelineParameters { ["topk"] = 2 }));
    }

    [TestMethod]
    [DataRow("resnet-bottleneck")]
    [DataRow("convnext")]
    public void FeatureExtractionEqualsTorchvision(string name)
    {
        using var pipe = ImageFeatureExtractionPipeline.FromPretrained(Model(name));
        using var g = new Goldens($"vision-{name}");
        using var scope = NewDisposeScope();
        foreach (var img in Images)
        {
            var f = pipe.Run(ImageProcessorTests.Image(img));
            var expected = g.Tensor($"pipeline.last_hidden_state/{img}");
            CollectionAssert.AreEqual(expected.shape.Select(d => (int)d).ToArray(), f.Shape);
            Goldens.AssertClose(tensor(f.Data, expected.shape), expected, 1e-4, $"{name} {img}");
        }
        var pooled = pipe.Run(ImageProcessorTests.Image(Images[0]), new PipelineParameters { ["pool"] = true });
        Assert.AreEqual(1, pooled.Shape.Length);
    }

    [TestMethod]
    public void ACorruptImageInABatchNamesTheFile()
    {
        using var pipe = ImageClassificationPipeline.FromPretrained(Model("resnet-basic"));
        var e = Assert.ThrowsExactly<ImageDecodeException>(() => pipe.RunBatch(
            [ImageProcessorTests.Image("photo-61x47.jpg"), ImageProcessorTests.Image("bad-truncated.jpg")]));
        StringAssert.Contains(e.Message, "bad-truncated.jpg");
        Assert.ThrowsExactly<ArgumentException>(() => pipe.RunBatch([]));
    }
}
