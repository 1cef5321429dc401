namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>ONNX Runtime graph optimization levels (values of <c>GraphOptimizationLevel</c>).</summary>
public enum GraphOptimizationLevel
{
    DisableAll = 0,
    Basic = 1,
    Extended = 2,
    All = 99,
}

/// <summary>Whether operators run one after another or independent branches run in parallel.</summary>
public enum ExecutionMode
{
    Sequential = 0,
    Parallel = 1,
}

/// <summary>Where a session runs.</summary>
public enum OnnxExecutionProvider
{
    Cpu,
    Cuda,
}

/// <summary>How an <see cref="OnnxSession"/> is configured. Defaults equal ONNX Runtime's own.</summary>
public sealed record OnnxSessionOptions
{
    /// <summary>Threads for parallelism inside an operator; 0 lets ONNX Runtime choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads running independent operators at once (only with <see cref="ExecutionMode.Parallel"/>); 0 = default.</summary>
    public int InterOpThreads { get; init; }

    public GraphOptimizationLevel GraphOptimizationLevel { get; init; } = GraphOptimizationLevel.All;

    public ExecutionMode ExecutionMode { get; init; } = ExecutionMode.Sequential;

    /// <summary>The provider to run on. CPU is always present and also serves operators CUDA lacks.</summary>
    public OnnxExecutionProvider ExecutionProvider { get; init; } = OnnxExecutionProvider.Cpu;

    /// <summary>The CUDA device ordinal when <see cref="ExecutionProvider"/> is CUDA.</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>
    /// When CUDA is asked for but the loaded ONNX Runtime cannot provide it, run on CPU instead of throwing
    /// (like ML.NET's <c>fallbackToCpu</c>). <see cref="OnnxSession.ExecutionProvider"/> tells which one is used.
    /// </summary>
    public bool FallbackToCpu { get; init; }

    /// <summary>Extra session configuration entries (<c>AddSessionConfigEntry</c>), e.g. "session.intra_op.allow_spinning" = "0".</summary>
    public IReadOnlyDictionary<string, string>? ConfigEntries { get; init; }

    /// <summary>ONNX Runtime's defaults on the CPU provider.</summary>
    public static OnnxSessionOptions Default { get; } = new();
}
