using Microsoft.ML.Transformers.OnnxRuntime.Native;

namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>
/// The outputs of one <see cref="OnnxSession.Run"/>, owned by ONNX Runtime until this result is disposed.
/// Spans from <see cref="OnnxOutput.AsSpan{T}"/> point into that native memory and are valid only until then;
/// <see cref="OnnxOutput.ToTensor"/> copies into managed memory that outlives it.
/// </summary>
public sealed class OnnxRunResult : IDisposable, IReadOnlyList<OnnxOutput>
{
    private readonly OnnxOutput[] outputs;

    internal OnnxRunResult(OnnxOutput[] outputs) => this.outputs = outputs;

    public int Count => outputs.Length;
    public OnnxOutput this[int index] => outputs[index];

    /// <summary>The output with this name; throws naming the outputs there are.</summary>
    public OnnxOutput this[string name] =>
        Array.Find(outputs, o => o.Name == name) ?? throw new KeyNotFoundException(
            $"No output '{name}' in this result; it has: {string.Join(", ", outputs.Select(o => o.Name))}.");

    /// <summary>Copies every output into managed <see cref="NamedTensor"/>s.</summary>
    public NamedTensor[] ToTensors() => outputs.Select(o => o.ToTensor()).ToArray();

    public IEnumerator<OnnxOutput> GetEnumerator() => ((IEnumerable<OnnxOutput>)outputs).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose()
    {
        foreach (OnnxOutput o in outputs) o.Release();
    }
}

/// <summary>One output value of a run: its name, element type, shape, and data in ONNX Runtime's memory.</summary>
public sealed unsafe class OnnxOutput
{
    private readonly OrtValueHandle value;
    private readonly void* data;

    internal OnnxOutput(string name, OrtValueHandle value)
    {
        Name = name;
        this.value = value;
        OrtApi api = OrtApi.Instance;
        int kind;
        api.Check(api.GetValueType(value.Pointer, &kind), $"reading output '{name}'");
        Kind = (OnnxValueKind)kind;
        if (Kind != OnnxValueKind.Tensor)
        {
            Shape = [];
            return;
        }
        using var info = new OrtTensorTypeAndShapeInfoHandle();
        nint p;
        api.Check(api.GetTensorTypeAndShape(value.Pointer, &p), $"reading output '{name}'");
        info.Attach(p);
        int type;
        api.Check(api.GetTensorElementType(info.Pointer, &type), $"reading output '{name}'");
        ElementType = (TensorElementType)type;
        nuint rank;
        api.Check(api.GetDimensionsCount(info.Pointer, &rank), $"reading output '{name}'");
        Shape = new long[(int)rank];
        fixed (long* dims = Shape) api.Check(api.GetDimensions(info.Pointer, dims, rank), $"reading output '{name}'");
        ElementCount = TensorElementTypes.ElementCount(Shape);
        if (ElementType != TensorElementType.String)
        {
            void* d;
            api.Check(api.GetTensorMutableData(value.Pointer, &d), $"reading output '{name}'");
            data = d;
        }
    }

    public string Name { get; }
    public OnnxValueKind Kind { get; }
    public TensorElementType ElementType { get; }
    public long[] Shape { get; }
    public long ElementCount { get; }

    /// <summary>
    /// The elements in ONNX Runtime's buffer, row-major; valid until the owning <see cref="OnnxRunResult"/> is disposed.
    /// </summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(value.IsClosed, this);
        if (Kind != OnnxValueKind.Tensor)
            throw new NotSupportedException($"Output '{Name}' is a {Kind}, not a tensor.");
        if (TensorElementTypes.ClrType(ElementType) != typeof(T))
            throw new InvalidCastException($"Output '{Name}' holds {ElementType} elements, not {typeof(T).Name}.");
        return new ReadOnlySpan<T>(data, checked((int)ElementCount));
    }

    /// <summary>Copies the tensor into a managed <see cref="NamedTensor"/>.</summary>
    public NamedTensor ToTensor() => ElementType switch
    {
        TensorElementType.Float => Copy<float>(),
        TensorElementType.Int64 => Copy<long>(),
        TensorElementType.Int32 => Copy<int>(),
        TensorElementType.Double => Copy<double>(),
        TensorElementType.Float16 => Copy<Half>(),
        TensorElementType.Bool => Copy<bool>(),
        TensorElementType.UInt8 => Copy<byte>(),
        TensorElementType.Int8 => Copy<sbyte>(),
        TensorElementType.Int16 => Copy<short>(),
        TensorElementType.UInt16 => Copy<ushort>(),
        TensorElementType.UInt32 => Copy<uint>(),
        TensorElementType.UInt64 => Copy<ulong>(),
        _ => throw new NotSupportedException($"Output '{Name}' has element type {ElementType}, which cannot be copied to a NamedTensor."),
    };

    private NamedTensor Copy<T>() where T : unmanaged => new(Name, ElementType, (long[])Shape.Clone(), AsSpan<T>().ToArray());

    internal void Release() => value.Dispose();

    public override string ToString() => $"{Name}: {ElementType} {TensorElementTypes.Format(Shape)}";
}
