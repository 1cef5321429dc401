namespace Microsoft.ML.Transformers.SafeTensors;

/// <summary>Element types of the safetensors format (the header's <c>"dtype"</c> strings).</summary>
/// <remarks>The first ten are the ones models here use; the unsigned and 8-bit float types exist so that files
/// holding them can still be opened and inspected.</remarks>
public enum SafeTensorDType
{
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
    U64,
    U32,
    U16,
    F8_E5M2,
    F8_E4M3,
}

/// <summary>Sizes and header names of <see cref="SafeTensorDType"/>.</summary>
public static class SafeTensorDTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F64 or SafeTensorDType.I64 or SafeTensorDType.U64 => 8,
        SafeTensorDType.F32 or SafeTensorDType.I32 or SafeTensorDType.U32 => 4,
        SafeTensorDType.F16 or SafeTensorDType.BF16 or SafeTensorDType.I16 or SafeTensorDType.U16 => 2,
        SafeTensorDType.I8 or SafeTensorDType.U8 or SafeTensorDType.Bool
            or SafeTensorDType.F8_E5M2 or SafeTensorDType.F8_E4M3 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown safetensors dtype."),
    };

    /// <summary>The string the header uses for this type ("F32", "BF16", "BOOL", ...).</summary>
    public static string ToHeaderName(this SafeTensorDType dtype) =>
        dtype == SafeTensorDType.Bool ? "BOOL" : dtype.ToString();

    /// <summary>Every header name this library understands, for error messages.</summary>
    public static IReadOnlyList<string> KnownHeaderNames { get; } =
        Enum.GetValues<SafeTensorDType>().Select(d => d.ToHeaderName()).ToArray();

    /// <summary>Parses a header dtype string (exact, case-sensitive, as the format defines them).</summary>
    public static bool TryParseHeaderName(string name, out SafeTensorDType dtype)
    {
        foreach (var d in Enum.GetValues<SafeTensorDType>())
        {
            if (string.Equals(d.ToHeaderName(), name, StringComparison.Ordinal))
            {
                dtype = d;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    /// <summary>
    /// Position in the reference implementation's <c>Dtype</c> enum (declared in increasing alignment order).
    /// Its serializer writes tensors by this rank descending, then by name, so our files match its layout.
    /// See huggingface/safetensors safetensors/src/tensor.rs, <c>prepare</c> and <c>enum Dtype</c>.
    /// </summary>
    internal static int ReferenceOrder(this SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.Bool => 0,
        SafeTensorDType.U8 => 1,
        SafeTensorDType.I8 => 2,
        SafeTensorDType.F8_E5M2 => 3,
        SafeTensorDType.F8_E4M3 => 4,
        SafeTensorDType.I16 => 5,
        SafeTensorDType.U16 => 6,
        SafeTensorDType.F16 => 7,
        SafeTensorDType.BF16 => 8,
        SafeTensorDType.I32 => 9,
        SafeTensorDType.U32 => 10,
        SafeTensorDType.F32 => 11,
        SafeTensorDType.F64 => 12,
        SafeTensorDType.I64 => 13,
        SafeTensorDType.U64 => 14,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown safetensors dtype."),
    };
}
