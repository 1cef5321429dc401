namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>An ordered list of <see cref="NamedTensor"/>s that can also be looked up by name.</summary>
public sealed class NamedTensors(IReadOnlyList<NamedTensor> tensors) : IReadOnlyList<NamedTensor>
{
    public int Count => tensors.Count;
    public NamedTensor this[int index] => tensors[index];

    /// <summary>The tensor with this name; throws naming the ones there are.</summary>
    public NamedTensor this[string name] => TryGet(name) ?? throw new KeyNotFoundException(
        $"No tensor '{name}'; there are: {string.Join(", ", tensors.Select(t => t.Name))}.");

    public NamedTensor? TryGet(string name) => tensors.FirstOrDefault(t => t.Name == name);

    public IEnumerator<NamedTensor> GetEnumerator() => tensors.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
