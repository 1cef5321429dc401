namespace Microsoft.ML.Transformers.SafeTensors;

/// <summary>A tensor to write whose bytes are already in memory (little-endian, row-major).</summary>
public sealed record SafeTensorEntry(string Name, SafeTensorDType DType, long[] Shape, ReadOnlyMemory<byte> Data);

/// <summary>A tensor to write whose bytes are produced on demand: <paramref name="WriteData"/> gets the output
/// stream and must write exactly shape x dtype-size bytes. Large tensors then go to disk without a second copy.</summary>
public sealed record SafeTensorStreamEntry(string Name, SafeTensorDType DType, long[] Shape, Action<Stream> WriteData)
{
    /// <summary>Bytes <see cref="WriteData"/> must write.</summary>
    public long ByteLength => checked(ShapeMath.ElementCount(Shape) * DType.ElementSize());
}
