namespace Microsoft.ML.Transformers.Torch;

/// <summary>An error reported by libtorch (its message, without the C++ backtrace) or by the shim.</summary>
public sealed class TorchException : Exception
{
    public TorchException(string message) : base(message) { }
}
