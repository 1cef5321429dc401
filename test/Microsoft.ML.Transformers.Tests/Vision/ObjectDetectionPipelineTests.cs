using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Tests.Models;
using Microsoft.ML.Transformers.Tests.Pipelines;
using Microsoft.ML.Transformers.Tests.SafeTensors;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>object-detection end to end on the tiny DETR, on libtorch and on its ONNX export (pixel_values + pixel_mask,
/// Optimum's names), against Pillow + the torch.nn reference doing what Hugging Face's pipeline does
/// (make_detr_fixtures.py), and against Transformers.js 4.3.1's pipeline on the same export (run_detr_tjs.mjs).</summary>
[TestClass]
public class ObjectDetectionPipelineTests
{
    internal static readonly string[] Images = ["photo-61x47.jpg", "tall-45x70-gray.jpg", "detr-96x64.png"];
    private static readonly PipelineParameters AllQueries = new() { [ObjectDetectionPipeline.Threshold] = 0.0 };

    /// <summary>The reference's detections of <paramref name="prefix"/>/{image}: label ids, scores, boxes in pixels (float).</summary>
    internal static (long[] labels, float[] scores, float[] boxes) Expected(Goldens g, string key)
    {
        using var l = g.Tensor(key + "/labels");
        using var s = g.Tensor(key + "/scores");
        using var b = g.Tensor(key + "/boxes");
        return (l.data<long>().ToArray(), s.data<float>().ToArray(), b.data<float>().ToArray());
    }

    /// <summary>Asserts that <paramref name="actual"/> is the reference's list: labels, scores within 1e-4, boxes truncated
    /// to integers as Hugging Face's pipeline does (one pixel of slack where the reference is within 1e-3 of an integer).</summary>
    internal static void AssertDetections(IReadOnlyList<ObjectDetectionResult> actual, Goldens g, string key)
    {
        var (labels, scores, boxes) = Expected(g, key);
        Assert.AreEqual(labels.Length, actual.Count, $"{key}: detections");
        Assert.IsTrue(labels.Length > 0, $"{key}: the fixture should detect something");
        for (int i = 0; i < actual.Count; i++)
        {
            Assert.AreEqual($"class_{labels[i]}", actual[i].Label, $"{key} #{i} label");
            Assert.AreEqual(scores[i], actual[i].Score, 1e-4, $"{key} #{i} score");
            int[] box = [actual[i].Box.XMin, actual[i].Box.YMin, actual[i].Box.XMax, actual[i].Box.YMax];
            for (int k = 0; k < 4; k++)
            {
                float e = boxes[i * 4 + k];
                bool nearInteger = Math.Abs(e - Math.Round(e)) < 1e-3;
                Assert.AreEqual((int)e, box[k], nearInteger ? 1 : 0, $"{key} #{i} box[{k}] (reference {e})");
            }
        }
    }

    [TestMethod]
    [DataRow(Engine.LibTorch)]
    [DataRow(Engine.OnnxRuntime)]
    public void DetectionsEqualTheReferenceAloneAndInAPaddedBatch(Engine engine)
    {
        using var pipe = ObjectDetectionPipeline.FromPretrained(DetrTests.Folder, engine: engine);
        Assert.AreEqual(engine, pipe.Engine);
        using var g = new Goldens("vision-detr");
        var inputs = Images.Select(i => (ImageInput)ImageProcessorTests.Image(i)).ToList();
        var alone = pipe.RunBatch(inputs, AllQueries);
        for (int i = 0; i < Images.Length; i++)
            AssertDetections(alone[i], g, $"pipeline/{Images[i]}");
        Assert.IsTrue(alone.SelectMany(d => d).Select(d => d.Score).Distinct().Count() > 3, "queries should differ");

        // The first two images are resized to 64x83 and 96x62: one batch padded to 96x83 with a pixel_mask.
        var batched = pipe.RunBatch(inputs.Take(2).ToList(), new PipelineParameters { [ObjectDetectionPipeline.Threshold] = 0.0, ["batch_size"] = 2 });
        for (int i = 0; i < 2; i++)
            AssertDetections(batched[i], g, $"pipeline.batch/{Images[i]}");
    }

    [TestMethod]
    public void OnnxRuntimeEqualsTransformersJsOnTheSameExport()
    {
        var golden = JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("goldens", "vision-detr-tjs.json")))!;
        var expected = golden["output"]!.AsArray();
        Assert.IsTrue(expected.Count > 0);
        using var pipe = ObjectDetectionPipeline.FromPretrained(DetrTests.Folder, engine: Engine.OnnxRuntime);
        var actual = pipe.Run(ImageProcessorTests.Image((string)golden["image"]!), AllQueries);
        // Transformers.js drops a query whose most probable class is "no object" (Hugging Face keeps it when its best real
        // class passes the threshold): its list is ours without those, in the same order.
        int k = 0;
        foreach (var e in expected)
        {
            var box = e!["box"]!;
            var want = new BoundingBox((int)box["xmin"]!, (int)box["ymin"]!, (int)box["xmax"]!, (int)box["ymax"]!);
            while (k < actual.Count && !(actual[k].Label == (string)e["label"]! && Math.Abs(actual[k].Score - (double)e["score"]!) < 1e-4 && actual[k].Box == want))
                k++;
            Assert.IsTrue(k < actual.Count, $"Transformers.js's {e.ToJsonString()} is not among ours, in order");
            k++;
        }
    }

    [TestMethod]
    public void OnnxRuntimeFeedsPixelMaskOnlyWhenTheGraphTakesIt()
    {
        using var onnx = OnnxModel.FromPretrained(DetrTests.Folder);
        Assert.IsTrue(onnx.TakesPixelMask);
        var pixels = Enumerable.Range(0, 2 * 3 * 64 * 64).Select(i => (float)Math.Sin(i * 0.01)).ToArray();
        long[] shape = [2, 3, 64, 64];
        var mask = Enumerable.Repeat(1L, 2 * 64 * 64).ToArray();
        mask[5] = 2;
        var e = Assert.ThrowsExactly<ArgumentException>(() => onnx.RunPixels(pixels, shape, mask));
        StringAssert.Contains(e.Message, "pixel_mask[0, 0, 5] is 2");
        Assert.ThrowsExactly<ArgumentException>(() => onnx.RunPixels(pixels, shape, new long[7]));
        // Ones, given or not, are the same run; a mask with padding (the second image's bottom half) changes it.
        mask[5] = 1;
        var ones = onnx.RunPixels(pixels, shape, mask)["logits"].GetData<float>();
        CollectionAssert.AreEqual(ones, onnx.RunPixels(pixels, shape)["logits"].GetData<float>());
        Array.Fill(mask, 0L, 64 * 64 + 32 * 64, 32 * 64);
        var padded = onnx.RunPixels(pixels, shape, mask)["logits"].GetData<float>();
        Assert.IsTrue(ones[..24].Zip(padded[..24]).All(p => Math.Abs(p.First - p.Second) < 1e-5), "the first image is not padded");
        Assert.IsTrue(ones[24..].Zip(padded[24..]).Any(p => Math.Abs(p.First - p.Second) > 1e-3), "the second image's padding counts");

        // A classifier export takes no pixel_mask: ones are fine, padding is refused with what to do instead.
        using var classifier = OnnxModel.FromPretrained(TestPaths.Fixture("vision", "models", "resnet-basic"));
        Assert.IsFalse(classifier.TakesPixelMask);
        long[] cshape = [2, 3, 64, 64];
        var cmask = Enumerable.Repeat(1L, 2 * 64 * 64).ToArray();
        classifier.RunPixels(new float[2 * 3 * 64 * 64], cshape, cmask);
        cmask[^1] = 0;
        var ns = Assert.ThrowsExactly<NotSupportedException>(() => classifier.RunPixels(new float[2 * 3 * 64 * 64], cshape, cmask));
        StringAssert.Contains(ns.Message, "batch_size 1");
    }

    [TestMethod]
    [DataRow("num_queries", 5, "num_queries")]
    [DataRow("id2label", 2, "id2label")]
    public void AConfigThatDisagreesWithTheExportIsRefused(string key, int value, string named)
    {
        using var temp = new TempFolder();
        PipelineFixtures.CopyDirectory(DetrTests.Folder, temp.Path);
        File.Delete(temp.File("model.safetensors"));
        var config = JsonNode.Parse(File.ReadAllText(temp.File("config.json")))!.AsObject();
        if (key == "id2label")
        {
            config["id2label"] = new JsonObject(Enumerable.Range(0, value).Select(i => KeyValuePair.Create(i.ToString(), (JsonNode?)JsonValue.Create($"class_{i}"))));
            config["label2id"] = new JsonObject(Enumerable.Range(0, value).Select(i => KeyValuePair.Create($"class_{i}", (JsonNode?)JsonValue.Create(i))));
        }
        else config[key] = value;
        File.WriteAllText(temp.File("config.json"), config.ToJsonString());
        var e = Assert.ThrowsExactly<ConfigException>(() =>
        {
            using var pipe = ObjectDetectionPipeline.FromPretrained(temp.Path, engine: Engine.OnnxRuntime);
            pipe.Run(ImageProcessorTests.Image(Images[2]));
        });
        StringAssert.Contains(e.Message, named);
        StringAssert.Contains(e.Message, "model.onnx");
    }
}
