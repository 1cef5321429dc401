namespace Microsoft.ML.Transformers.Torch;

/// <summary>
/// Collects the tensors created on this thread while it is the innermost scope and disposes them with it, so
/// temporaries are released deterministically rather than by the finalizer (TorchSharp's NewDisposeScope).
/// Tensors that must outlive the scope are moved out with <see cref="torch.Tensor.MoveToOuterDisposeScope"/> or
/// <see cref="torch.Tensor.DetachFromDisposeScope"/>.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? t_current;

    private readonly DisposeScope? _outer;
    private readonly HashSet<torch.Tensor> _tensors = new(ReferenceEqualityComparer.Instance);
    private bool _disposed;

    internal DisposeScope()
    {
        _outer = t_current;
        t_current = this;
    }

    internal static DisposeScope? Current => t_current;

    internal DisposeScope? Outer => _outer;

    public int Count => _tensors.Count;

    internal void Add(torch.Tensor t)
    {
        _tensors.Add(t);
        t.Scope = this;
    }

    internal void Remove(torch.Tensor t) => _tensors.Remove(t);

    /// <summary>Moves the given tensors to the enclosing scope (or out of every scope) and disposes the rest.</summary>
    public void DisposeEverythingBut(params torch.Tensor[] keep)
    {
        foreach (var t in keep) t.MoveToOuterDisposeScope();
        Dispose();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _tensors)
        {
            t.Scope = null;
            t.Dispose();
        }
        _tensors.Clear();
        // Scopes are strictly nested per thread; restore the outer one even if inner ones leaked.
        if (ReferenceEquals(t_current, this)) t_current = _outer;
    }
}
