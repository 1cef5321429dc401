using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Tests.Models;
using Microsoft.ML.Transformers.Vision;
using static TorchSharp.torch;
using PipelineFactory = Microsoft.ML.Transformers.Pipelines.Pipelines;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>image-classification and image-feature-extraction end to end (decode, Pillow-exact preprocessing, model,
/// postprocessing) against Pillow + torchvision doing the same (make_vision_fixtures.py).</summary>
[TestClass]
public class ImagePipelineTests
{
    private static string Model(string name) => TestPaths.Fixture("vision", "models", name);
    internal static readonly string[] Images = ["photo-61x47.jpg", "alpha-50x39.png", "tall-45x70-gray.jpg"];

    [TestMethod]
    [DataRow("resnet-basic", Engine.LibTorch)]
    [DataRow("resnet-bottleneck", Engine.LibTorch)]
    [DataRow("convnext", Engine.LibTorch)]
    [DataRow("swin", Engine.LibTorch)]
    [DataRow("resnet-basic", Engine.OnnxRuntime)]
    [DataRow("resnet-bottleneck", Engine.OnnxRuntime)]
    [DataRow("convnext", Engine.OnnxRuntime)]
    [DataRow("swin", Engine.OnnxRuntime)]
    public void ClassificationScoresEqualTorchvision(string name, Engine engine) => AssertClassificationGoldens(name, Model(name), engine);

    /// <summary>The image-classification pipeline on <paramref name="folder"/> gives the torchvision goldens of fixture <paramref name="name"/>.</summary>
    internal static void AssertClassificationGoldens(string name, string folder, Engine engine)
    {
        using var pipe = ImageClassificationPipeline.FromPretrained(folder, engine: engine);
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
    [DataRow("resnet-bottleneck", Engine.LibTorch)]
    [DataRow("convnext", Engine.LibTorch)]
    [DataRow("resnet-bottleneck", Engine.OnnxRuntime)]
    [DataRow("convnext", Engine.OnnxRuntime)]
    public void FeatureExtractionEqualsTorchvision(string name, Engine engine) => AssertFeatureGoldens(name, Model(name), engine);

    /// <summary>The image-feature-extraction pipeline on <paramref name="folder"/> gives the torchvision goldens of fixture <paramref name="name"/>.</summary>
    internal static void AssertFeatureGoldens(string name, string folder, Engine engine)
    {
        using var pipe = ImageFeatureExtractionPipeline.FromPretrained(folder, engine: engine);
        Assert.AreEqual(engine, pipe.Engine);
        using var g = new Goldens($"vision-{name}");
        using var scope = NewDisposeScope();
        var batched = pipe.RunBatch(Images.Select(i => (ImageInput)ImageProcessorTests.Image(i)).ToList(), new PipelineParameters { ["batch_size"] = 3 });
        for (int i = 0; i < Images.Length; i++)
        {
            var expected = g.Tensor($"pipeline.last_hidden_state/{Images[i]}");
            CollectionAssert.AreEqual(expected.shape.Select(d => (int)d).ToArray(), batched[i].Shape);
            Goldens.AssertClose(tensor(batched[i].Data, expected.shape), expected, 1e-4, $"{name} {Images[i]}");
        }
    }

    [TestMethod]
    [DataRow("resnet-basic")]
    [DataRow("convnext")]
    [DataRow("swin")]
    public void PooledAndTokenFeaturesAgreeAcrossEngines(string name)
    {
        using var torch = ImageFeatureExtractionPipeline.FromPretrained(Model(name), engine: Engine.LibTorch);
        using var onnx = ImageFeatureExtractionPipeline.FromPretrained(Model(name), engine: Engine.OnnxRuntime);
        var path = ImageProcessorTests.Image("photo-61x47.jpg");
        foreach (bool pool in new[] { false, true })
        {
            var p = new PipelineParameters { ["pool"] = pool };
            var a = torch.Run(path, p);
            var b = onnx.Run(path, p);
            CollectionAssert.AreEqual(a.Shape, b.Shape, $"{name} pool={pool}");
            if (pool) Assert.AreEqual(1, a.Shape.Length);
            double worst = a.Data.Zip(b.Data, (x, y) => (double)Math.Abs(x - y)).Max();
            Assert.IsTrue(worst <= 1e-4, $"{name} pool={pool}: {worst:E2}");
        }
    }

    [TestMethod]
    public void RegisteredLikeTheTextTasks()
    {
        CollectionAssert.IsSubsetOf(new[] { "image-classification", "image-feature-extraction" }, PipelineRegistry.Tasks.ToArray());
        Assert.AreEqual(PipelineInputType.Image, PipelineRegistry.Get("image-classification").InputType);
        Assert.AreEqual(ModelHead.ImageClassification, PipelineRegistry.Get("image-classification").Head);
        var path = ImageProcessorTests.Image("photo-61x47.jpg");
        foreach (var engine in new[] { Engine.LibTorch, Engine.OnnxRuntime })
        {
            using var created = PipelineFactory.Create("image-classification", Model("swin"),
                new PipelineOptions { Engine = engine, Parameters = new PipelineParameters { ["top_k"] = 3 } });
            var pipe = (ImageClassificationPipeline)created;
            Assert.AreEqual(engine, pipe.Engine);
            Assert.IsInstanceOfType<ClipImageProcessor>(pipe.Processor, "the swin fixture's BitImageProcessor");
            var r = pipe.Run(path);
            Assert.AreEqual(3, r.Count, "construction parameters apply");
            using var features = PipelineFactory.Create<ImageFeatureExtractionPipeline>("image-feature-extraction", Model("swin"), new PipelineOptions { Engine = engine });
            CollectionAssert.AreEqual(new[] { 4, 64 }, features.Run(path).Shape, "Swin's last_hidden_state: tokens x channels");
        }
        var e = Assert.ThrowsExactly<ArgumentException>(() => PipelineFactory.Create("image-classification"));
        StringAssert.Contains(e.Message, "no default model folder");
        e = Assert.ThrowsExactly<ArgumentException>(() => PipelineFactory.Create("image-classification", Model("resnet-basic-backbone")));
        StringAssert.Contains(e.Message, "ResNetBackbone");
        e = Assert.ThrowsExactly<ArgumentException>(() => PipelineFactory.Create("image-classification", TestPaths.Fixture("models", "bert-seqcls")));
        StringAssert.Contains(e.Message, "SequenceClassification");
        var missing = Assert.ThrowsExactly<FileNotFoundException>(() => PipelineFactory.Create("image-feature-extraction", Model("resnet-basic-backbone")));
        StringAssert.Contains(missing.Message, "preprocessor_config.json");
    }

    [TestMethod]
    public void SavedImagePipelineLoadsBackAndStreams()
    {
        using var pipe = PipelineFactory.Create<ImageClassificationPipeline>("image-classification", Model("resnet-bottleneck"),
            new PipelineOptions { Parameters = new PipelineParameters { ["top_k"] = 2 } });
        var dir = Path.Combine(TempDir.Create(), "saved");
        try
        {
            pipe.SavePretrained(dir);
            Assert.IsTrue(File.Exists(Path.Combine(dir, "preprocessor_config.json")));
            using var loaded = (ImageClassificationPipeline)PipelineFactory.Load(dir);
            var inputs = Images.Select(i => (ImageInput)ImageProcessorTests.Image(i)).ToList();
            var expected = pipe.RunBatch(inputs);
            var streamed = loaded.Stream(inputs, new PipelineParameters { ["batch_size"] = 2 }).ToList();
            Assert.AreEqual(expected.Count, streamed.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.AreEqual(2, streamed[i].Count, "top_k was saved");
                Assert.AreEqual(expected[i][0].Label, streamed[i][0].Label);
                Assert.AreEqual(expected[i][0].Score, streamed[i][0].Score, 1e-6);
            }
        }
        finally { Directory.Delete(Path.GetDirectoryName(dir)!, true); }
    }

    [TestMethod]
    public void EveryInputKindGivesTheSameResult()
    {
        using var pipe = ImageClassificationPipeline.FromPretrained(Model("resnet-basic"));
        var path = ImageProcessorTests.Image("photo-61x47.jpg");
        var bytes = File.ReadAllBytes(path);
        var decoded = RgbImage.Load(path);
        using var stream = File.OpenRead(path);
        using var ml = Microsoft.ML.Data.MLImage.CreateFromFile(path);
        var inputs = new List<ImageInput>
        {
            path, bytes, ImageInput.FromStream(stream, "photo stream"), decoded,
            ImageInput.FromPixels(ml.Pixels.ToArray(), ml.Width, ml.Height, ml.PixelFormat == Microsoft.ML.Data.MLPixelFormat.Bgra32 ? PixelLayout.Bgra32 : PixelLayout.Rgba32),
        };
        var results = pipe.RunBatch(inputs, new PipelineParameters { ["top_k"] = null });
        foreach (var r in results.Skip(1))
            for (int k = 0; k < r.Count; k++)
            {
                Assert.AreEqual(results[0][k].Label, r[k].Label);
                Assert.AreEqual(results[0][k].Score, r[k].Score, 1e-7);
            }
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
