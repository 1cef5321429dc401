using System.Runtime.InteropServices;
using TorchSharp;

namespace Microsoft.ML.Transformers.Engines;

/// <summary>
/// libtorch's CPU threading. libtorch runs its parallel regions on an OpenMP pool (the libgomp that
/// libtorch-cpu ships); by default an idle libgomp worker spins for a while before sleeping, which on a busy machine
/// (other processes, ONNX Runtime sessions, ML.NET's own threads) steals the cores the next region needs.
/// <see cref="ApplyBeforeLoad"/> sets <c>OMP_WAIT_POLICY=PASSIVE</c> in the process environment before libgomp is
/// loaded, unless the user set a policy; the choice is measured by test/benchmarks/ModelBench (its "busy" rows).
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
        if (DefaultWaitPolicy is { } policy && Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
        {
            Environment.SetEnvironmentVariable("OMP_WAIT_POLICY", policy);
            // .NET keeps its own copy of the environment on Unix: libgomp reads the C library's, when it is loaded.
            if (!OperatingSystem.IsWindows()) _ = setenv("OMP_WAIT_POLICY", policy, 0);
        }
    }

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);
}
