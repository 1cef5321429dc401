using SkiaSharp;

namespace Microsoft.ML.Transformers.Vision;

/// <summary>Raised for images that cannot be decoded: corrupt or truncated data, an unsupported format, an empty or
/// oversized image. The message names the source.</summary>
public sealed class ImageDecodeException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>Byte order of interleaved 8-bit pixels handed to <see cref="RgbImage.FromPixels(ReadOnlySpan{byte}, int, int, PixelLayout)"/>.</summary>
public enum PixelLayout { Gray8, Rgb24, Bgr24, Rgba32, Bgra32 }

/// <summary>
/// A decoded 8-bit RGB image, row-major interleaved (height x width x 3), what Hugging Face's <c>load_image</c> hands to
/// an image processor: EXIF orientation applied (<c>ImageOps.exif_transpose</c>), then converted to RGB (grayscale
/// replicated, alpha dropped without compositing, palette expanded), as Pillow's <c>convert("RGB")</c>.
/// SkiaSharp only decodes; every pixel operation after that is ours.
/// </summary>
public sealed class RgbImage
{
    /// <summary>Pillow's decompression-bomb limit (2 x Image.MAX_IMAGE_PIXELS): larger images are refused from their header,
    /// before any pixel memory is allocated.</summary>
    public const long MaxPixels = 2L * 89_478_485;

    public int Width { get; }
    public int Height { get; }
    /// <summary>Height x width x 3 bytes.</summary>
    public byte[] Pixels { get; }

    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"An image needs a positive size, got {width}x{height}.");
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != (long)width * height * 3)
            throw new ArgumentException($"{width}x{height} RGB needs {(long)width * height * 3} bytes, got {pixels.LongLength}.", nameof(pixels));
        (Width, Height, Pixels) = (width, height, pixels);
    }

    public static RgbImage Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No image at '{Path.GetFullPath(path)}'.", path);
        using var data = SKData.Create(path) ?? throw new ImageDecodeException($"Cannot read '{path}'.");
        return Decode(data, path);
    }

    public static RgbImage FromBytes(ReadOnlySpan<byte> bytes, string? source = null)
    {
        using var data = SKData.CreateCopy(bytes);
        return Decode(data, source ?? "image bytes");
    }

    public static RgbImage FromStream(Stream stream, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return FromBytes(ms.GetBuffer().AsSpan(0, (int)ms.Length), source ?? "image stream");
    }

    /// <summary>From interleaved 8-bit pixels in <paramref name="channels"/> = 1 (gray), 3 (RGB) or 4 (RGBA, alpha dropped) per pixel.</summary>
    public static RgbImage FromPixels(ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"An image needs a positive size, got {width}x{height}.");
        if (channels is not (1 or 3 or 4)) throw new ArgumentException($"channels must be 1, 3 or 4, got {channels}.", nameof(channels));
        long n = (long)width * height;
        if (pixels.Length != n * channels) throw new ArgumentException($"{width}x{height}x{channels} needs {n * channels} bytes, got {pixels.Length}.", nameof(pixels));
        var rgb = new byte[n * 3];
        for (long i = 0; i < n; i++)
        {
            if (channels == 1) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = pixels[(int)i];
            else for (int c = 0; c < 3; c++) rgb[i * 3 + c] = pixels[(int)(i * channels + c)];
        }
        return new RgbImage(width, height, rgb);
    }

    /// <summary>
    /// From interleaved pixels in <paramref name="layout"/> (alpha dropped). This is how ML.NET's <c>MLImage</c> comes in
    /// without this library depending on Microsoft.ML.ImageAnalytics:
    /// <c>RgbImage.FromPixels(img.Pixels, img.Width, img.Height, img.PixelFormat == MLPixelFormat.Bgra32 ? PixelLayout.Bgra32 : PixelLayout.Rgba32)</c>.
    /// </summary>
    public static RgbImage FromPixels(ReadOnlySpan<byte> pixels, int width, int height, PixelLayout layout)
    {
        if (layout is PixelLayout.Gray8 or PixelLayout.Rgb24 or PixelLayout.Rgba32)
            return FromPixels(pixels, width, height, layout switch { PixelLayout.Gray8 => 1, PixelLayout.Rgb24 => 3, _ => 4 });
        int channels = layout == PixelLayout.Bgr24 ? 3 : 4;
        if (width <= 0 || height <= 0) throw new ArgumentException($"An image needs a positive size, got {width}x{height}.");
        long n = (long)width * height;
        if (pixels.Length != n * channels) throw new ArgumentException($"{width}x{height} {layout} needs {n * channels} bytes, got {pixels.Length}.", nameof(pixels));
        var rgb = new byte[n * 3];
        for (long i = 0; i < n; i++)
        {
            rgb[i * 3] = pixels[(int)(i * channels + 2)];
            rgb[i * 3 + 1] = pixels[(int)(i * channels + 1)];
            rgb[i * 3 + 2] = pixels[(int)(i * channels)];
        }
        return new RgbImage(width, height, rgb);
    }

    /// <summary>From a SkiaSharp bitmap (any color type; read unpremultiplied).</summary>
    public static RgbImage FromBitmap(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        var info = new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var rgba = new SKBitmap(info);
        if (!bitmap.CopyTo(rgba, SKColorType.Rgba8888)) throw new ImageDecodeException($"Cannot convert a {bitmap.ColorType} bitmap to RGBA.");
        return FromPixels(rgba.GetPixelSpan(), bitmap.Width, bitmap.Height, 4);
    }

    private static RgbImage Decode(SKData data, string source)
    {
        using var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out var result);
        if (codec is null)
            throw new ImageDecodeException(result == SKCodecResult.Unimplemented || data.Size > 0 && result != SKCodecResult.IncompleteInput
                ? $"'{source}' is not an image in a supported format (JPEG, PNG, GIF, BMP, WebP, ICO, WBMP): {result}."
                : $"'{source}' is empty or truncated: {result}.");
        int w = codec.Info.Width, h = codec.Info.Height;
        if (w <= 0 || h <= 0) throw new ImageDecodeException($"'{source}' is a {w}x{h} image; an image needs at least one pixel.");
        if ((long)w * h > MaxPixels)
            throw new ImageDecodeException($"'{source}' is {w}x{h} = {(long)w * h} pixels, more than the {MaxPixels} Pillow refuses as a decompression bomb; not decoded.");
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[(long)w * h * 4];
        SKCodecResult r;
        unsafe
        {
            fixed (byte* p = rgba) r = codec.GetPixels(info, (IntPtr)p);
        }
        if (r != SKCodecResult.Success)
            throw new ImageDecodeException(r == SKCodecResult.IncompleteInput
                ? $"'{source}' is truncated: its {codec.EncodedFormat} data ends before the {w}x{h} image does."
                : $"'{source}' could not be decoded as {codec.EncodedFormat}: {r}.");
        return FromPixels(rgba, w, h, 4).Oriented(codec.EncodedOrigin);
    }

    /// <summary>Applies an EXIF orientation (what <c>ImageOps.exif_transpose</c> does).</summary>
    internal RgbImage Oriented(SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or 0) return this;
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int ow = swap ? Height : Width, oh = swap ? Width : Height;
        var dst = new byte[Pixels.Length];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                // (sx, sy): the stored pixel that lands at display position (x, y).
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (Width - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (Width - 1 - x, Height - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, Height - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, Height - 1 - x),
                    SKEncodedOrigin.RightBottom => (Width - 1 - y, Height - 1 - x),
                    SKEncodedOrigin.LeftBottom => (Width - 1 - y, x),
                    _ => (x, y),
                };
                Pixels.AsSpan((sy * Width + sx) * 3, 3).CopyTo(dst.AsSpan((y * ow + x) * 3, 3));
            }
        return new RgbImage(ow, oh, dst);
    }
}
