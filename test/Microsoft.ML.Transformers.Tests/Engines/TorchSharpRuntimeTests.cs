using System.Diagnostics;
using Microsoft.ML.Transformers.Engines;

namespace Microsoft.ML.Transformers.Tests.Engines;

internal static class TorchSharpSmoke
{
    public static float OnesSum()
    {
        TorchSharpRuntime.EnsureLoaded();
        TorchSharpRuntime.EnsureLoaded(); // once per process; later calls return at once
        using var ones = TorchSharp.torch.ones(2, 2);
        using var sum = ones.sum();
        return sum.item<float>();
    }
}

/// <summary>TorchSharp starts (on Debian 12 through the build's patched libLibTorchSharp.so) and computes.</summary>
[TestClass]
public class TorchSharpRuntimeTests
{
    /// <summary>
    /// While the C++ shim (libtorch 1.13 from Debian) is built next to the tests, other tests load it into this process,
    /// and TorchSharp's libtorch 2.10 cannot share a process with it (the host crashes): then the same check runs in a
    /// process of its own, the test assembly's entry point. Without the shim it runs in the test process.
    /// </summary>
    private static bool ShimInThisTestRun => File.Exists(Path.Combine(AppContext.BaseDirectory, "libmlt_torch.so"));

    [TestMethod]
    public void LoadsAndComputesASmallTensorOp()
    {
        if (!ShimInThisTestRun)
        {
            Assert.AreEqual(4f, TorchSharpSmoke.OnesSum());
            return;
        }
        string host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(typeof(TorchSharpSmoke).Assembly.Location);
        psi.ArgumentList.Add("torchsharp-smoke");
        using var child = Process.Start(psi)!;
        var stderr = child.StandardError.ReadToEndAsync();
        string stdout = child.StandardOutput.ReadToEnd();
        Assert.IsTrue(child.WaitForExit(TimeSpan.FromMinutes(3)), "the TorchSharp check did not finish");
        Assert.AreEqual(0, child.ExitCode, stdout + stderr.Result);
        StringAssert.Contains(stdout, "torch.ones(2,2).sum() = 4");
    }
}
