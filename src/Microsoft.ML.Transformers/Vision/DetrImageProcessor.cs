using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Vision;

/// <summary>One detected object: its class id, score and box (x0, y0, x1, y1) in pixels of the target size.</summary>
public sealed record DetectedObject(int Label, float Score, float XMin, float YMin, float XMax, float YMax);

/// <summary>A batch for DETR: pixel_values padded (bottom / right, zeros) to the largest image, and pixel_mask
/// [B, H, W] with 1 on each image's own pixels.</summary>
public sealed record PaddedPixelValues(PixelValues Pixels, IReadOnlyList<(int height, int width)> ImageSizes)
{
    /// <summary>The batch's pixel_mask, carried by <see cref="Pixels"/> (so any model runner passes it on).</summary>
    public long[] PixelMask => Pixels.PixelMask!;

    public Tensor MaskTensor(Device? device = null) => tensor(PixelMask, [Pixels.Batch, Pixels.Height, Pixels.Width], device: device);
}

/// <summary>
/// Hugging Face's DetrImageProcessor (slow path, coco_detection): resize so the shortest edge is size.shortest_edge
/// unless the longest edge would pass size.longest_edge (get_size_with_aspect_ratio), or to size {height, width};
/// rescale, ImageNet normalize; pad a batch to its largest image with a pixel_mask. post_process_object_detection
/// turns logits and pred_boxes into scored boxes in pixels.
/// </summary>
public sealed class DetrImageProcessor(JsonObject raw, string? source = null) : ImageProcessor(raw, source)
{
    protected override IReadOnlyList<double> DefaultMean => [0.485, 0.456, 0.406];
    protected override IReadOnlyList<double> DefaultStd => [0.229, 0.224, 0.225];

    public bool DoPad => Get("do_pad", true);

    /// <summary>(shortest_edge, longest_edge) or (height, width) of size; default 800 / 1333.</summary>
    public (int? shortest, int? longest, int? height, int? width) Size
    {
        get
        {
            var node = Raw["size"] as JsonObject;
            if (node is null) return (800, 1333, null, null);
            int? Read(string k) => node[k]?.GetValue<int>();
            var s = (Read("shortest_edge"), Read("longest_edge"), Read("height"), Read("width"));
            if (s.Item1 is null && (s.Item3 is null || s.Item4 is null))
                throw new Configuration.ConfigException(Source, "size", $"expected {{shortest_edge[, longest_edge]}} or {{height, width}}, found {node.ToJsonString()}.");
            return s;
        }
    }

    /// <summary>image_transforms' get_size_with_aspect_ratio: the output (height, width) for an image of (height, width).</summary>
    public static (int height, int width) SizeWithAspectRatio(int height, int width, int size, int? maxSize)
    {
        double? raw = null;
        if (maxSize is int max)
        {
            double lo = Math.Min(height, width), hi = Math.Max(height, width);
            if (hi / lo * size > max)
            {
                raw = max * lo / hi;
                size = (int)Math.Round(raw.Value, MidpointRounding.ToEven);
            }
        }
        if ((height <= width && height == size) || (width <= height && width == size)) return (height, width);
        if (width < height)
            return ((int)((raw ?? size) * height / width), size);
        return (size, (int)((raw ?? size) * width / height));
    }

    protected override RgbImage Resize(RgbImage image)
    {
        var (shortest, longest, h, w) = Size;
        var (oh, ow) = shortest is int s ? SizeWithAspectRatio(image.Height, image.Width, s, longest) : (h!.Value, w!.Value);
        return ResizeTo(image, oh, ow);
    }

    /// <summary>Preprocesses images of any sizes into one padded batch with its pixel_mask.</summary>
    public PaddedPixelValues PreprocessPadded(IReadOnlyList<RgbImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("No images to preprocess.", nameof(images));
        return Pad(images.Select(img => (data: Preprocess(img, out int ih, out int iw), h: ih, w: iw)).ToList());
    }

    /// <summary>Pads preprocessed images (each [1, 3, h, w]) to the largest height and width, bottom and right, with a pixel_mask.</summary>
    public PaddedPixelValues Pad(IReadOnlyList<PixelValues> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("No images to pad.", nameof(images));
        if (images.Any(p => p.Batch != 1)) throw new ArgumentException("Each part to pad must hold one image.", nameof(images));
        return Pad(images.Select(p => (p.Data, h: p.Height, w: p.Width)).ToList());
    }

    private PaddedPixelValues Pad(List<(float[] data, int h, int w)> parts)
    {
        int H = parts.Max(p => p.h), W = parts.Max(p => p.w);
        if (!DoPad && parts.Any(p => p.h != H || p.w != W))
            throw new ArgumentException($"do_pad is false but the images preprocess to different sizes ({string.Join(", ", parts.Select(p => $"{p.h}x{p.w}"))}).", "images");
        var data = new float[(long)parts.Count * 3 * H * W];
        var mask = new long[(long)parts.Count * H * W];
        for (int b = 0; b < parts.Count; b++)
        {
            var (src, h, w) = parts[b];
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < h; y++)
                    Array.Copy(src, (long)c * h * w + (long)y * w, data, (((long)b * 3 + c) * H + y) * W, w);
            for (int y = 0; y < h; y++) Array.Fill(mask, 1L, (int)(((long)b * H + y) * W), w);
        }
        return new PaddedPixelValues(new PixelValues(data, parts.Count, H, W) { PixelMask = mask }, parts.Select(p => (p.h, p.w)).ToList());
    }

    /// <summary>
    /// post_process_object_detection: per query, the best real class by softmax probability (the last class is "no
    /// object"), kept when its score is above <paramref name="threshold"/>; boxes from (cx, cy, w, h) to corners, scaled to
    /// each target (height, width) when given (else left normalized). Results keep query order.
    /// </summary>
    /// <param name="logits">[B, Q, num_labels + 1], row-major.</param>
    /// <param name="predBoxes">[B, Q, 4], row-major.</param>
    public static IReadOnlyList<IReadOnlyList<DetectedObject>> PostProcessObjectDetection(ReadOnlySpan<float> logits, ReadOnlySpan<float> predBoxes,
        int batch, double threshold = 0.5, IReadOnlyList<(int height, int width)>? targetSizes = null)
    {
        if (batch <= 0 || predBoxes.Length % (batch * 4) != 0)
            throw new ArgumentException($"pred_boxes holds {predBoxes.Length} numbers; expected batch ({batch}) x queries x 4.");
        int queries = predBoxes.Length / (batch * 4);
        if (logits.Length % (batch * queries) != 0 || logits.Length / (batch * queries) < 2)
            throw new ArgumentException($"logits holds {logits.Length} numbers; expected batch ({batch}) x queries ({queries}) x (num_labels + 1).");
        if (targetSizes is not null && targetSizes.Count != batch)
            throw new ArgumentException($"Make sure that you pass in as many target sizes as the batch dimension of the logits: {targetSizes.Count} target sizes for a batch of {batch}.");
        int classes = logits.Length / (batch * queries);
        var results = new List<IReadOnlyList<DetectedObject>>(batch);
        for (int b = 0; b < batch; b++)
        {
            var list = new List<DetectedObject>();
            float sx = targetSizes is null ? 1 : targetSizes[b].width, sy = targetSizes is null ? 1 : targetSizes[b].height;
            for (int q = 0; q < queries; q++)
            {
                var row = logits.Slice((b * queries + q) * classes, classes);
                float max = float.NegativeInfinity;
                foreach (var v in row) max = Math.Max(max, v);
                double sum = 0;
                foreach (var v in row) sum += Math.Exp(v - max);
                int best = 0;
                for (int c = 1; c < classes - 1; c++) if (row[c] > row[best]) best = c;
                float score = (float)(Math.Exp(row[best] - max) / sum);
                if (!(score > threshold)) continue;
                var box = predBoxes.Slice((b * queries + q) * 4, 4);
                float cx = box[0], cy = box[1], w = box[2], h = box[3];
                list.Add(new DetectedObject(best, score, (cx - 0.5f * w) * sx, (cy - 0.5f * h) * sy, (cx + 0.5f * w) * sx, (cy + 0.5f * h) * sy));
            }
            results.Add(list);
        }
        return results;
    }
}
