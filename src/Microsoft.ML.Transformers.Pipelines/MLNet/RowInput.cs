using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Vision;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// What a task's input columns hold: which ML.NET types are accepted, and how a row's value is read into a plain value
/// that outlives the cursor (a string, a byte[], decoded pixels) so batches can be read ahead.
/// </summary>
internal abstract class RowInput
{
    /// <summary>Text columns: the value is the string.</summary>
    public static readonly RowInput Text = new TextColumnInput();
    /// <summary>Image columns: a path (String), encoded bytes (Vector/VarVector of Byte) or an ML.NET <see cref="MLImage"/>.</summary>
    public static readonly RowInput Image = new ImageColumnInput();

    /// <summary>The accepted types, as schema errors name them.</summary>
    public abstract string Expected { get; }
    /// <summary>What the task reads from the column ("text", "an image").</summary>
    public abstract string What { get; }
    public abstract bool Accepts(DataViewType type);
    public abstract bool Accepts(SchemaShape.Column column);
    /// <summary>A reader of the column's value on <paramref name="row"/>'s current position.</summary>
    public abstract Func<object> Reader(DataViewRow row, DataViewSchema.Column column);

    /// <summary>Whether two read values are the same input (a prediction engine reuses one row object between calls).</summary>
    public static bool Same(object? a, object? b) => (a, b) switch
    {
        (string x, string y) => string.Equals(x, y, StringComparison.Ordinal),
        (byte[] x, byte[] y) => x.AsSpan().SequenceEqual(y),
        (ImagePixels x, ImagePixels y) => x.Width == y.Width && x.Height == y.Height && x.Layout == y.Layout && x.Data.AsSpan().SequenceEqual(y.Data),
        _ => Equals(a, b),
    };

    /// <summary>A read value as error messages show it.</summary>
    public static string Describe(object? value) => value switch
    {
        string s => $"\"{(s.Length > 60 ? s[..60] + "..." : s)}\"",
        byte[] b => $"{b.Length} bytes",
        ImagePixels p => $"{p.Width}x{p.Height} {p.Layout} image",
        _ => value?.ToString() ?? "null",
    };

    private sealed class TextColumnInput : RowInput
    {
        public override string Expected => "String";
        public override string What => "text";
        public override bool Accepts(DataViewType type) => type is TextDataViewType;
        public override bool Accepts(SchemaShape.Column c) => c.Kind == SchemaShape.Column.VectorKind.Scalar && c.ItemType is TextDataViewType && !c.IsKey;

        public override Func<object> Reader(DataViewRow row, DataViewSchema.Column column)
        {
            var getter = row.GetGetter<ReadOnlyMemory<char>>(column);
            ReadOnlyMemory<char> value = default;
            return () =>
            {
                getter(ref value);
                return value.ToString();
            };
        }
    }

    private sealed class ImageColumnInput : RowInput
    {
        public override string Expected => "String (an image path), Vector<Byte> (encoded image bytes) or Image (MLImage)";
        public override string What => "an image";

        public override bool Accepts(DataViewType type) =>
            type is TextDataViewType or ImageDataViewType || type is VectorDataViewType v && v.ItemType == NumberDataViewType.Byte;

        public override bool Accepts(SchemaShape.Column c) =>
            !c.IsKey && (c.Kind == SchemaShape.Column.VectorKind.Scalar
                ? c.ItemType is TextDataViewType or ImageDataViewType
                : c.ItemType == NumberDataViewType.Byte);

        public override Func<object> Reader(DataViewRow row, DataViewSchema.Column column)
        {
            if (column.Type is TextDataViewType) return Text.Reader(row, column);
            if (column.Type is VectorDataViewType)
            {
                var bytes = row.GetGetter<VBuffer<byte>>(column);
                VBuffer<byte> buffer = default;
                return () =>
                {
                    bytes(ref buffer);
                    var dense = new byte[buffer.Length];
                    buffer.CopyTo(dense);
                    return dense;
                };
            }
            var image = row.GetGetter<MLImage>(column);
            MLImage value = null!;
            return () =>
            {
                image(ref value);
                if (value is null) throw new InvalidOperationException($"Column '{column.Name}' holds no image (a missing MLImage) in this row.");
                var layout = value.PixelFormat switch
                {
                    MLPixelFormat.Bgra32 => PixelLayout.Bgra32,
                    MLPixelFormat.Rgba32 => PixelLayout.Rgba32,
                    var f => throw new InvalidOperationException($"Column '{column.Name}': MLImage pixel format {f} is not supported; expected Bgra32 or Rgba32."),
                };
                return new ImagePixels(value.Pixels.ToArray(), value.Width, value.Height, layout);
            };
        }
    }

    /// <summary>An image value as an <see cref="ImageInput"/> for the image pipelines.</summary>
    public static ImageInput ToImage(object value) => value switch
    {
        string path => ImageInput.FromFile(path),
        byte[] bytes => ImageInput.FromBytes(bytes),
        ImagePixels p => ImageInput.FromPixels(p.Data, p.Width, p.Height, p.Layout),
        _ => throw new InvalidOperationException($"Not an image value: {value?.GetType().Name ?? "null"}."),
    };
}

/// <summary>Decoded pixels copied out of an ML.NET <see cref="MLImage"/> (which its owner may dispose).</summary>
internal sealed record ImagePixels(byte[] Data, int Width, int Height, PixelLayout Layout);
