using Microsoft.ML.Data;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Tests.Models;
using Microsoft.ML.Transformers.Tests.Vision;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>
/// mlContext.Transforms.ImageClassification / ImageFeatureExtraction over the three kinds of image column (a path, encoded
/// bytes, an ML.NET MLImage), against the torchvision goldens of make_vision_fixtures.py (Pillow preprocessing + the
/// torchvision module): class probabilities, and last_hidden_state (its spatial mean is ResNet's pooled output).
/// </summary>
[TestClass]
public class MLNetImageTests
{
    // no transparency: ML.NET's MLImage keeps premultiplied alpha, Pillow drops alpha unpremultiplied (alpha-50x39.png differs by design)
    internal static readonly string[] Images = ["photo-61x47.jpg", "tall-45x70-gray.jpg"];

    private static string Model(string name) => TestPaths.Fixture("vision", "models", name);

    public sealed class PathRow
    {
        public string Image { get; set; } = "";
    }

    public sealed class BytesRow
    {
        public byte[] Image { get; set; } = [];
    }

    public sealed class FileRow
    {
        public string File { get; set; } = "";
    }

    public sealed class ClassPrediction
    {
        public float[] Score { get; set; } = [];
        public uint PredictedLabel { get; set; }
    }

    public sealed class FeaturesRow
    {
        public float[] Features { get; set; } = [];
    }

    /// <summary>The same images as each kind of column.</summary>
    internal static IEnumerable<(string Kind, IDataView Data)> ImageColumns(MLContext ml)
    {
        var paths = Images.Select(ImageProcessorTests.Image).ToList();
        yield return ("path", ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { Image = p }).ToList()));
        yield return ("bytes", ml.Data.LoadFromEnumerable(paths.Select(p => new BytesRow { Image = File.ReadAllBytes(p) }).ToList()));
        // MLImage as ML.NET's LoadImages makes it (an Image column of unknown size: the images differ in size)
        var files = ml.Data.LoadFromEnumerable(paths.Select(p => new FileRow { File = p }).ToList());
        yield return ("MLImage", ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(FileRow.File)).Fit(files).Transform(files));
    }

    [TestMethod]
    [DataRow("resnet-basic", Engine.LibTorch)]
    [DataRow("resnet-basic", Engine.OnnxRuntime)]
    [DataRow("convnext", Engine.OnnxRuntime)]
    public void ClassificationScoresEqualTorchvision(string name, Engine engine)
    {
        var ml = new MLContext();
        using var g = new Goldens($"vision-{name}");
        foreach (var (kind, data) in ImageColumns(ml))
        {
            using var model = ml.Transforms.ImageClassification(new ImageClassificationEstimator.Options { ModelFolder = Model(name), Engine = engine, BatchSize = 2 }).Fit(data);
            Assert.AreEqual(engine, model.Engine);
            var output = model.Transform(data);
            CollectionAssert.AreEqual(model.Labels.ToArray(), MLNetFixtures.KeyValues(output.Schema["PredictedLabel"]));
            var rows = ml.Data.CreateEnumerable<ClassPrediction>(output, reuseRowObject: false).ToList();
            for (int i = 0; i < Images.Length; i++)
            {
                var expected = g.Tensor($"pipeline.probs/{Images[i]}").data<float>().ToArray();
                MLNetFixtures.AssertClose(expected, rows[i].Score, $"{name} {engine} {kind} {Images[i]}", 1e-5);
                Assert.AreEqual((uint)Array.IndexOf(expected, expected.Max()) + 1, rows[i].PredictedLabel, $"{kind} {Images[i]}");
            }
        }
    }

    [TestMethod]
    public void PooledFeaturesAreTheSpatialMeanOfTorchvisionsLastStage()
    {
        var ml = new MLContext();
        using var g = new Goldens("vision-resnet-bottleneck");
        foreach (var (kind, data) in ImageColumns(ml))
        {
            using var pooled = ml.Transforms.ImageFeatureExtraction(Model("resnet-bottleneck")).Fit(data);
            using var full = ml.Transforms.ImageFeatureExtraction(new ImageFeatureExtractionEstimator.Options { ModelFolder = Model("resnet-bottleneck"), Pool = false }).Fit(data);
            var type = (VectorDataViewType)pooled.GetOutputSchema(data.Schema)["Features"].Type;
            Assert.AreEqual(pooled.FeatureSize, type.Size, "a fixed-size vector");
            var p = ml.Data.CreateEnumerable<FeaturesRow>(pooled.Transform(data), reuseRowObject: false).ToList();
            var f = ml.Data.CreateEnumerable<FeaturesRow>(full.Transform(data), reuseRowObject: false).ToList();
            for (int i = 0; i < Images.Length; i++)
            {
                var last = g.Tensor($"pipeline.last_hidden_state/{Images[i]}");   // [C, H, W]
                MLNetFixtures.AssertClose(last.data<float>().ToArray(), f[i].Features, $"{kind} {Images[i]} last_hidden_state", 1e-4);
                MLNetFixtures.AssertClose(last.mean([1, 2]).data<float>().ToArray(), p[i].Features, $"{kind} {Images[i]} pooled", 1e-4);
            }
        }
    }

    [TestMethod]
    public void SavedAndLoadedGiveTheSameScoresAndPredictionEngineWorks()
    {
        var ml = new MLContext();
        var data = ImageColumns(ml).First().Data;
        var folder = CopyVisionModel("resnet-basic");
        var zip = MLNetFixtures.TempZip();
        try
        {
            var model = ml.Transforms.ImageClassification(folder)
                .Append(ml.Transforms.ImageFeatureExtraction(folder, outputColumnName: "Features")).Fit(data);
            var before = ml.Data.CreateEnumerable<ClassPrediction>(model.Transform(data), reuseRowObject: false).ToList();
            var beforeFeatures = ml.Data.CreateEnumerable<FeaturesRow>(model.Transform(data), reuseRowObject: false).ToList();
            ml.Model.Save(model, data.Schema, zip);
            foreach (var t in model) (t as IDisposable)?.Dispose();
            Directory.Delete(folder, recursive: true);

            var loaded = new MLContext().Model.Load(zip, out var schema);
            Assert.AreEqual("Image", schema[0].Name);
            var after = ml.Data.CreateEnumerable<ClassPrediction>(loaded.Transform(data), reuseRowObject: false).ToList();
            var afterFeatures = ml.Data.CreateEnumerable<FeaturesRow>(loaded.Transform(data), reuseRowObject: false).ToList();
            for (int i = 0; i < before.Count; i++)
            {
                CollectionAssert.AreEqual(before[i].Score, after[i].Score);
                CollectionAssert.AreEqual(beforeFeatures[i].Features, afterFeatures[i].Features);
            }
            using var engine = ml.Model.CreatePredictionEngine<PathRow, ClassPrediction>(loaded);
            var one = engine.Predict(new PathRow { Image = ImageProcessorTests.Image(Images[1]) });
            MLNetFixtures.AssertClose(before[1].Score, one.Score, "a batch of one", 1e-6);
            foreach (var t in (TransformerChain<ITransformer>)loaded) (t as IDisposable)?.Dispose();
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            File.Delete(zip);
        }
    }

    [TestMethod]
    public void ABadImageNamesItsRowAndAWrongColumnTypeIsASchemaError()
    {
        var ml = new MLContext();
        var bad = ml.Data.LoadFromEnumerable(new[]
        {
            new BytesRow { Image = File.ReadAllBytes(ImageProcessorTests.Image(Images[0])) },
            new BytesRow { Image = [1, 2, 3, 4] },
        });
        using var model = ml.Transforms.ImageClassification(Model("resnet-basic")).Fit(bad);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Data.CreateEnumerable<ClassPrediction>(model.Transform(bad), reuseRowObject: false).ToList());
        StringAssert.Contains(e.Message, "input row 1");
        StringAssert.Contains(e.Message, "4 bytes");

        var texts = MLNetFixtures.TextData(ml);
        var numbers = ml.Data.LoadFromEnumerable(new[] { new FeaturesRow { Features = [1f] } });
        var estimator = ml.Transforms.ImageFeatureExtraction(Model("resnet-basic"), inputColumnName: "Features");
        var m = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.Fit(numbers)).Message;
        StringAssert.Contains(m, "Schema mismatch for input column 'Features'");
        StringAssert.Contains(m, "MLImage");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(MLNetPersistence.ShapeOf(numbers.Schema)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.ImageFeatureExtraction(Model("resnet-basic")).Fit(texts));
    }

    /// <summary>The real ImageNet ResNet-18 (eng/setup-resnet18.sh; its stages are checked against the original ONNX graph by
    /// ResNet18RealPhotoTests) on real photos: the transform's vector is the model's pooled output, 512 wide.</summary>
    [TestMethod]
    [TestCategory("Slow")]
    public void RealResNet18_FeaturesAreThePooledOutput()
    {
        var folder = Path.Combine(TestPaths.RepoRoot, "artifacts", "resnet18");
        if (!File.Exists(Path.Combine(folder, "model.safetensors"))) Assert.Inconclusive("run eng/setup-resnet18.sh first");
        var photos = new[] { "china.jpg", "flower.jpg" }.Select(p => Path.Combine("/usr/lib/python3/dist-packages/sklearn/datasets/images", p)).ToArray();
        if (!photos.All(File.Exists)) Assert.Inconclusive("the sklearn sample photos are missing (apt-get install python3-sklearn)");
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(photos.Select(p => new BytesRow { Image = File.ReadAllBytes(p) }).ToList());
        using var transformer = ml.Transforms.ImageFeatureExtraction(folder).Fit(data);
        Assert.AreEqual(512, transformer.FeatureSize);
        var rows = ml.Data.CreateEnumerable<FeaturesRow>(transformer.Transform(data), reuseRowObject: false).ToList();
        var processor = global::Microsoft.ML.Transformers.Vision.AutoImageProcessor.FromPretrained(folder);
        using var model = AutoModel.FromPretrained(folder);
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var _ = TorchSharp.torch.no_grad();
        for (int i = 0; i < photos.Length; i++)
        {
            var pixels = processor.Preprocess(global::Microsoft.ML.Transformers.Vision.RgbImage.Load(photos[i]));
            var pooled = model.Forward(new ModelInputs { PixelValues = pixels.ToTensor() }).PoolerOutput!.flatten().data<float>().ToArray();
            MLNetFixtures.AssertClose(pooled, rows[i].Features, photos[i], 1e-4);
        }
        Assert.IsGreaterThan(0.1, rows[0].Features.Zip(rows[1].Features, (a, b) => Math.Abs(a - b)).Max(), "two photos, two vectors");
    }

    private static string CopyVisionModel(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "mlt-mlnet-test-" + Guid.NewGuid().ToString("N"));
        Pipelines.PipelineFixtures.CopyDirectory(Model(name), dir);
        return dir;
    }
}
