using System.Runtime.InteropServices;
using TorchSharp;

namespace Microsoft.ML.Transformers.Engines;

/// <summary>
/// libtorch's CPU threading. libtorch runs its parallel regions on an OpenMP pool (the libgomp that
/// libtorch-cpu ships); by default an idle libgomp worker spins for a while before sleeping, which on a busy machine
/// (other processes, ONNX Runtime sessions, ML.NET's own threads) steals the cores the next region needs.
/// <see cref="ApplyBeforeLoad"/> sets <c>OMP_WAIT_POLICY=PASSIVE</c> in the process environment before libgomp is
/// loaded, unless the user set a policy; the choice is measured by test/benchmarks/ModelBench (its "busy" rows). It can
/// also cap oneDNN's instruction set (<see cref="DefaultOneDnnMaxCpuIsa"/>).
/// </summary>
public static class TorchThreads
{
    private static int s_applied;

    /// <summary>The OpenMP wait policy set when the user has none ("PASSIVE"); null leaves libgomp's default.</summary>
    public static string? DefaultWaitPolicy { get; set; } = "PASSIVE";

    /// <summary>Sets libtorch's intra-op thread count (torch.set_num_threads).</summary>
    public static void SetIntraOpThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        TorchSharpRuntime.EnsureLoaded();
        torch.set_num_threads(threads);
    }

    internal static void ApplyBeforeLoad()
    {
        if (Interlocked.Exchange(ref s_applied, 1) == 1) return;
        if (DefaultWaitPolicy is { } policy) SetNativeDefault("OMP_WAIT_POLICY", policy);
        if (DefaultOneDnnMaxCpuIsa is { } isa) SetNativeDefault("ONEDNN_MAX_CPU_ISA", isa);
    }

    /// <summary>
    /// The instruction set oneDNN (libtorch's CPU convolutions) may use, set as <c>ONEDNN_MAX_CPU_ISA</c> before
    /// libtorch starts unless the user set one; null (the default) leaves oneDNN's choice. libtorch 2.10's oneDNN 3.7.1
    /// JIT convolution kernels compute some small-channel fp32 convolutions wrongly on x64: under AVX-512, 3x3
    /// convolutions with 8 output channels (a small UperNet's heads) return NaN or values off by units, in forward and
    /// in the input gradient, differently from run to run; under AVX2, a ResNet with 8/12/16-channel stages is off by
    /// ~0.04. "SSE41" computes all of them right, at some cost in speed on large convolutions; released checkpoints
    /// (64 channels and more) were not seen to be affected. Set it before the first use of the library (or set the
    /// environment variable) for models with small channel counts; test/Microsoft.ML.Transformers.Tests'
    /// EngineConvolutionTests shows whether a machine has the defect.
    /// </summary>
    public static string? DefaultOneDnnMaxCpuIsa { get; set; }

    /// <summary>Sets <paramref name="name"/> in the process environment unless the user set it.</summary>
    private static void SetNativeDefault(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is not null) return;
        Environment.SetEnvironmentVariable(name, value);
        // .NET keeps its own copy of the environment on Unix: native libraries (libgomp, oneDNN) read the C library's.
        if (!OperatingSystem.IsWindows()) _ = setenv(name, value, 0);
    }

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);
}
