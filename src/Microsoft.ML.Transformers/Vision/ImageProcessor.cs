using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.SafeTensors;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Vision;

/// <summary>pixel_values of a batch: float32, [batch, 3, height, width], row-major.</summary>
public sealed record PixelValues(float[] Data, int Batch, int Height, int Width)
{
    public long[] Shape => [Batch, 3, Height, Width];

    /// <summary>The decoded image's (height, width) before the processor resized it, when one image's pixels carry it
    /// (for tasks whose results are at the image's size, as segmentation maps).</summary>
    public (int Height, int Width)? ImageSize { get; init; }

    /// <summary>pixel_mask [batch, height, width] of a padded batch (1: image, 0: padding), for models that take one
    /// (DETR); null: every pixel is image.</summary>
    public long[]? PixelMask { get; init; }

    /// <summary>As a libtorch tensor (a copy), on <paramref name="device"/>.</summary>
    public Tensor ToTensor(Device? device = null)
    {
        Engines.TorchSharpRuntime.EnsureLoaded();
        return tensor(Data, Shape, device: device);
    }

    /// <summary>A host copy of a [batch, 3, height, width] tensor (any dtype, any device) as float32 pixel_values.</summary>
    public static PixelValues FromTensor(Tensor pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.dim() != 4 || pixels.size(1) != 3)
            throw new ArgumentException($"pixel_values must have shape [batch, 3, height, width]; got [{string.Join(", ", pixels.shape)}].", nameof(pixels));
        using var host = pixels.to(ScalarType.Float32).cpu().contiguous();
        return new PixelValues(host.data<float>().ToArray(), (int)pixels.size(0), (int)pixels.size(2), (int)pixels.size(3));
    }

    /// <summary>Stacks batches along the batch dimension; they must share one height and width.</summary>
    public static PixelValues Concat(IReadOnlyList<PixelValues> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0) throw new ArgumentException("No pixel values to stack.", nameof(parts));
        if (parts.Count == 1) return parts[0];
        var (h, w) = (parts[0].Height, parts[0].Width);
        for (int i = 1; i < parts.Count; i++)
            if ((parts[i].Height, parts[i].Width) != (h, w))
                throw new ArgumentException($"Image {i} preprocesses to {parts[i].Height}x{parts[i].Width} but image 0 to {h}x{w}; a batch needs one size (set do_center_crop or a fixed size).");
        var data = new float[parts.Sum(p => (long)p.Data.Length)];
        long offset = 0;
        foreach (var p in parts)
        {
            p.Data.CopyTo(data, offset);
            offset += p.Data.Length;
        }
        return new PixelValues(data, parts.Sum(p => p.Batch), h, w);
    }
}

/// <summary>
/// An image processor read from preprocessor_config.json, doing what Hugging Face's slow (Pillow + numpy) processors
/// do: optional resize (Pillow's filters, 8-bit, <see cref="PillowResample"/>), optional center crop (zero padded when
/// the crop is larger), rescale (x * rescale_factor in float64, stored as float32), normalize ((x - mean) / std in
/// float32), channels first. Subclasses decide the resize geometry. Every key read is kept for <see cref="SavePretrained"/>.
/// </summary>
public abstract class ImageProcessor
{
    public const string ConfigFileName = "preprocessor_config.json";

    protected ImageProcessor(JsonObject raw, string? source)
    {
        Raw = raw;
        Source = source;
    }

    public JsonObject Raw { get; }
    public string? Source { get; set; }

    public bool DoResize => Get("do_resize", true);
    public Resampling Resample => (Resampling)Get("resample", (int)DefaultResample);
    public bool DoCenterCrop => Get("do_center_crop", DefaultCenterCrop);
    public bool DoRescale => Get("do_rescale", true);
    public double RescaleFactor => Get("rescale_factor", 1.0 / 255);
    public bool DoNormalize => Get("do_normalize", true);
    public IReadOnlyList<double> ImageMean => Get<List<double>?>("image_mean", null) ?? DefaultMean;
    public IReadOnlyList<double> ImageStd => Get<List<double>?>("image_std", null) ?? DefaultStd;

    protected virtual Resampling DefaultResample => Resampling.Bilinear;
    protected virtual bool DefaultCenterCrop => false;
    /// <summary>IMAGENET_STANDARD_MEAN / STD (0.5) unless the processor's defaults differ.</summary>
    protected virtual IReadOnlyList<double> DefaultMean => [0.5, 0.5, 0.5];
    protected virtual IReadOnlyList<double> DefaultStd => [0.5, 0.5, 0.5];

    /// <summary>crop_size as (height, width), an int meaning a square (get_size_dict).</summary>
    public (int height, int width) CropSize => HeightWidth("crop_size", 224);

    /// <summary>A {height, width} key (an int meaning a square), <paramref name="defaultSide"/> squared when absent.</summary>
    protected (int height, int width) HeightWidth(string key, int defaultSide)
    {
        var node = Raw[key];
        if (node is null) return (defaultSide, defaultSide);
        if (node.GetValueKind() == JsonValueKind.Number) return (node.GetValue<int>(), node.GetValue<int>());
        return (Int(node, "height"), Int(node, "width"));
    }

    protected int Int(JsonNode node, string key) =>
        node[key]?.GetValue<int>() ?? throw new ConfigException(Source, key, $"missing in {{{string.Join(", ", node.AsObject().Select(p => p.Key))}}}.");

    protected T Get<T>(string key, T defaultValue)
    {
        if (!Raw.TryGetPropertyValue(key, out var node) || node is null) return defaultValue;
        try { return node.Deserialize<T>()!; }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new ConfigException(Source, key, $"expected {typeof(T).Name}, found {ConfigJson.Describe(node)}.", e);
        }
    }

    /// <summary>The resize (and crop) geometry: the image as the processor resizes it, before rescale/normalize.</summary>
    protected abstract RgbImage Resize(RgbImage image);

    /// <summary>Resizes to exactly (height, width) with Pillow's filter.</summary>
    protected RgbImage ResizeTo(RgbImage image, int height, int width)
    {
        if (height == image.Height && width == image.Width) return image;
        return new RgbImage(width, height, PillowResample.Resize(image.Pixels, image.Width, image.Height, 3, width, height, Resample));
    }

    /// <summary>image_transforms.get_resize_output_image_size(size=int, default_to_square=False): the shorter edge becomes
    /// <paramref name="shortest"/>, the longer keeps the aspect ratio (truncated).</summary>
    protected static (int height, int width) ShortestEdgeSize(int height, int width, int shortest)
    {
        bool portrait = width <= height;
        int s = portrait ? width : height, l = portrait ? height : width;
        int newLong = (int)((double)shortest * l / s);
        return portrait ? (newLong, shortest) : (shortest, newLong);
    }

    /// <summary>image_transforms.center_crop: top/left = (size - crop) // 2, zero padding when the crop is larger.</summary>
    protected static RgbImage CenterCrop(RgbImage image, int cropH, int cropW)
    {
        int h = image.Height, w = image.Width;
        int top = FloorDiv(h - cropH, 2), left = FloorDiv(w - cropW, 2);
        var dst = new byte[cropH * cropW * 3];
        for (int y = 0; y < cropH; y++)
        {
            int sy = y + top;
            if (sy < 0 || sy >= h) continue;
            for (int x = 0; x < cropW; x++)
            {
                int sx = x + left;
                if (sx < 0 || sx >= w) continue;
                image.Pixels.AsSpan((sy * w + sx) * 3, 3).CopyTo(dst.AsSpan((y * cropW + x) * 3, 3));
            }
        }
        return new RgbImage(cropW, cropH, dst);
    }

    private static int FloorDiv(int a, int b) => (int)Math.Floor((double)a / b);

    /// <summary>Resize, crop, rescale and normalize one image into [3, H, W] floats.</summary>
    public float[] Preprocess(RgbImage image, out int height, out int width)
    {
        ArgumentNullException.ThrowIfNull(image);
        var r = DoResize ? Resize(image) : image;
        if (DoCenterCrop)
        {
            var (ch, cw) = CropSize;
            r = CenterCrop(r, ch, cw);
        }
        (height, width) = (r.Height, r.Width);
        var mean = ImageMean;
        var std = ImageStd;
        if (DoNormalize && (mean.Count != 3 || std.Count != 3))
            throw new ConfigException(Source, "image_mean", $"image_mean and image_std need 3 values (RGB), found {mean.Count} and {std.Count}.");
        int plane = height * width;
        var output = new float[3 * plane];
        double scale = RescaleFactor;
        for (int c = 0; c < 3; c++)
        {
            float m = (float)(DoNormalize ? mean[c] : 0), sd = (float)(DoNormalize ? std[c] : 1);
            for (int i = 0; i < plane; i++)
            {
                byte b = r.Pixels[i * 3 + c];
                float v = DoRescale ? (float)(b * scale) : b;
                output[c * plane + i] = DoNormalize ? (v - m) / sd : v;
            }
        }
        return output;
    }

    /// <summary>A batch of images into pixel_values [B, 3, H, W]; every image must come out the same size.</summary>
    public PixelValues Preprocess(IReadOnlyList<RgbImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("No images to preprocess.", nameof(images));
        return PixelValues.Concat(images.Select(i => Preprocess(i)).ToList());
    }

    /// <summary>One image into pixel_values [1, 3, H, W].</summary>
    public PixelValues Preprocess(RgbImage image)
    {
        var data = Preprocess(image, out int h, out int w);
        return new PixelValues(data, 1, h, w);
    }

    /// <summary>Writes preprocessor_config.json (sorted keys, indent 2, as Hugging Face) through a temp file.</summary>
    public string SavePretrained(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Directory.CreateDirectory(folder);
        var path = Path.GetFullPath(Path.Combine(folder, ConfigFileName));
        AtomicFile.WriteAllBytes(path, new UTF8Encoding(false).GetBytes(HfJson.Serialize(Raw)));
        return path;
    }
}

/// <summary>ViTImageProcessor: resize to size {height, width} (bilinear), no crop, mean/std 0.5.</summary>
public sealed class ViTImageProcessor(JsonObject raw, string? source = null) : ImageProcessor(raw, source)
{
    public (int height, int width) Size => HeightWidth("size", 224);

    protected override RgbImage Resize(RgbImage image)
    {
        var (h, w) = Size;
        return ResizeTo(image, h, w);
    }
}

/// <summary>SegformerImageProcessor (also UperNet's): a plain resize to size {height, width} (bilinear, 512x512 by
/// default), ImageNet mean/std. do_reduce_labels only concerns segmentation maps, not images.</summary>
public sealed class SegformerImageProcessor(JsonObject raw, string? source = null) : ImageProcessor(raw, source)
{
    protected override IReadOnlyList<double> DefaultMean => [0.485, 0.456, 0.406];
    protected override IReadOnlyList<double> DefaultStd => [0.229, 0.224, 0.225];

    public (int height, int width) Size => HeightWidth("size", 512);

    protected override RgbImage Resize(RgbImage image)
    {
        var (h, w) = Size;
        return ResizeTo(image, h, w);
    }
}

/// <summary>ConvNextImageProcessor: below 384, resize the shorter edge to shortest_edge / crop_pct and center crop
/// shortest_edge; at 384 and up, a plain (warping) resize to shortest_edge squared. Bilinear, ImageNet mean/std.</summary>
public sealed class ConvNextImageProcessor(JsonObject raw, string? source = null) : ImageProcessor(raw, source)
{
    public int ShortestEdge
    {
        get
        {
            var node = Raw["size"];
            if (node is null) return 384;
            return node.GetValueKind() == JsonValueKind.Number ? node.GetValue<int>() : Int(node, "shortest_edge");
        }
    }

    public double CropPct => Get("crop_pct", 224.0 / 256);

    protected override IReadOnlyList<double> DefaultMean => [0.485, 0.456, 0.406];
    protected override IReadOnlyList<double> DefaultStd => [0.229, 0.224, 0.225];

    protected override RgbImage Resize(RgbImage image)
    {
        int s = ShortestEdge;
        if (s >= 384) return ResizeTo(image, s, s);
        var (h, w) = ShortestEdgeSize(image.Height, image.Width, (int)(s / CropPct));
        return CenterCrop(ResizeTo(image, h, w), s, s);
    }
}

/// <summary>CLIPImageProcessor / BitImageProcessor: resize the shorter edge to size.shortest_edge (bicubic), center crop
/// crop_size; CLIP's mean/std by default.</summary>
public sealed class ClipImageProcessor(JsonObject raw, string? source = null) : ImageProcessor(raw, source)
{
    protected override Resampling DefaultResample => Resampling.Bicubic;
    protected override bool DefaultCenterCrop => true;
    protected override IReadOnlyList<double> DefaultMean => [0.48145466, 0.4578275, 0.40821073];
    protected override IReadOnlyList<double> DefaultStd => [0.26862954, 0.26130258, 0.27577711];

    protected override RgbImage Resize(RgbImage image)
    {
        var node = Raw["size"];
        if (node is JsonObject o && o.ContainsKey("height") && o.ContainsKey("width")) return ResizeTo(image, Int(o, "height"), Int(o, "width"));
        int s = node is null ? 224 : node.GetValueKind() == JsonValueKind.Number ? node.GetValue<int>() : Int(node, "shortest_edge");
        var (h, w) = ShortestEdgeSize(image.Height, image.Width, s);
        return ResizeTo(image, h, w);
    }
}

/// <summary>
/// Hugging Face's AutoImageProcessor: reads preprocessor_config.json and builds the processor its image_processor_type
/// (or legacy feature_extractor_type) names, through a registry users can add to.
/// </summary>
public static class AutoImageProcessor
{
    private static readonly ConcurrentDictionary<string, Func<JsonObject, string?, ImageProcessor>> Factories = new(StringComparer.Ordinal)
    {
        ["ViTImageProcessor"] = (r, s) => new ViTImageProcessor(r, s),
        ["ViTFeatureExtractor"] = (r, s) => new ViTImageProcessor(r, s),
        ["ConvNextImageProcessor"] = (r, s) => new ConvNextImageProcessor(r, s),
        ["ConvNextFeatureExtractor"] = (r, s) => new ConvNextImageProcessor(r, s),
        ["CLIPImageProcessor"] = (r, s) => new ClipImageProcessor(r, s),
        ["CLIPFeatureExtractor"] = (r, s) => new ClipImageProcessor(r, s),
        ["BitImageProcessor"] = (r, s) => new ClipImageProcessor(r, s),
        ["SegformerImageProcessor"] = (r, s) => new SegformerImageProcessor(r, s),
        ["SegformerFeatureExtractor"] = (r, s) => new SegformerImageProcessor(r, s),
        ["DetrImageProcessor"] = (r, s) => new DetrImageProcessor(r, s),
        ["DetrFeatureExtractor"] = (r, s) => new DetrImageProcessor(r, s),
    };

    public static void Register(string imageProcessorType, Func<JsonObject, string?, ImageProcessor> factory) => Factories[imageProcessorType] = factory;

    public static ImageProcessor FromPretrained(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (Directory.Exists(folder)) AtomicFolder.Recover(folder);
        var path = Path.GetFullPath(File.Exists(folder) ? folder : Path.Combine(folder, ImageProcessor.ConfigFileName));
        if (!File.Exists(path)) throw new FileNotFoundException($"No {ImageProcessor.ConfigFileName} at '{path}'.", path);
        return FromJson(File.ReadAllText(path), path);
    }

    public static ImageProcessor FromJson(string json, string? source = null)
    {
        var raw = ConfigJson.ParseObject(json, source);
        string? type = raw["image_processor_type"]?.GetValue<string>() ?? raw["feature_extractor_type"]?.GetValue<string>();
        if (type is null)
            throw new ConfigException(source, "image_processor_type", $"missing (and no feature_extractor_type); expected one of {string.Join(", ", Factories.Keys.Order())}.");
        if (!Factories.TryGetValue(type, out var factory))
            throw new ConfigException(source, "image_processor_type", $"unknown \"{type}\"; registered: {string.Join(", ", Factories.Keys.Order())}. Use AutoImageProcessor.Register to add one.");
        var p = factory(raw, source);
        _ = (p.DoResize, p.Resample, p.DoCenterCrop, p.DoRescale, p.RescaleFactor, p.DoNormalize, p.ImageMean, p.ImageStd); // type errors surface at load
        return p;
    }
}
