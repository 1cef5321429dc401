using Microsoft.ML.Data;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Tests.Models;
using Microsoft.ML.Transformers.Tests.Vision;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>mlContext.Transforms.ObjectDetection over image paths, bytes and MLImage on the tiny DETR, against the
/// detections of make_detr_fixtures.py (Pillow preprocessing + the torch.nn reference, Hugging Face's post-processing),
/// on both engines and through model.zip.</summary>
[TestClass]
public class MLNetObjectDetectionTests
{
    private static readonly string Folder = DetrTests.Folder;

    public sealed class Detections
    {
        public string[] Labels { get; set; } = [];
        public float[] Scores { get; set; } = [];
        public float[] Boxes { get; set; } = [];
    }

    private static List<ObjectDetectionResult> Results(Detections d) => d.Labels.Select((l, i) => new ObjectDetectionResult(l, d.Scores[i],
        new BoundingBox((int)d.Boxes[4 * i], (int)d.Boxes[4 * i + 1], (int)d.Boxes[4 * i + 2], (int)d.Boxes[4 * i + 3]))).ToList();

    [TestMethod]
    [DataRow(Engine.LibTorch)]
    [DataRow(Engine.OnnxRuntime)]
    public void DetectionsEqualTheReference(Engine engine)
    {
        var ml = new MLContext();
        using var g = new Goldens("vision-detr");
        var images = MLNetImageTests.Images;
        foreach (var (kind, data) in MLNetImageTests.ImageColumns(ml))
        {
            // Batches of 2: the two images, resized to different sizes, go padded with a pixel_mask.
            using var model = ml.Transforms.ObjectDetection(new ObjectDetectionEstimator.Options
            {
                ModelFolder = Folder, Engine = engine, BatchSize = 2, Threshold = 0,
            }).Fit(data);
            Assert.AreEqual(engine, model.Engine);
            var output = model.Transform(data);
            Assert.AreEqual(TextDataViewType.Instance, ((VectorDataViewType)output.Schema["Labels"].Type).ItemType);
            Assert.AreEqual(0, ((VectorDataViewType)output.Schema["Boxes"].Type).Size, "variable length");
            var rows = ml.Data.CreateEnumerable<Detections>(output, reuseRowObject: false).ToList();
            for (int i = 0; i < images.Length; i++)
            {
                Assert.AreEqual(4 * rows[i].Labels.Length, rows[i].Boxes.Length, $"{kind}: four box values per object");
                ObjectDetectionPipelineTests.AssertDetections(Results(rows[i]), g, $"pipeline.batch/{images[i]}");
            }
        }

        // One image per batch: each alone, as the reference ran it.
        var paths = MLNetImageTests.ImageColumns(ml).First().Data;
        using var fitted = new ObjectDetectionEstimator(new() { ModelFolder = Folder, Engine = engine, BatchSize = 1, Threshold = 0 }).Fit(paths);
        var alone = ml.Data.CreateEnumerable<Detections>(fitted.Transform(paths), reuseRowObject: false).ToList();
        for (int i = 0; i < images.Length; i++)
            ObjectDetectionPipelineTests.AssertDetections(Results(alone[i]), g, $"pipeline/{images[i]}");
    }

    [TestMethod]
    public void ThresholdFiltersAndModelZipRoundTrips()
    {
        var ml = new MLContext();
        var data = MLNetImageTests.ImageColumns(ml).First().Data;
        using var all = ml.Transforms.ObjectDetection(Folder, threshold: 0).Fit(data);
        var every = ml.Data.CreateEnumerable<Detections>(all.Transform(data), reuseRowObject: false).ToList();
        // a threshold between the scores, so that it keeps some objects and drops others
        var sorted = every.SelectMany(e => e.Scores).Order().ToArray();
        double threshold = (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2.0;
        using var model = ml.Transforms.ObjectDetection(new ObjectDetectionEstimator.Options { ModelFolder = Folder, Engine = Engine.OnnxRuntime, Threshold = threshold }).Fit(data);
        var kept = ml.Data.CreateEnumerable<Detections>(model.Transform(data), reuseRowObject: false).ToList();
        for (int i = 0; i < kept.Count; i++)
        {
            var expected = every[i].Scores.Select((s, k) => (s, k)).Where(x => x.s > threshold).Select(x => x.k).ToArray();
            CollectionAssert.AreEqual(expected.Select(k => every[i].Labels[k]).ToArray(), kept[i].Labels);
            CollectionAssert.AreEqual(expected.SelectMany(k => every[i].Boxes.Skip(4 * k).Take(4)).ToArray(), kept[i].Boxes);
            MLNetFixtures.AssertClose(expected.Select(k => every[i].Scores[k]).ToArray(), kept[i].Scores, $"image {i} scores", 1e-4);
        }

        int keptCount = kept.Sum(k => k.Labels.Length);
        Assert.IsTrue(keptCount > 0 && keptCount < every.Sum(e => e.Labels.Length), "the threshold should keep some objects, not all");

        var zip = MLNetFixtures.TempZip();
        try
        {
            ml.Model.Save(model, data.Schema, zip);
            var loaded = new MLContext().Model.Load(zip, out _);
            var after = ml.Data.CreateEnumerable<Detections>(loaded.Transform(data), reuseRowObject: false).ToList();
            for (int i = 0; i < kept.Count; i++)
            {
                CollectionAssert.AreEqual(kept[i].Labels, after[i].Labels, "model.zip round trip");
                CollectionAssert.AreEqual(kept[i].Scores, after[i].Scores, "model.zip round trip");
                CollectionAssert.AreEqual(kept[i].Boxes, after[i].Boxes, "model.zip round trip");
            }
            (loaded as IDisposable)?.Dispose();
        }
        finally
        {
            File.Delete(zip);
        }
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.ObjectDetection(Folder, threshold: 1.5));
    }
}
