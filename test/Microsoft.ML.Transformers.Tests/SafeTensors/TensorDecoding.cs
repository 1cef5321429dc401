using System.Buffers.Binary;
using Microsoft.ML.Transformers.SafeTensors;

namespace Microsoft.ML.Transformers.Tests.SafeTensors;

/// <summary>Turns raw little-endian tensor bytes into doubles, for comparison with values torch printed.</summary>
internal static class TensorDecoding
{
    public static double[] ToDoubles(ReadOnlySpan<byte> b, SafeTensorDType dtype)
    {
        var size = dtype.ElementSize();
        var n = b.Length / size;
        var result = new double[n];
        for (var i = 0; i < n; i++)
        {
            var e = b.Slice(i * size, size);
            result[i] = dtype switch
            {
                SafeTensorDType.F64 => BinaryPrimitives.ReadDoubleLittleEndian(e),
                SafeTensorDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(e),
                SafeTensorDType.F16 => (double)BinaryPrimitives.ReadHalfLittleEndian(e),
                // bfloat16 is the top half of a float32.
                SafeTensorDType.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(e) << 16),
                SafeTensorDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(e),
                SafeTensorDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(e),
                SafeTensorDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(e),
                SafeTensorDType.I8 => (sbyte)e[0],
                SafeTensorDType.U8 or SafeTensorDType.Bool => e[0],
                _ => throw new NotSupportedException(dtype.ToString()),
            };
        }
        return result;
    }
}
