using Microsoft.ML.Data;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Onnx;
using Microsoft.ML.Transformers.Tests.Models;
using Microsoft.ML.Transformers.Tests.SafeTensors;
using Microsoft.ML.Transformers.Tests.Vision;
using static Microsoft.ML.Transformers.Tests.MLNet.MLNetFixtures;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>The fitted ML.NET transformer exports its model (transformer.ExportOnnx); the same estimator over the export on
/// ONNX Runtime scores the rows as the libtorch transformer did.</summary>
[TestClass]
public class MLNetOnnxExportTests
{
    private static float[][] Scores(MLContext ml, ITransformer t, IDataView data) =>
        t.Transform(data).GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();

    [TestMethod]
    public void FittedTransformerExportsAndTheExportScoresAlike()
    {
        var ml = new MLContext(seed: 1);
        var data = TextData(ml);
        using var dir = new TempFolder();
        using var onTorch = ml.Transforms.TextClassification(new TextClassificationEstimator.Options
        {
            ModelFolder = Pipelines.PipelineFixtures.Model("roberta-seqcls"), Engine = Engine.LibTorch,
        }).Fit(data);
        var result = onTorch.ExportOnnx(dir.Path, new OnnxExportOptions { Fuse = true });
        CollectionAssert.AreEqual(new[] { "logits" }, result.OutputNames.ToArray());
        CollectionAssert.Contains(result.CopiedFiles.ToArray(), "tokenizer.json");

        using var onOrt = ml.Transforms.TextClassification(new TextClassificationEstimator.Options { ModelFolder = dir.Path, Engine = Engine.OnnxRuntime }).Fit(data);
        Assert.AreEqual(Engine.OnnxRuntime, onOrt.Pipeline.Model.Engine);
        var a = Scores(ml, onTorch, data);
        var b = Scores(ml, onOrt, data);
        Assert.AreEqual(Texts.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < a[i].Length; j++)
                Assert.AreEqual(a[i][j], b[i][j], 1e-4, $"row {i} class {j}");

        // A transformer already on ONNX Runtime has no libtorch weights to export.
        var e = Assert.ThrowsExactly<NotSupportedException>(() => onOrt.ExportOnnx(dir.File("again")));
        StringAssert.Contains(e.Message, "LibTorch");
    }

    /// <summary>An image-classification transformer exports too (preprocessor_config.json travels with the graph), and the
    /// estimator over the export on ONNX Runtime gives the torchvision goldens.</summary>
    [TestMethod]
    public void FittedImageTransformerExports()
    {
        var ml = new MLContext();
        string[] images = ["photo-61x47.jpg", "tall-45x70-gray.jpg"];
        var data = ml.Data.LoadFromEnumerable(images.Select(i => new MLNetImageTests.PathRow { Image = ImageProcessorTests.Image(i) }).ToList());
        using var dir = new TempFolder();
        using (var onTorch = ml.Transforms.ImageClassification(new ImageClassificationEstimator.Options
        {
            ModelFolder = TestPaths.Fixture("vision", "models", "swin"), Engine = Engine.LibTorch,
        }).Fit(data))
        {
            var result = onTorch.ExportOnnx(dir.Path);
            CollectionAssert.AreEqual(new[] { "logits" }, result.OutputNames.ToArray());
            CollectionAssert.AreEqual(new[] { "preprocessor_config.json" }, result.CopiedFiles.ToArray());
        }
        using var onOrt = ml.Transforms.ImageClassification(new ImageClassificationEstimator.Options { ModelFolder = dir.Path, Engine = Engine.OnnxRuntime }).Fit(data);
        Assert.AreEqual(Engine.OnnxRuntime, onOrt.Engine);
        var rows = ml.Data.CreateEnumerable<MLNetImageTests.ClassPrediction>(onOrt.Transform(data), reuseRowObject: false).ToList();
        using var g = new Goldens("vision-swin");
        for (int i = 0; i < images.Length; i++)
            MLNetFixtures.AssertClose(g.Tensor($"pipeline.probs/{images[i]}").data<float>().ToArray(), rows[i].Score, images[i], 1e-5);
    }
}
