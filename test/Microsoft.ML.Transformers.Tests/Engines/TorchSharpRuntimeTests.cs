using Microsoft.ML.Transformers.Engines;

namespace Microsoft.ML.Transformers.Tests.Engines;

/// <summary>TorchSharp starts in the test process (on Debian 12 through the build's patched libLibTorchSharp.so) and computes.</summary>
[TestClass]
public class TorchSharpRuntimeTests
{
    [TestMethod]
    public void LoadsAndComputesASmallTensorOp()
    {
        TorchSharpRuntime.EnsureLoaded();
        TorchSharpRuntime.EnsureLoaded(); // once per process; later calls return at once

        using var ones = TorchSharp.torch.ones(2, 2);
        using var sum = ones.sum();
        Assert.AreEqual(4f, sum.item<float>());
    }
}
