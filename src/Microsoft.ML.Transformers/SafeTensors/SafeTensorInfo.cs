namespace Microsoft.ML.Transformers.SafeTensors;

/// <summary>One tensor's header entry.</summary>
/// <param name="Name">The tensor's key, e.g. <c>encoder.layer.0.output.LayerNorm.weight</c>.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions, row-major (C order); empty for a scalar.</param>
/// <param name="Begin">Start of the data, in bytes, RELATIVE to the data section (the byte after the header),
/// exactly as the header's <c>data_offsets</c> says. Add <see cref="SafeTensorsFile.DataStart"/> for a file offset.</param>
/// <param name="End">End of the data (exclusive), relative like <paramref name="Begin"/>.</param>
public sealed record SafeTensorInfo(string Name, SafeTensorDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount => ShapeMath.ElementCount(Shape);

    /// <summary><see cref="End"/> - <see cref="Begin"/>.</summary>
    public long ByteLength => End - Begin;

    /// <summary>Shape as the header writes it, e.g. <c>[2, 3]</c>, for messages.</summary>
    public string ShapeText => ShapeMath.Format(Shape);
}

internal static class ShapeMath
{
    /// <summary>Product of dims; throws <see cref="OverflowException"/> past long.MaxValue.</summary>
    public static long ElementCount(IReadOnlyList<long> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n = checked(n * d);
        }
        return n;
    }

    public static string Format(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape) + "]";
}
