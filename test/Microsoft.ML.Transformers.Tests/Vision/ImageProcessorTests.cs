using Microsoft.ML.Transformers.Tests.Models;
using Microsoft.ML.Transformers.Vision;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>pixel_values against Pillow + numpy doing what Hugging Face's processors do (scripts/make_vision_fixtures.py).</summary>
[TestClass]
public class ImageProcessorTests
{
    internal static string Image(string name) => TestPaths.Fixture("vision", "images", name);
    private static string Processor(string name) => TestPaths.Fixture("vision", "processors", name);

    private static readonly string[] Images =
        ["alpha-50x39.png", "cmyk-adobe-23x17.jpg", "exif6-33x21.jpg", "large-301x203.jpg", "palette-40x36.png", "photo-61x47.jpg", "small-9x13.png", "tall-45x70-gray.jpg", "wide-97x33.png"];

    [TestMethod]
    [DataRow("vit")]
    [DataRow("convnext")]
    [DataRow("convnext384")]
    [DataRow("clip")]
    [DataRow("bit-bilinear-crop-larger")]
    public void PixelValuesEqualPillow(string processor)
    {
        var p = AutoImageProcessor.FromPretrained(Processor(processor));
        using var g = new Goldens("vision-processors");
        using var scope = NewDisposeScope();
        var worst = 0.0;
        foreach (var name in Images)
        {
            var pv = p.Preprocess(RgbImage.Load(Image(name)));
            var actual = pv.ToTensor()[0];
            if (processor == "convnext384") actual = actual[TensorIndex.Colon, TensorIndex.Slice(0, null, 13), TensorIndex.Slice(0, null, 13)];
            var d = Goldens.MaxAbsDiff(actual, g.Tensor($"{processor}/{name}"), $"{processor}/{name}");
            Assert.IsTrue(d <= 1e-5, $"{processor}/{name}: max abs difference {d:E3}");
            worst = Math.Max(worst, d);
        }
        Console.WriteLine($"{processor}: worst max abs difference over {Images.Length} images {worst:E2}");
    }

    /// <summary>Real photos (python3-sklearn's samples, 640x427 JPEG) through full-size ViT, ConvNeXt and CLIP configs.</summary>
    [TestMethod]
    [DataRow("vit224")]
    [DataRow("convnext224")]
    [DataRow("clip224")]
    public void RealPhotosEqualPillow(string processor)
    {
        var p = AutoImageProcessor.FromPretrained(Processor(processor));
        using var g = new Goldens("vision-processors");
        using var scope = NewDisposeScope();
        foreach (var photo in new[] { "china.jpg", "flower.jpg" })
        {
            var path = Path.Combine("/usr/lib/python3/dist-packages/sklearn/datasets/images", photo);
            if (!File.Exists(path)) Assert.Inconclusive($"{path} is missing (apt-get install python3-sklearn)");
            var pv = p.Preprocess(RgbImage.Load(path));
            CollectionAssert.AreEqual(new long[] { 1, 3, 224, 224 }, pv.Shape);
            var actual = pv.ToTensor()[0][TensorIndex.Colon, TensorIndex.Slice(0, null, 11), TensorIndex.Slice(0, null, 11)];
            Goldens.AssertClose(actual, g.Tensor($"photo/{processor}/{photo}"), 1e-5, $"{processor} {photo}");
        }
    }

    /// <summary>An Adobe CMYK JPEG (inverted values, APP14 marker) as Pillow reads it and converts it to RGB:
    /// R = (255 - C) * (255 - K) / 255 rounded, on the re-inverted values; byte for byte.</summary>
    [TestMethod]
    public void CmykJpegConvertsAsPillow()
    {
        using var g = new Goldens("vision-processors");
        var expected = g.Tensor("rgb/cmyk-adobe-23x17.jpg");
        var img = RgbImage.Load(Image("cmyk-adobe-23x17.jpg"));
        Assert.AreEqual((23, 17), (img.Width, img.Height));
        var want = expected.data<float>().ToArray().Select(v => (byte)v).ToArray();
        int differing = want.Where((v, i) => v != img.Pixels[i]).Count();
        Assert.AreEqual(0, differing, $"{differing} of {want.Length} bytes differ from Pillow's convert(\"RGB\")");
    }

    [TestMethod]
    public void BytesStreamAndPathDecodeAlike()
    {
        var path = Image("photo-61x47.jpg");
        var a = RgbImage.Load(path);
        var b = RgbImage.FromBytes(File.ReadAllBytes(path));
        using var s = File.OpenRead(path);
        var c = RgbImage.FromStream(s);
        CollectionAssert.AreEqual(a.Pixels, b.Pixels);
        CollectionAssert.AreEqual(a.Pixels, c.Pixels);
        var exif = RgbImage.Load(Image("exif6-33x21.jpg"));
        Assert.AreEqual((21, 33), (exif.Width, exif.Height), "EXIF orientation 6 turns 33x21 into 21x33");
    }

    [TestMethod]
    public void ConfigSavesBackWhatItRead()
    {
        var p = AutoImageProcessor.FromPretrained(Processor("clip"));
        var dir = TempDir.Create();
        try
        {
            p.SavePretrained(dir);
            var q = AutoImageProcessor.FromPretrained(dir);
            Assert.IsInstanceOfType<ClipImageProcessor>(q);
            Assert.AreEqual(p.Raw.ToJsonString(), q.Raw.ToJsonString());
            Assert.AreEqual((24, 24), q.CropSize);
            Assert.AreEqual(Resampling.Bicubic, q.Resample);
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void UnknownProcessorTypeNamesTheKey()
    {
        var e = Assert.ThrowsExactly<Microsoft.ML.Transformers.Configuration.ConfigException>(() => AutoImageProcessor.FromJson("{\"image_processor_type\": \"NopeProcessor\"}", "x.json"));
        StringAssert.Contains(e.Message, "NopeProcessor");
        StringAssert.Contains(e.Message, "image_processor_type");
    }
}

/// <summary>Corrupt, truncated, unsupported, empty and oversized images are refused with the file named.</summary>
[TestClass]
public class ImageBadInputTests
{
    [TestMethod]
    [DataRow("bad-truncated.jpg", "truncated")]
    [DataRow("bad-not-an-image.jpg", "not an image")]
    [DataRow("bad-unsupported-8x6.tiff", "not an image in a supported format")]
    [DataRow("bad-zero.png", "bad-zero.png")]
    [DataRow("bad-huge-20000x20000.png", "20000x20000")]
    public void BadImagesAreClearErrors(string name, string expected)
    {
        var e = Assert.ThrowsExactly<ImageDecodeException>(() => RgbImage.Load(ImageProcessorTests.Image(name)));
        StringAssert.Contains(e.Message, expected);
        StringAssert.Contains(e.Message, name);
    }

    [TestMethod]
    public void MissingFileIsFileNotFound() =>
        Assert.ThrowsExactly<FileNotFoundException>(() => RgbImage.Load(ImageProcessorTests.Image("nope.png")));
}
