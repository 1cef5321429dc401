using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Transformers.OnnxRuntime;
using OrtException = Microsoft.ML.OnnxRuntime.OnnxRuntimeException;

namespace Microsoft.ML.Transformers.Tests.OnnxRuntime;

[TestClass]
public class OnnxSessionOptionsTests
{
    private const string Key = "tiny_bert/onnx/model.onnx";

    private static OnnxModel Open(OnnxSessionOptions session) =>
        OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"), new OnnxModelOptions { Session = session });

    private static void AssertRunsRight(OnnxSessionOptions session)
    {
        using OnnxModel m = Open(session);
        OnnxModelTests.AssertOutputs(Key, OnnxModelTests.RunFixture(m, Key));
    }

    [TestMethod]
    public void EveryOptionReachesTheRuntimeAndResultsStayRight()
    {
        AssertRunsRight(new OnnxSessionOptions
        {
            IntraOpThreads = 2,
            InterOpThreads = 2,
            ExecutionMode = ExecutionMode.ORT_PARALLEL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
            ConfigEntries = new Dictionary<string, string> { ["session.intra_op.allow_spinning"] = "0" },
        });
        AssertRunsRight(new OnnxSessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC });
    }

    [TestMethod]
    public void RuntimeRejectsAnUnknownOptimizationLevelWithTheFileNamed()
    {
        // The value is ONNX Runtime's to judge: setting it on its SessionOptions fails.
        var e = Assert.ThrowsExactly<OnnxModelException>(() => Open(new OnnxSessionOptions { GraphOptimizationLevel = (GraphOptimizationLevel)5 }));
        StringAssert.Contains(e.Message, Path.Combine("tiny_bert", "onnx", "model.onnx"));
        var inner = Assert.IsInstanceOfType<OrtException>(e.InnerException);
        StringAssert.Contains(inner.Message, "[ErrorCode:InvalidArgument]");
        StringAssert.Contains(e.Message, inner.Message);
    }

    [TestMethod]
    public void NegativeThreadCountIsRejected()
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Open(new OnnxSessionOptions { IntraOpThreads = -1 }));
        StringAssert.Contains(e.Message, "IntraOpThreads must be >= 0, got -1");
    }

    [TestMethod]
    public void CudaWithoutCudaProviderNamesThePackageToInstall()
    {
        if (OrtEnv.Instance().GetAvailableProviders().Contains(OnnxModel.CudaProviderName))
            Assert.Inconclusive("This ONNX Runtime build has CUDA; the no-CUDA error cannot be provoked here.");
        var e = Assert.ThrowsExactly<OnnxModelException>(() => Open(new OnnxSessionOptions { ExecutionProvider = OnnxExecutionProvider.Cuda }));
        StringAssert.Contains(e.Message, "CUDA execution provider was requested");
        StringAssert.Contains(e.Message, Path.Combine("tiny_bert", "onnx", "model.onnx"));
        StringAssert.Contains(e.Message, "has no CUDA execution provider (it has: ");
        StringAssert.Contains(e.Message, "reference the NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux");
        StringAssert.Contains(e.Message, "FallbackToCpu = true");
    }

    [TestMethod]
    public void FallbackToCpuRunsOnCpuAndSaysWhy()
    {
        using OnnxModel m = Open(new OnnxSessionOptions { ExecutionProvider = OnnxExecutionProvider.Cuda, FallbackToCpu = true });
        OnnxModelTests.AssertOutputs(Key, OnnxModelTests.RunFixture(m, Key));
        if (m.ExecutionProvider == OnnxExecutionProvider.Cuda) Assert.Inconclusive("CUDA is usable here; fallback not exercised.");
        Assert.AreEqual(OnnxExecutionProvider.Cpu, m.ExecutionProvider);
        StringAssert.Contains(m.FallbackReason, "Microsoft.ML.OnnxRuntime.Gpu.Linux");
    }
}

/// <summary>
/// The native package the tests reference, and our copy of ONNX Runtime's outputs into <see cref="NamedTensor"/>s checked
/// on the plain graphs of make_onnx_fixtures.py run by a raw <see cref="InferenceSession"/> (float, int64, rank 0).
/// </summary>
[TestClass]
public class OnnxRuntimePackageTests
{
    [TestMethod]
    public void VersionIsTheReferencedNativePackage() => Assert.AreEqual("1.31.1", OrtEnv.Instance().GetVersionString());

    [TestMethod]
    public void CpuProviderIsListed() =>
        CollectionAssert.Contains(OrtEnv.Instance().GetAvailableProviders(), "CPUExecutionProvider");

    private static NamedTensor[] RunRaw(string graph, string[] inputs, string[]? outputs = null)
    {
        string path = OnnxFixtures.Path(graph + ".onnx");
        using var session = new InferenceSession(path);
        outputs ??= session.OutputNames.ToArray();
        var values = inputs.Select(n => OnnxFixtures.ToOrtValue(OnnxFixtures.Input(graph, n))).ToList();
        try
        {
            using var runOptions = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> results = session.Run(runOptions, inputs, values, outputs);
            return results.Select((v, i) => OnnxModel.ToNamedTensor(path, outputs[i], v)).ToArray();
        }
        finally { foreach (OrtValue v in values) v.Dispose(); }
    }

    [TestMethod]
    public void AddMatMulMatchesNumpy()
    {
        NamedTensor[] outputs = RunRaw("add_matmul", ["X", "B"]);
        Assert.HasCount(2, outputs);
        OnnxFixtures.AssertClose(OnnxFixtures.Output("add_matmul", "Y"), outputs[0]);
        OnnxFixtures.AssertClose(OnnxFixtures.Output("add_matmul", "Z"), outputs[1]);
        Assert.ThrowsExactly<InvalidCastException>(() => outputs[0].GetData<long>());
    }

    [TestMethod]
    public void Int64GraphMatchesNumpyExactlyIncludingARankZeroOutput()
    {
        NamedTensor[] outputs = RunRaw("int64_ops", ["A"]);
        OnnxFixtures.AssertClose(OnnxFixtures.Output("int64_ops", "S"), outputs[0]);
        OnnxFixtures.AssertClose(OnnxFixtures.Output("int64_ops", "Total"), outputs[1]);
        Assert.IsEmpty(outputs[1].Shape);
    }

    [TestMethod]
    public void SelectedOutputOnly()
    {
        NamedTensor[] outputs = RunRaw("add_matmul", ["X", "B"], ["Z"]);
        Assert.HasCount(1, outputs);
        OnnxFixtures.AssertClose(OnnxFixtures.Output("add_matmul", "Z"), outputs[0]);
    }
}
