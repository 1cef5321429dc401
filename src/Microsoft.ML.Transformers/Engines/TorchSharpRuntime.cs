namespace Microsoft.ML.Transformers.Engines;

/// <summary>Loads TorchSharp's native libraries once, before the library's first use of <c>torch</c>.</summary>
public static class TorchSharpRuntime
{
    /// <summary>Idempotent; called by every entry point that builds or runs a libtorch model.</summary>
    public static void EnsureLoaded() => TorchThreads.ApplyBeforeLoad();
}
