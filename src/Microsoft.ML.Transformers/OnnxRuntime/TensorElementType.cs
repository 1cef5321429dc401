namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>Tensor element types, numbered as ONNX's <c>TensorProto.DataType</c> (and ONNX Runtime's enum).</summary>
public enum TensorElementType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
}

/// <summary>Maps .NET element types to <see cref="TensorElementType"/> and back.</summary>
public static class TensorElementTypes
{
    /// <summary>The ONNX element type of <typeparamref name="T"/>; throws for types ONNX tensors cannot hold.</summary>
    public static TensorElementType Of<T>() where T : unmanaged => Of(typeof(T));

    public static TensorElementType Of(Type t) =>
        t == typeof(float) ? TensorElementType.Float :
        t == typeof(long) ? TensorElementType.Int64 :
        t == typeof(int) ? TensorElementType.Int32 :
        t == typeof(double) ? TensorElementType.Double :
        t == typeof(Half) ? TensorElementType.Float16 :
        t == typeof(bool) ? TensorElementType.Bool :
        t == typeof(byte) ? TensorElementType.UInt8 :
        t == typeof(sbyte) ? TensorElementType.Int8 :
        t == typeof(short) ? TensorElementType.Int16 :
        t == typeof(ushort) ? TensorElementType.UInt16 :
        t == typeof(uint) ? TensorElementType.UInt32 :
        t == typeof(ulong) ? TensorElementType.UInt64 :
        throw new NotSupportedException($"{t.Name} has no ONNX tensor element type.");

    /// <summary>The .NET type holding one element, or null for types we do not read (string, bfloat16, complex).</summary>
    public static Type? ClrType(TensorElementType e) => e switch
    {
        TensorElementType.Float => typeof(float),
        TensorElementType.Int64 => typeof(long),
        TensorElementType.Int32 => typeof(int),
        TensorElementType.Double => typeof(double),
        TensorElementType.Float16 => typeof(Half),
        TensorElementType.Bool => typeof(bool),
        TensorElementType.UInt8 => typeof(byte),
        TensorElementType.Int8 => typeof(sbyte),
        TensorElementType.Int16 => typeof(short),
        TensorElementType.UInt16 => typeof(ushort),
        TensorElementType.UInt32 => typeof(uint),
        TensorElementType.UInt64 => typeof(ulong),
        _ => null,
    };

    /// <summary>Bytes per element as ONNX Runtime stores it (bool is one byte, as in .NET arrays).</summary>
    public static int SizeOf(TensorElementType e) => e switch
    {
        TensorElementType.Bool or TensorElementType.UInt8 or TensorElementType.Int8 => 1,
        TensorElementType.Float16 or TensorElementType.BFloat16 or TensorElementType.Int16 or TensorElementType.UInt16 => 2,
        TensorElementType.Float or TensorElementType.Int32 or TensorElementType.UInt32 => 4,
        TensorElementType.Double or TensorElementType.Int64 or TensorElementType.UInt64 or TensorElementType.Complex64 => 8,
        TensorElementType.Complex128 => 16,
        _ => throw new NotSupportedException($"Element type {e} has no fixed size."),
    };

    internal static long ElementCount(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (long d in shape) n = checked(n * d);
        return n;
    }

    internal static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
