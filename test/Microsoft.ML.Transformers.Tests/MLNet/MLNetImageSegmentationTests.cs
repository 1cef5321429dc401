using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Tests.Models;
using Microsoft.ML.Transformers.Tests.Vision;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>mlContext.Transforms.ImageSegmentation over image paths and bytes on the UperNet fixture, against the label
/// maps of make_upernet_fixtures.py (Pillow preprocessing + the torch.nn reference), on both engines and through model.zip.</summary>
[TestClass]
public class MLNetImageSegmentationTests
{
    private static readonly string Folder = TestPaths.Fixture("vision", "models", "upernet-convnext");
    private static readonly string[] Images = ["photo-61x47.jpg", "tall-45x70-gray.jpg"];
    private static readonly string[] ClassNames = ["road", "sky", "tree", "car", "person"];

    public sealed class PathRow
    {
        public string Image { get; set; } = "";
    }

    public sealed class BytesRow
    {
        public byte[] Image { get; set; } = [];
    }

    public sealed class Segmentation
    {
        public string[] Labels { get; set; } = [];
        public int[] SegmentationMap { get; set; } = [];
        public int Height { get; set; }
        public int Width { get; set; }
    }

    [TestMethod]
    [DataRow(Engine.LibTorch)]
    [DataRow(Engine.OnnxRuntime)]
    public void LabelMapsEqualTheReference(Engine engine)
    {
        var ml = new MLContext();
        var paths = Images.Select(ImageProcessorTests.Image).ToList();
        var data = ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { Image = p }).ToList());
        var bytes = ml.Data.LoadFromEnumerable(paths.Select(p => new BytesRow { Image = File.ReadAllBytes(p) }).ToList());
        using var model = ml.Transforms.ImageSegmentation(new ImageSegmentationEstimator.Options { ModelFolder = Folder, Engine = engine, BatchSize = 2 }).Fit(data);
        CollectionAssert.AreEqual(ClassNames, model.ClassLabels.ToArray());
        using var g = new Goldens("vision-upernet-convnext");
        foreach (var view in new[] { data, bytes })
        {
            var rows = ml.Data.CreateEnumerable<Segmentation>(model.Transform(view), reuseRowObject: false).ToList();
            for (int i = 0; i < Images.Length; i++)
            {
                using var map = g.Tensor($"pipeline.segmentation/{Images[i]}");
                var expected = map.data<long>().Select(v => (int)v).ToArray();
                Assert.AreEqual(((int)map.size(0), (int)map.size(1)), (rows[i].Height, rows[i].Width), $"{engine} {Images[i]} size");
                CollectionAssert.AreEqual(expected, rows[i].SegmentationMap, $"{engine} {Images[i]} map");
                CollectionAssert.AreEqual(expected.Distinct().Order().Select(id => ClassNames[id]).ToArray(), rows[i].Labels, $"{engine} {Images[i]} labels");
            }
        }

        var zip = Path.Combine(Path.GetTempPath(), $"upernet-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, data.Schema, zip);
            var loaded = new MLContext().Model.Load(zip, out _);
            var before = ml.Data.CreateEnumerable<Segmentation>(model.Transform(data), reuseRowObject: false).ToList();
            var after = ml.Data.CreateEnumerable<Segmentation>(loaded.Transform(data), reuseRowObject: false).ToList();
            for (int i = 0; i < before.Count; i++) CollectionAssert.AreEqual(before[i].SegmentationMap, after[i].SegmentationMap, "model.zip round trip");
            (loaded as IDisposable)?.Dispose();
        }
        finally
        {
            File.Delete(zip);
        }
    }
}
