// Decodes each file with ML.NET's MLImage and with RgbImage.Load and checks the pixels are equal; exit code 1 if not.
//   dotnet run --project test/interop/MLImageInterop -- FILE...
// Images with transparency differ by design: MLImage keeps premultiplied alpha, Pillow (and RgbImage) drop alpha unpremultiplied.
using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Vision;

int failures = 0;
foreach (var path in args)
{
    using var ml = MLImage.CreateFromFile(path);
    var layout = ml.PixelFormat == MLPixelFormat.Bgra32 ? PixelLayout.Bgra32 : PixelLayout.Rgba32;
    var fromMl = RgbImage.FromPixels(ml.Pixels, ml.Width, ml.Height, layout);
    var ours = RgbImage.Load(path);
    bool equal = ours.Width == fromMl.Width && ours.Pixels.AsSpan().SequenceEqual(fromMl.Pixels);
    if (!equal) failures++;
    Console.WriteLine($"{Path.GetFileName(path)}: MLImage {ml.Width}x{ml.Height} {ml.PixelFormat}; equal to RgbImage.Load: {equal}; " +
        $"SkiaSharp {typeof(SkiaSharp.SKBitmap).Assembly.GetName().Version}");
}
return failures == 0 ? 0 : 1;
