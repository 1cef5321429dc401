namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>
/// An engine-neutral tensor copied into managed memory: a name, an element type, a shape and a flat row-major
/// array (float[], long[], Half[], ...). What engines hand back to model code.
/// </summary>
public sealed class NamedTensor
{
    public NamedTensor(string name, TensorElementType elementType, long[] shape, Array data)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        Type? expected = TensorElementTypes.ClrType(elementType);
        if (expected is null || data.GetType().GetElementType() != expected || data.Rank != 1)
            throw new ArgumentException(
                $"Tensor '{name}': element type {elementType} needs a {expected?.Name ?? "(unsupported)"}[] but got {data.GetType().Name}.",
                nameof(data));
        long count = TensorElementTypes.ElementCount(shape);
        if (count != data.Length)
            throw new ArgumentException(
                $"Tensor '{name}': shape {TensorElementTypes.Format(shape)} holds {count} elements but the data has {data.Length}.",
                nameof(data));
        Name = name;
        ElementType = elementType;
        Shape = shape;
        Data = data;
    }

    public static NamedTensor Create<T>(string name, T[] data, params long[] shape) where T : unmanaged =>
        new(name, TensorElementTypes.Of<T>(), shape, data);

    public string Name { get; }
    public TensorElementType ElementType { get; }
    public long[] Shape { get; }

    /// <summary>The elements, row-major; the array type matches <see cref="ElementType"/>.</summary>
    public Array Data { get; }

    /// <summary>The elements as <typeparamref name="T"/>[]; throws naming both types when they differ.</summary>
    public T[] GetData<T>() where T : unmanaged =>
        // Compare element types exactly: the runtime would let an int[] pass as uint[].
        Data.GetType().GetElementType() == typeof(T) ? (T[])Data : throw new InvalidCastException(
            $"Tensor '{Name}' holds {ElementType} elements, not {typeof(T).Name}.");

    public override string ToString() => $"{Name}: {ElementType} {TensorElementTypes.Format(Shape)}";
}
