namespace Microsoft.ML.Transformers.Torch;

/// <summary>Element types, numbered as libtorch's c10::ScalarType (and TorchSharp's ScalarType).</summary>
public enum ScalarType
{
    Byte = 0,
    Int8 = 1,
    Int16 = 2,
    Int32 = 3,
    Int64 = 4,
    Float16 = 5,
    Float32 = 6,
    Float64 = 7,
    Bool = 11,
    BFloat16 = 15,
}

internal static class ScalarTypeExtensions
{
    public static int ElementSize(this ScalarType t) => t switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unsupported element type"),
    };

    public static ScalarType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return ScalarType.Float32;
        if (typeof(T) == typeof(long)) return ScalarType.Int64;
        if (typeof(T) == typeof(int)) return ScalarType.Int32;
        if (typeof(T) == typeof(double)) return ScalarType.Float64;
        if (typeof(T) == typeof(Half)) return ScalarType.Float16;
        if (typeof(T) == typeof(BFloat16)) return ScalarType.BFloat16;
        if (typeof(T) == typeof(bool)) return ScalarType.Bool;
        if (typeof(T) == typeof(byte)) return ScalarType.Byte;
        if (typeof(T) == typeof(sbyte)) return ScalarType.Int8;
        if (typeof(T) == typeof(short)) return ScalarType.Int16;
        throw new NotSupportedException($"No tensor element type for .NET type {typeof(T).Name}.");
    }
}

/// <summary>bfloat16: the upper 16 bits of an IEEE float32 (round-to-nearest-even on conversion).</summary>
public readonly record struct BFloat16(ushort Bits)
{
    public static explicit operator float(BFloat16 v) => BitConverter.Int32BitsToSingle(v.Bits << 16);

    public static explicit operator BFloat16(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f)) return new BFloat16((ushort)((bits >> 16) | 0x40));
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return new BFloat16((ushort)((bits + rounding) >> 16));
    }

    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
