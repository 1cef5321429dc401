using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Vision;

/// <summary>One image's label map: the class id of every pixel, row-major [Height, Width].</summary>
public sealed record SegmentationMap(int Height, int Width, int[] Data)
{
    /// <summary>The class ids that occur in the map, ascending (torch.unique).</summary>
    public int[] LabelIds => Data.Distinct().Order().ToArray();

    /// <summary>The map as an int64 tensor [Height, Width] (what Hugging Face returns).</summary>
    public Tensor ToTensor(Device? device = null)
    {
        Engines.TorchSharpRuntime.EnsureLoaded();
        return tensor(Data.Select(v => (long)v).ToArray(), [Height, Width], device: device);
    }
}

/// <summary>
/// Hugging Face's <c>post_process_semantic_segmentation</c> (SegformerImageProcessor, also used by UperNet): per image,
/// the logits [num_labels, h, w] resized bilinearly (align_corners = false, PyTorch's source-index rule) to the target
/// size, then the arg-max class of every pixel (the first on ties, as torch.argmax). The resize is computed one output
/// row at a time, so memory is the label map plus one row per class, whatever the target size.
/// </summary>
public static class SemanticSegmentation
{
    /// <summary>Label maps of a batch of logits [B, num_labels, h, w]; <paramref name="targetSizes"/> (height, width) per
    /// image, or null to keep the logits' size.</summary>
    public static IReadOnlyList<SegmentationMap> PostProcess(Tensor logits, IReadOnlyList<(int Height, int Width)>? targetSizes = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.dim() != 4 || !logits.is_floating_point())
            throw new ArgumentException($"logits must be a float tensor [batch, num_labels, height, width]; found {logits.dtype} [{string.Join(", ", logits.shape)}].", nameof(logits));
        using var host = logits.detach().to(ScalarType.Float32).cpu().contiguous();
        return PostProcess(host.data<float>().ToArray(), host.shape, targetSizes);
    }

    /// <summary>As <see cref="PostProcess(Tensor, IReadOnlyList{ValueTuple{int, int}}?)"/> over row-major host logits of <paramref name="shape"/>.</summary>
    public static IReadOnlyList<SegmentationMap> PostProcess(ReadOnlySpan<float> logits, IReadOnlyList<long> shape, IReadOnlyList<(int Height, int Width)>? targetSizes = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Count != 4 || shape.Any(d => d < 1) || shape[0] * shape[1] * shape[2] * shape[3] != logits.Length)
            throw new ArgumentException($"logits of {logits.Length} values do not make shape [{string.Join(", ", shape)}]; expected [batch, num_labels, height, width].", nameof(shape));
        int batch = (int)shape[0], labels = (int)shape[1], h = (int)shape[2], w = (int)shape[3];
        if (targetSizes is not null && targetSizes.Count != batch)
            throw new ArgumentException($"Make sure that you pass in as many target sizes as the batch dimension of the logits: {targetSizes.Count} target sizes for a batch of {batch}.", nameof(targetSizes));
        var maps = new SegmentationMap[batch];
        for (int b = 0; b < batch; b++)
        {
            var (th, tw) = targetSizes?[b] ?? (h, w);
            if (th < 1 || tw < 1 || (long)th * tw > RgbImage.MaxPixels)
                throw new ArgumentException($"Target size {th}x{tw} (image {b}) must be positive and at most {RgbImage.MaxPixels} pixels.", nameof(targetSizes));
            maps[b] = ArgmaxResized(logits.Slice(b * labels * h * w, labels * h * w), labels, h, w, th, tw);
        }
        return maps;
    }

    /// <summary>PyTorch's upsample_bilinear2d source index for output index <paramref name="dst"/>: the two input
    /// indices and their weights.</summary>
    private static (int i0, int i1, float w0, float w1) Source(int dst, int inSize, float scale)
    {
        float src = Math.Max(scale * (dst + 0.5f) - 0.5f, 0f);
        int i0 = (int)src;
        int i1 = i0 < inSize - 1 ? i0 + 1 : i0;
        float l1 = src - i0;
        return (i0, i1, 1f - l1, l1);
    }

    private static SegmentationMap ArgmaxResized(ReadOnlySpan<float> logits, int labels, int h, int w, int outH, int outW)
    {
        var xs = new (int i0, int i1, float w0, float w1)[outW];
        for (int x = 0; x < outW; x++) xs[x] = Source(x, w, (float)w / outW);
        var map = new int[outH * outW];
        var best = new float[outW];
        int plane = h * w;
        for (int y = 0; y < outH; y++)
        {
            var (y0, y1, wy0, wy1) = Source(y, h, (float)h / outH);
            var row = map.AsSpan(y * outW, outW);
            for (int c = 0; c < labels; c++)
            {
                var top = logits.Slice(c * plane + y0 * w, w);
                var bottom = logits.Slice(c * plane + y1 * w, w);
                for (int x = 0; x < outW; x++)
                {
                    var (x0, x1, wx0, wx1) = xs[x];
                    float v = wy0 * (wx0 * top[x0] + wx1 * top[x1]) + wy1 * (wx0 * bottom[x0] + wx1 * bottom[x1]);
                    if (c == 0 || v > best[x])
                    {
                        best[x] = v;
                        row[x] = c;
                    }
                }
            }
        }
        return new SegmentationMap(outH, outW, map);
    }
}
