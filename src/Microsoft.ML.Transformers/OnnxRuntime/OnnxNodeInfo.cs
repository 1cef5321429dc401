namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>What kind of value a graph input or output is (ONNX Runtime's <c>ONNXType</c>).</summary>
public enum OnnxValueKind
{
    Unknown = 0,
    Tensor = 1,
    Sequence = 2,
    Map = 3,
    Opaque = 4,
    SparseTensor = 5,
    Optional = 6,
}

/// <summary>
/// A graph input or output as the session sees it. <see cref="Shape"/> has -1 for dimensions not fixed by the
/// graph; <see cref="DimensionNames"/> has the symbolic name of each (e.g. "batch_size"), or "" when it has none.
/// </summary>
public sealed record OnnxNodeInfo(
    string Name, OnnxValueKind Kind, TensorElementType ElementType, long[] Shape, string[] DimensionNames)
{
    public int Rank => Shape.Length;

    /// <summary>The shape with symbolic names for dynamic dimensions, e.g. "[batch_size, 4]".</summary>
    public string ShapeText =>
        "[" + string.Join(", ", Shape.Select((d, i) => d >= 0 ? d.ToString() : DimensionNames[i] is { Length: > 0 } n ? n : "?")) + "]";

    public override string ToString() => Kind == OnnxValueKind.Tensor ? $"{Name}: {ElementType} {ShapeText}" : $"{Name}: {Kind}";
}
