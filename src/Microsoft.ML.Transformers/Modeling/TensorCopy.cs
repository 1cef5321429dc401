using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>Copies between host memory (memory-mapped safetensors, files) and libtorch tensors without a managed copy.</summary>
internal static unsafe class TensorCopy
{
    // A span covers at most int.MaxValue bytes: larger tensors are copied in slices of the flattened view.
    private const long MaxChunkBytes = 1L << 30;

    /// <summary>Copies <paramref name="byteLength"/> bytes at <paramref name="source"/>, a row-major tensor of
    /// <paramref name="shape"/> and <paramref name="sourceType"/>, into <paramref name="target"/> (same shape; any dtype and device).</summary>
    public static void FromHost(Tensor target, byte* source, long byteLength, long[] shape, ScalarType sourceType)
    {
        using var _ = no_grad();
        if (target.dtype == sourceType && target.device_type == DeviceType.CPU && target.is_contiguous())
        {
            CopyInto(target, source, byteLength);
            return;
        }
        using var staging = empty(shape, sourceType);
        CopyInto(staging, source, byteLength);
        target.copy_(staging); // converts dtype and moves to the target's device
    }

    private static void CopyInto(Tensor contiguous, byte* source, long byteLength)
    {
        long elementSize = contiguous.ElementSize;
        if (byteLength != contiguous.NumberOfElements * elementSize)
            throw new InvalidDataException($"Expected {contiguous.NumberOfElements * elementSize} bytes for a tensor of shape [{string.Join(", ", contiguous.shape)}], found {byteLength}.");
        if (byteLength == 0) return;
        if (byteLength <= MaxChunkBytes)
        {
            new ReadOnlySpan<byte>(source, (int)byteLength).CopyTo(contiguous.bytes);
            return;
        }
        using var flat = contiguous.view(-1);
        long perChunk = MaxChunkBytes / elementSize;
        for (long start = 0; start < flat.shape[0]; start += perChunk)
        {
            long n = Math.Min(perChunk, flat.shape[0] - start);
            using var part = flat.narrow(0, start, n);
            new ReadOnlySpan<byte>(source + start * elementSize, (int)(n * elementSize)).CopyTo(part.bytes);
        }
    }

    /// <summary>Writes the raw row-major bytes of <paramref name="tensor"/> to <paramref name="stream"/> straight from libtorch's memory.</summary>
    public static void ToStream(Tensor tensor, Stream stream)
    {
        using var _ = no_grad();
        using var host = tensor.detach().cpu().contiguous();
        if (host.NumberOfElements == 0) return;
        using var flat = host.view(-1);
        long elementSize = host.ElementSize;
        long perChunk = MaxChunkBytes / elementSize;
        for (long start = 0; start < flat.shape[0]; start += perChunk)
        {
            using var part = flat.narrow(0, start, Math.Min(perChunk, flat.shape[0] - start));
            stream.Write(part.bytes);
        }
    }
}

/// <summary>Hugging Face's torch_dtype names.</summary>
public static class TorchDtypes
{
    public static string Name(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float64 => "float64",
        _ => t.ToString().ToLowerInvariant(),
    };

    /// <summary>Parses "float32", "float16"/"half", "bfloat16", "float64"; throws naming <paramref name="source"/> otherwise.</summary>
    public static ScalarType Parse(string name, string source) => name.Trim().ToLowerInvariant() switch
    {
        "float32" or "float" or "fp32" => ScalarType.Float32,
        "float16" or "half" or "fp16" => ScalarType.Float16,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float64" or "double" => ScalarType.Float64,
        _ => throw new ArgumentException($"{source}: torch_dtype \"{name}\" is not supported; expected float32, float16, bfloat16, float64 or auto."),
    };
}
