using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Vision;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>DetrImageProcessor geometry, padding and post_process_object_detection on hand-computed cases, and the
/// object-detection pipeline on the tiny DETR checkpoint.</summary>
[TestClass]
public class DetrProcessingTests
{
    [TestMethod]
    [DataRow(20, 40, 64, 96, 48, 96)]      // 40/20*64 = 128 > 96: raw = 96*20/40 = 48, the long side 48*40/20 = 96
    [DataRow(30, 30, 64, 96, 64, 64)]      // square: both sides 64
    [DataRow(600, 800, 800, 1333, 800, 1066)] // 800/600*800 = 1066.7 < 1333: int(800*800/600) = 1066
    [DataRow(1000, 500, 800, 1333, 1333, 666)] // 1600 > 1333: raw 666.5 rounds (half to even) to 666; height int(666.5*2) = 1333
    [DataRow(800, 600, 800, 1333, 1066, 800)]
    [DataRow(800, 1200, 800, 1333, 800, 1200)] // already 800 on the short side
    public void ShortestAndLongestEdgeResize(int h, int w, int shortest, int longest, int eh, int ew) =>
        Assert.AreEqual((eh, ew), DetrImageProcessor.SizeWithAspectRatio(h, w, shortest, longest));

    private static DetrImageProcessor Processor(int shortest = 64, int longest = 96) => (DetrImageProcessor)AutoImageProcessor.FromJson(
        "{\"image_processor_type\": \"DetrImageProcessor\", \"size\": {\"shortest_edge\": " + shortest + ", \"longest_edge\": " + longest + "}}");

    [TestMethod]
    public void ABatchOfDifferentSizesIsPaddedWithAPixelMask()
    {
        var a = new RgbImage(40, 20, Enumerable.Repeat((byte)255, 40 * 20 * 3).ToArray()); // 20 high, 40 wide -> 48x96
        var b = new RgbImage(30, 30, Enumerable.Repeat((byte)0, 30 * 30 * 3).ToArray());   // -> 64x64
        var batch = Processor().PreprocessPadded([a, b]);
        Assert.AreEqual((64, 96), (batch.Pixels.Height, batch.Pixels.Width));
        CollectionAssert.AreEqual(new[] { (48, 96), (64, 64) }, batch.ImageSizes.ToArray());
        int plane = 64 * 96;
        Assert.AreEqual(48 * 96, batch.PixelMask.Take(plane).Sum());
        Assert.AreEqual(64 * 64, batch.PixelMask.Skip(plane).Sum());
        Assert.AreEqual(1, batch.PixelMask[47 * 96 + 95]);
        Assert.AreEqual(0, batch.PixelMask[48 * 96]);
        Assert.AreEqual(1, batch.PixelMask[plane + 63 * 96 + 63]);
        Assert.AreEqual(0, batch.PixelMask[plane + 64]);
        // White normalized with ImageNet statistics inside the image, zeros in the padding.
        Assert.AreEqual((1 - 0.485f) / 0.229f, batch.Pixels.Data[0], 1e-5);
        Assert.AreEqual(0f, batch.Pixels.Data[48 * 96]);
        Assert.AreEqual(-0.485f / 0.229f, batch.Pixels.Data[3 * plane], 1e-5);
        Assert.AreEqual(0f, batch.Pixels.Data[3 * plane + 64]);
    }

    [TestMethod]
    public void PostProcessingKeepsScoresAboveTheThresholdAndScalesBoxes()
    {
        // One image, two queries, two real classes + "no object".
        float[] logits = [2, 0, 0, /* q1 */ 0, 0, 3];
        float[] boxes = [0.5f, 0.5f, 0.5f, 0.5f, /* q1 */ 0.2f, 0.2f, 0.1f, 0.1f];
        var r = DetrImageProcessor.PostProcessObjectDetection(logits, boxes, 1, 0.5, [(100, 200)]);
        Assert.AreEqual(1, r[0].Count);
        var d = r[0][0];
        Assert.AreEqual(0, d.Label);
        Assert.AreEqual(Math.Exp(2) / (Math.Exp(2) + 2), d.Score, 1e-6);
        Assert.AreEqual((50f, 25f, 150f, 75f), (d.XMin, d.YMin, d.XMax, d.YMax));
        // Threshold 0: the second query too, its best real class scoring 1 / (2 + e^3); without target sizes boxes stay normalized.
        r = DetrImageProcessor.PostProcessObjectDetection(logits, boxes, 1, 0.0);
        Assert.AreEqual(2, r[0].Count);
        Assert.AreEqual(1 / (2 + Math.Exp(3)), r[0][1].Score, 1e-6);
        Assert.AreEqual(0.15f, r[0][1].XMin, 1e-6);
        Assert.AreEqual(0.25f, r[0][1].YMax, 1e-6);
        Assert.ThrowsExactly<ArgumentException>(() => DetrImageProcessor.PostProcessObjectDetection(logits, boxes, 1, 0.5, [(1, 1), (2, 2)]));
    }

    [TestMethod]
    public void ObjectDetectionPipelineReturnsBoxesInImagePixels()
    {
        string[] files = ["photo-61x47.jpg", "tall-45x70-gray.jpg"];
        var images = files.Select(f => (ImageInput)TestPaths.Fixture("vision", "images", f)).ToList();
        using var pipe = ObjectDetectionPipeline.FromPretrained(DetrTests.Folder);
        var all = pipe.RunBatch(images, new PipelineParameters { [ObjectDetectionPipeline.Threshold] = 0.0 });
        Assert.AreEqual(6, all[0].Count, "threshold 0 keeps every query");
        var labels = new[] { "class_0", "class_1", "class_2" };
        foreach (var o in all.SelectMany(x => x)) CollectionAssert.Contains(labels, o.Label);
        Assert.IsTrue(all[1].All(o => o.Box.XMin >= -45 && o.Box.XMax <= 90 && o.Box.YMax <= 140), "boxes scale with the 45x70 image");

        // A padded batch of two sizes against the reference: ObjectDetectionPipelineTests.
        Assert.AreEqual(0, pipe.Run(images[0], new PipelineParameters { [ObjectDetectionPipeline.Threshold] = 1.0 }).Count);
    }
}
