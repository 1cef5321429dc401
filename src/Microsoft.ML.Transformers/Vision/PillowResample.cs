namespace Microsoft.ML.Transformers.Vision;

/// <summary>Pillow's resampling filters (PIL.Image.Resampling), by the numbers Hugging Face's configs use.</summary>
public enum Resampling
{
    Nearest = 0,
    Lanczos = 1,
    Bilinear = 2,
    Bicubic = 3,
    Box = 4,
    Hamming = 5,
}

/// <summary>
/// Pillow's 8-bit resize (libImaging/Resample.c): separable convolution whose support widens with the downscale factor
/// (antialiasing), coefficients normalized to fixed point with 22 fraction bits, a horizontal pass then a vertical pass,
/// each rounded and clipped to 0..255. Hugging Face's image processors resize through Pillow, so this is what makes
/// pixel_values equal theirs rather than close.
/// </summary>
internal static class PillowResample
{
    private const int PrecisionBits = 32 - 8 - 2;

    private static (double support, Func<double, double> filter) Filter(Resampling r) => r switch
    {
        Resampling.Box => (0.5, x => x > -0.5 && x <= 0.5 ? 1.0 : 0.0),
        Resampling.Bilinear => (1.0, x => { x = Math.Abs(x); return x < 1.0 ? 1.0 - x : 0.0; }),
        Resampling.Hamming => (1.0, x =>
        {
            x = Math.Abs(x);
            if (x == 0.0) return 1.0;
            if (x >= 1.0) return 0.0;
            x *= Math.PI;
            return Math.Sin(x) / x * (0.54 + 0.46 * Math.Cos(x));
        }),
        Resampling.Bicubic => (2.0, x =>
        {
            const double a = -0.5;
            x = Math.Abs(x);
            if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
            if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
            return 0.0;
        }),
        Resampling.Lanczos => (3.0, x => x > -3.0 && x < 3.0 ? Sinc(x) * Sinc(x / 3.0) : 0.0),
        _ => throw new ArgumentOutOfRangeException(nameof(r), r, "not a convolution filter"),
    };

    private static double Sinc(double x)
    {
        if (x == 0.0) return 1.0;
        x *= Math.PI;
        return Math.Sin(x) / x;
    }

    /// <summary>precompute_coeffs + normalize_coeffs_8bpc: per output index the first input index, the tap count and
    /// fixed-point weights (ksize per row).</summary>
    private static (int[] bounds, int[] kk, int ksize) Coefficients(int inSize, int outSize, Resampling r)
    {
        var (baseSupport, filter) = Filter(r);
        double scale = (double)inSize / outSize, filterscale = Math.Max(scale, 1.0);
        double support = baseSupport * filterscale;
        int ksize = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[outSize * 2];
        var kk = new int[outSize * ksize];
        var k = new double[ksize];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
            Array.Clear(k);
            for (int x = 0; x < xmax; x++)
            {
                double w = filter((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++)
            {
                if (ww != 0.0) k[x] /= ww;
                double v = k[x] * (1 << PrecisionBits);
                kk[xx * ksize + x] = (int)(v < 0 ? v - 0.5 : v + 0.5);
            }
            bounds[xx * 2] = xmin;
            bounds[xx * 2 + 1] = xmax;
        }
        return (bounds, kk, ksize);
    }

    private static byte Clip8(int v)
    {
        v >>= PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    /// <summary>Resizes interleaved 8-bit pixels (<paramref name="channels"/> per pixel) as Pillow's Image.resize does.</summary>
    public static byte[] Resize(ReadOnlySpan<byte> src, int width, int height, int channels, int outWidth, int outHeight, Resampling r)
    {
        if (outWidth <= 0 || outHeight <= 0) throw new ArgumentOutOfRangeException(nameof(outWidth), $"resize target {outWidth}x{outHeight} must be positive.");
        if (r == Resampling.Nearest) return Nearest(src, width, height, channels, outWidth, outHeight);
        byte[] current = src.ToArray();
        int curW = width;
        if (outWidth != width)
        {
            var (bounds, kk, ksize) = Coefficients(width, outWidth, r);
            var dst = new byte[outWidth * height * channels];
            Parallel.For(0, height, y =>
            {
                int rowIn = y * width * channels, rowOut = y * outWidth * channels;
                for (int xx = 0; xx < outWidth; xx++)
                {
                    int xmin = bounds[xx * 2], xmax = bounds[xx * 2 + 1], kOff = xx * ksize;
                    for (int c = 0; c < channels; c++)
                    {
                        int ss = 1 << (PrecisionBits - 1);
                        for (int x = 0; x < xmax; x++) ss += current[rowIn + (x + xmin) * channels + c] * kk[kOff + x];
                        dst[rowOut + xx * channels + c] = Clip8(ss);
                    }
                }
            });
            current = dst;
            curW = outWidth;
        }
        if (outHeight != height)
        {
            var (bounds, kk, ksize) = Coefficients(height, outHeight, r);
            var dst = new byte[curW * outHeight * channels];
            int stride = curW * channels;
            var input = current;
            Parallel.For(0, outHeight, yy =>
            {
                int ymin = bounds[yy * 2], ymax = bounds[yy * 2 + 1], kOff = yy * ksize, rowOut = yy * stride;
                for (int i = 0; i < stride; i++)
                {
                    int ss = 1 << (PrecisionBits - 1);
                    for (int y = 0; y < ymax; y++) ss += input[(y + ymin) * stride + i] * kk[kOff + y];
                    dst[rowOut + i] = Clip8(ss);
                }
            });
            current = dst;
        }
        return current;
    }

    /// <summary>Pillow's nearest neighbour (ImagingTransformAffine with a scale): source = floor((x + 0.5) * in / out).</summary>
    private static byte[] Nearest(ReadOnlySpan<byte> src, int width, int height, int channels, int outWidth, int outHeight)
    {
        var dst = new byte[outWidth * outHeight * channels];
        double sx = (double)width / outWidth, sy = (double)height / outHeight;
        for (int y = 0; y < outHeight; y++)
        {
            int yi = Math.Min((int)((y + 0.5) * sy), height - 1);
            for (int x = 0; x < outWidth; x++)
            {
                int xi = Math.Min((int)((x + 0.5) * sx), width - 1);
                src.Slice((yi * width + xi) * channels, channels).CopyTo(dst.AsSpan((y * outWidth + x) * channels, channels));
            }
        }
        return dst;
    }
}
