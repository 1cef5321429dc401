using Microsoft.ML.Transformers.Engines;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>
/// A libtorch 2.10 (oneDNN 3.7.1) defect found by the vision tests: on AVX-512 machines the fp32 direct convolution
/// "jit:avx512_core" returns wrong values (errors ~0.05 on outputs ~0.3) for batch 2, 24 -> 24 channels, 3x3, pad 1
/// on a 4x4 map; batch 1, float64, or ONEDNN_MAX_CPU_ISA=AVX2 give the right answer. Reported as inconclusive (not a
/// failure of this library) so the suite shows it on every machine that has it.
/// </summary>
[TestClass]
public class EngineConvolutionTests
{
    [TestMethod]
    public void Float32ConvolutionAgreesWithFloat64()
    {
        TorchSharpRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var g = new TorchSharp.torch.Generator(7);
        var x = randn([2, 24, 4, 4], generator: g);
        var w = randn([24, 24, 3, 3], generator: g).div(12);
        var f32 = nn.functional.conv2d(x, w, padding: [1, 1]);
        var f64 = nn.functional.conv2d(x.to(ScalarType.Float64), w.to(ScalarType.Float64), padding: [1, 1]);
        double d = f32.to(ScalarType.Float64).sub(f64).abs().max().item<double>();
        if (d > 1e-4)
            Assert.Inconclusive($"libtorch's fp32 conv2d is off by {d:E2} for [2,24,4,4] * [24,24,3,3] (oneDNN avx512_core kernel); " +
                "ONEDNN_MAX_CPU_ISA=AVX2 avoids it. Vision fixtures use channel counts that do not hit it.");
    }
}
