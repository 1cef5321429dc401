using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>
/// A named input tensor over caller-owned managed memory. Nothing is copied: <see cref="OnnxSession.Run"/> pins the
/// memory, hands ONNX Runtime a tensor that points into it, and unpins it when the run returns. Do not change the
/// memory while a run that uses it is in flight.
/// </summary>
public abstract class OnnxInput
{
    private protected OnnxInput(string name, TensorElementType elementType, long[] shape, long elementCount, int elementSize)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        long expected = TensorElementTypes.ElementCount(shape);
        if (expected != elementCount)
            throw new ArgumentException(
                $"Input '{name}': shape {TensorElementTypes.Format(shape)} holds {expected} elements but the data has {elementCount}.",
                nameof(shape));
        foreach (long d in shape)
            if (d < 0) throw new ArgumentException($"Input '{name}': shape {TensorElementTypes.Format(shape)} has a negative dimension.", nameof(shape));
        Name = name;
        ElementType = elementType;
        Shape = shape;
        ByteLength = elementCount * elementSize;
    }

    public string Name { get; }
    public TensorElementType ElementType { get; }
    public long[] Shape { get; }
    internal long ByteLength { get; }

    /// <summary>Pins the data for the duration of one run.</summary>
    internal abstract MemoryHandle Pin();

    /// <summary>An input over <paramref name="data"/> (row-major) with the given shape.</summary>
    public static OnnxInput Create<T>(string name, ReadOnlyMemory<T> data, params long[] shape) where T : unmanaged =>
        new MemoryInput<T>(name, data, shape);

    /// <summary>An input over a whole one-dimensional array (row-major) with the given shape.</summary>
    public static OnnxInput Create<T>(string name, T[] data, params long[] shape) where T : unmanaged =>
        new MemoryInput<T>(name, data, shape);

    /// <summary>An input over any array of a primitive element type, including multi-dimensional ones such as
    /// <c>long[,]</c> (whose elements are stored row-major).</summary>
    public static OnnxInput FromArray(string name, Array data, params long[] shape) => new ArrayInput(name, data, shape);

    /// <summary>An input over a <see cref="NamedTensor"/>'s array (no copy).</summary>
    public static OnnxInput FromTensor(NamedTensor tensor) => new ArrayInput(tensor.Name, tensor.Data, tensor.Shape);

    public override string ToString() => $"{Name}: {ElementType} {TensorElementTypes.Format(Shape)}";

    private sealed class MemoryInput<T>(string name, ReadOnlyMemory<T> data, long[] shape)
        : OnnxInput(name, TensorElementTypes.Of<T>(), shape, data.Length, Unsafe.SizeOf<T>()) where T : unmanaged
    {
        internal override MemoryHandle Pin() => data.Pin();
    }

    private sealed class ArrayInput : OnnxInput
    {
        private readonly Array data;

        public ArrayInput(string name, Array data, long[] shape)
            : base(name, TypeOf(name, data), shape, data.LongLength, TensorElementTypes.SizeOf(TypeOf(name, data))) => this.data = data;

        internal override unsafe MemoryHandle Pin()
        {
            var handle = GCHandle.Alloc(data, GCHandleType.Pinned);
            // GetArrayDataReference works for arrays of any rank; the array is pinned, so its address is stable.
            return new MemoryHandle(Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(data)), handle);
        }

        private static TensorElementType TypeOf(string name, Array data)
        {
            ArgumentNullException.ThrowIfNull(data);
            Type element = data.GetType().GetElementType()!;
            try { return TensorElementTypes.Of(element); }
            catch (NotSupportedException) { throw new ArgumentException($"Input '{name}': {element.Name}[] cannot be an ONNX tensor.", nameof(data)); }
        }
    }
}
