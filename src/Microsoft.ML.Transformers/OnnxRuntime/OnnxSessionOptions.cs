using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>Where a session runs.</summary>
public enum OnnxExecutionProvider
{
    Cpu,
    Cuda,
}

/// <summary>
/// How an <see cref="OnnxModel"/>'s ONNX Runtime session is configured; each property maps onto ONNX Runtime's
/// <see cref="SessionOptions"/> of the same meaning. Defaults equal ONNX Runtime's own, except that its log shows
/// errors only (exported graphs make it warn about unused initializers) and that on the CPU ONNX Runtime's
/// SkipLayerNormFusion is off (its CPU kernel is slower than the Add + LayerNormalization it replaces) unless
/// <see cref="ConfigEntries"/> names "optimization.disable_specified_optimizers" itself.
/// </summary>
public sealed record OnnxSessionOptions
{
    /// <summary>Threads for parallelism inside an operator (<see cref="SessionOptions.IntraOpNumThreads"/>);
    /// 0 lets ONNX Runtime choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads running independent operators at once (<see cref="SessionOptions.InterOpNumThreads"/>,
    /// used with <see cref="ExecutionMode.ORT_PARALLEL"/>); 0 = ONNX Runtime's default.</summary>
    public int InterOpThreads { get; init; }

    public GraphOptimizationLevel GraphOptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    public ExecutionMode ExecutionMode { get; init; } = ExecutionMode.ORT_SEQUENTIAL;

    /// <summary>
    /// The provider to run on. CPU is always there and also serves the operators CUDA lacks. CUDA needs the
    /// application to reference ONNX Runtime's CUDA build (<c>Microsoft.ML.OnnxRuntime.Gpu.Linux</c>) instead of the
    /// CPU one (<c>Microsoft.ML.OnnxRuntime</c>).
    /// </summary>
    public OnnxExecutionProvider ExecutionProvider { get; init; } = OnnxExecutionProvider.Cpu;

    /// <summary>The CUDA device ordinal when <see cref="ExecutionProvider"/> is CUDA.</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>
    /// When CUDA is asked for but the installed ONNX Runtime cannot provide it, run on CPU instead of throwing
    /// (like ML.NET's <c>fallbackToCpu</c>). <see cref="OnnxModel.ExecutionProvider"/> tells which one is used and
    /// <see cref="OnnxModel.FallbackReason"/> why.
    /// </summary>
    public bool FallbackToCpu { get; init; }

    /// <summary>Extra session configuration entries (<see cref="SessionOptions.AddSessionConfigEntry"/>),
    /// e.g. "session.intra_op.allow_spinning" = "0".</summary>
    public IReadOnlyDictionary<string, string>? ConfigEntries { get; init; }

    /// <summary>ONNX Runtime's defaults on the CPU provider.</summary>
    public static OnnxSessionOptions Default { get; } = new();

    /// <summary>ONNX Runtime session options with these settings and no execution provider beyond CPU; the caller
    /// disposes them. ONNX Runtime's own exceptions (e.g. an optimization level it does not know) pass through.</summary>
    internal SessionOptions ToSessionOptions()
    {
        if (IntraOpThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, $"IntraOpThreads must be >= 0, got {IntraOpThreads}.");
        if (InterOpThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(InterOpThreads), InterOpThreads, $"InterOpThreads must be >= 0, got {InterOpThreads}.");
        var options = new SessionOptions();
        try
        {
            options.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;
            options.IntraOpNumThreads = IntraOpThreads;
            options.InterOpNumThreads = InterOpThreads;
            options.GraphOptimizationLevel = GraphOptimizationLevel;
            options.ExecutionMode = ExecutionMode;
            foreach ((string key, string value) in ConfigEntries ?? new Dictionary<string, string>())
                options.AddSessionConfigEntry(key, value);
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }
}
