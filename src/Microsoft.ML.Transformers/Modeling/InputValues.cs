using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>
/// Value checks of a token batch that both engines make before running it: ids inside their table (ONNX Runtime's
/// Gather takes a negative id as counting from the end and returns a plausible but wrong result) and an attention mask of
/// 0 and 1 only (any other value scales the additive mask and turns the logits into NaN).
/// </summary>
internal static class InputValues
{
    /// <summary>Fails unless every value of <paramref name="values"/> ([batch, sequence], row-major) is in [0, <paramref name="limit"/>).</summary>
    public static void CheckIds(ReadOnlySpan<long> values, int sequenceLength, string name, long limit = long.MaxValue, string? limitKey = null)
    {
        for (int i = 0; i < values.Length; i++)
            if ((ulong)values[i] >= (ulong)limit)
                throw OutOfRange(name, i, sequenceLength, values[i], limit, limitKey);
    }

    /// <summary>Fails unless every value of the mask is 0 or 1.</summary>
    public static void CheckMask(ReadOnlySpan<long> values, int sequenceLength)
    {
        for (int i = 0; i < values.Length; i++)
            if ((ulong)values[i] > 1)
                throw NotBinary(i, sequenceLength, values[i].ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The tensor form of <see cref="CheckIds"/>: one reduction, and the first bad position only when there is one.</summary>
    public static void CheckIds(Tensor ids, string name, long limit = long.MaxValue, string? limitKey = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // the limit as a Scalar held to the end: an implicit long -> Scalar temporary can be finalized while libtorch still
        // reads it ("Unknown scalar type" from ge, seen under load in the pipeline benchmark)
        using Scalar zero = 0L.ToScalar(), top = limit.ToScalar();
        var bad = limit == long.MaxValue ? ids.lt(zero) : ids.lt(zero).logical_or(ids.ge(top));
        GC.KeepAlive(zero);
        GC.KeepAlive(top);
        if (!bad.any().item<bool>()) return;
        long at = bad.reshape(-1).nonzero()[0, 0].item<long>();
        throw OutOfRange(name, at, ids.shape[^1], ids.reshape(-1)[at].to(ScalarType.Int64).item<long>(), limit, limitKey);
    }

    /// <summary>The tensor form of <see cref="CheckMask"/> (integer, bool or float masks).</summary>
    public static void CheckMask(Tensor mask)
    {
        if (mask.dtype == ScalarType.Bool) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // held Scalars, as in CheckIds: the implicit temporaries crashed here too ("Unknown scalar type" from ne)
        using Scalar zero = 0L.ToScalar(), one = 1L.ToScalar();
        var bad = mask.ne(zero).logical_and(mask.ne(one));
        GC.KeepAlive(zero);
        GC.KeepAlive(one);
        if (!bad.any().item<bool>()) return;
        long at = bad.reshape(-1).nonzero()[0, 0].item<long>();
        var v = mask.reshape(-1)[at].to(ScalarType.Float64).item<double>();
        throw NotBinary(at, mask.shape[^1], v.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
    }

    private static ArgumentException OutOfRange(string name, long flat, long sequenceLength, long value, long limit, string? limitKey)
    {
        var (row, col) = Position(flat, sequenceLength);
        string range = limit == long.MaxValue ? "expected ids >= 0" : $"expected ids from 0 to {limit - 1} ({limitKey} is {limit})";
        return new ArgumentException($"{name}[{row}, {col}] is {value}: {range}.", name);
    }

    private static ArgumentException NotBinary(long flat, long sequenceLength, string value)
    {
        var (row, col) = Position(flat, sequenceLength);
        return new ArgumentException(
            $"attention_mask[{row}, {col}] is {value}: expected 0 (padding) or 1 (token); other values would turn the outputs into NaN.",
            "attention_mask");
    }

    private static (long row, long col) Position(long flat, long sequenceLength) =>
        sequenceLength <= 0 ? (0, flat) : (flat / sequenceLength, flat % sequenceLength);
}
