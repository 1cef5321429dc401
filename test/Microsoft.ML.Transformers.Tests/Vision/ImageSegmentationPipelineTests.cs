using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Tests.Models;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>image-segmentation end to end on the UperNet fixture (Segformer-style resize, model, logits resized to the
/// image's size, arg-max, one 0/255 mask per class present) against Pillow + the torch.nn reference doing the same
/// (make_upernet_fixtures.py), on libtorch and on the reference's ONNX export.</summary>
[TestClass]
public class ImageSegmentationPipelineTests
{
    private static readonly string Folder = TestPaths.Fixture("vision", "models", "upernet-convnext");
    private static readonly string[] Images = ["photo-61x47.jpg", "alpha-50x39.png", "tall-45x70-gray.jpg"];
    private static readonly string[] Labels = ["road", "sky", "tree", "car", "person"];

    [TestMethod]
    [DataRow(Engine.LibTorch)]
    [DataRow(Engine.OnnxRuntime)]
    public void MasksEqualTheReference(Engine engine)
    {
        using var pipe = ImageSegmentationPipeline.FromPretrained(Folder, engine: engine);
        Assert.AreEqual(engine, pipe.Engine);
        using var g = new Goldens("vision-upernet-convnext");
        var results = pipe.RunBatch(Images.Select(i => (ImageInput)ImageProcessorTests.Image(i)).ToList(), new PipelineParameters { ["batch_size"] = 2 });
        for (int i = 0; i < Images.Length; i++)
        {
            using var map = g.Tensor($"pipeline.segmentation/{Images[i]}");
            int h = (int)map.size(0), w = (int)map.size(1);
            var expected = map.data<long>().Select(v => (int)v).ToArray();
            var ids = expected.Distinct().Order().ToArray();
            Assert.IsTrue(ids.Length >= 2, "the fixture should have several classes present");
            CollectionAssert.AreEqual(ids.Select(id => Labels[id]).ToArray(), results[i].Select(r => r.Label).ToArray(), $"{engine} {Images[i]}: labels present");
            foreach (var (r, id) in results[i].Zip(ids))
            {
                Assert.IsNull(r.Score, "semantic segments have no score, as in Hugging Face");
                Assert.AreEqual((w, h), (r.Mask.Width, r.Mask.Height), "mask at the image's size");
                CollectionAssert.AreEqual(expected.Select(v => v == id ? (byte)255 : (byte)0).ToArray(), r.Mask.Pixels, $"{engine} {Images[i]} {r.Label} mask");
            }
            Assert.AreEqual(w * h, results[i].Sum(r => r.Mask.Area), "the masks tile the image");
        }
        var single = pipe.Run(ImageProcessorTests.Image(Images[1]), new PipelineParameters { ["subtask"] = "semantic", ["threshold"] = 0.9 });
        CollectionAssert.AreEqual(results[1].Select(r => r.Label).ToArray(), single.Select(r => r.Label).ToArray(), "one by one equals batched");
    }

    [TestMethod]
    public void BadParametersAreRefused()
    {
        using var pipe = Microsoft.ML.Transformers.Pipelines.Pipelines.Create<ImageSegmentationPipeline>("image-segmentation", Folder);
        Assert.AreEqual(Engine.LibTorch, pipe.Engine);
        var image = ImageProcessorTests.Image(Images[0]);
        Assert.ThrowsExactly<NotSupportedException>(() => pipe.Run(image, new PipelineParameters { ["subtask"] = "panoptic" }));
        var e = Assert.ThrowsExactly<ArgumentException>(() => pipe.Run(image, new PipelineParameters { ["mask_threshold"] = 1.5 }));
        StringAssert.Contains(e.Message, "mask_threshold");
        Assert.ThrowsExactly<ArgumentException>(() => pipe.Run(image, new PipelineParameters { ["top_k"] = 1 }));
    }
}
