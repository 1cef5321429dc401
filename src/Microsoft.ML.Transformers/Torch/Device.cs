namespace Microsoft.ML.Transformers.Torch;

public enum DeviceType { CPU = 0, CUDA = 1 }

/// <summary>A libtorch device: "cpu", "cuda" or "cuda:N".</summary>
public readonly record struct Device(DeviceType Type, int Index = -1)
{
    public static readonly Device CPU = new(DeviceType.CPU);
    public static readonly Device CUDA = new(DeviceType.CUDA, 0);

    public static Device Parse(string spec)
    {
        var s = spec.Trim().ToLowerInvariant();
        if (s == "cpu") return CPU;
        if (s == "cuda") return CUDA;
        if (s.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(s.AsSpan(5), out var i) && i >= 0)
            return new Device(DeviceType.CUDA, i);
        throw new ArgumentException($"Unknown device '{spec}'. Expected \"cpu\", \"cuda\" or \"cuda:N\".", nameof(spec));
    }

    public static implicit operator Device(string spec) => Parse(spec);

    /// <summary>Throws a clear error when CUDA is asked for but the loaded libtorch build has none.</summary>
    internal void EnsureAvailable()
    {
        if (Type != DeviceType.CUDA) return;
        if (!torch.cuda.is_available())
            throw new NotSupportedException(
                $"Device '{this}' was requested, but the loaded libtorch build has no CUDA support (torch.cuda.is_available() is false). " +
                "Use Device.CPU, or install a CUDA build of libtorch and point Torch_DIR at it before building the shim.");
        if (Index >= torch.cuda.device_count())
            throw new NotSupportedException($"Device '{this}' was requested, but only {torch.cuda.device_count()} CUDA device(s) exist.");
    }

    internal int NativeIndex => Type == DeviceType.CUDA ? Math.Max(Index, 0) : -1;

    public override string ToString() => Type == DeviceType.CPU ? "cpu" : Index < 0 ? "cuda" : $"cuda:{Index}";
}
