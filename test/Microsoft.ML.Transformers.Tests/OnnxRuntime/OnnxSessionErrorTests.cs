using Microsoft.ML.Transformers.OnnxRuntime;

namespace Microsoft.ML.Transformers.Tests.OnnxRuntime;

[TestClass]
public class OnnxSessionErrorTests
{
    private static readonly string AddMatMul = OnnxFixtures.Path("add_matmul.onnx");
    private static OnnxInput B => OnnxInput.Create<float>("B", new float[3], 3);
    private static OnnxInput X(int rows) => OnnxInput.Create<float>("X", new float[rows * 4], rows, 4);

    [TestMethod]
    public void MissingModelFileNamesPath()
    {
        string path = Path.Combine(Path.GetTempPath(), "mlt-no-such-model.onnx");
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => OnnxSession.Open(path));
        StringAssert.Contains(e.Message, path);
    }

    [TestMethod]
    public void CorruptModelFileNamesPathAndRuntimeError()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlt-corrupt-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, "this is not a protobuf model \u0001\u0002\u00ff"u8.ToArray());
        try
        {
            var e = Assert.ThrowsExactly<OnnxRuntimeException>(() => OnnxSession.Open(path));
            StringAssert.Contains(e.Message, path);
            Assert.AreNotEqual(OrtErrorCode.Ok, e.Code);
            Assert.IsFalse(string.IsNullOrWhiteSpace(e.RuntimeMessage));
        }
        finally { File.Delete(path); }
    }

    [TestMethod]
    public void MissingRequiredInputIsNamed()
    {
        using var s = OnnxSession.Open(AddMatMul);
        var e = Assert.ThrowsExactly<ArgumentException>(() => s.Run([X(2)]));
        StringAssert.Contains(e.Message, "'B: Float [3]'");
        StringAssert.Contains(e.Message, "given: X");
    }

    [TestMethod]
    public void UnknownInputIsNamedWithTheRealOnes()
    {
        using var s = OnnxSession.Open(AddMatMul);
        var e = Assert.ThrowsExactly<ArgumentException>(() => s.Run([X(2), B, OnnxInput.Create<float>("C", new float[1], 1)]));
        StringAssert.Contains(e.Message, "'C'");
        StringAssert.Contains(e.Message, "X: Float [batch, 4]");
    }

    [TestMethod]
    public void WrongElementTypeSaysExpectedAndFound()
    {
        using var s = OnnxSession.Open(AddMatMul);
        var e = Assert.ThrowsExactly<ArgumentException>(() => s.Run([OnnxInput.Create<long>("X", new long[8], 2, 4), B]));
        StringAssert.Contains(e.Message, "'X'");
        StringAssert.Contains(e.Message, "expects Float");
        StringAssert.Contains(e.Message, "got Int64");
    }

    [TestMethod]
    public void WrongRankSaysExpectedAndFound()
    {
        using var s = OnnxSession.Open(AddMatMul);
        var e = Assert.ThrowsExactly<ArgumentException>(() => s.Run([OnnxInput.Create<float>("X", new float[8], 8), B]));
        StringAssert.Contains(e.Message, "expects rank 2 [batch, 4]");
        StringAssert.Contains(e.Message, "got shape [8] (rank 1)");
    }

    [TestMethod]
    public void WrongFixedDimensionSaysWhich()
    {
        using var s = OnnxSession.Open(AddMatMul);
        var e = Assert.ThrowsExactly<ArgumentException>(() => s.Run([OnnxInput.Create<float>("X", new float[10], 2, 5), B]));
        StringAssert.Contains(e.Message, "dimension 1 to be 4");
        StringAssert.Contains(e.Message, "[2, 5]");
    }

    [TestMethod]
    public void ShapeNotMatchingDataLengthIsRejected()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => OnnxInput.Create<float>("X", new float[7], 2, 4));
        StringAssert.Contains(e.Message, "holds 8 elements but the data has 7");
    }

    [TestMethod]
    public void TruncatedModelBytesAreReported()
    {
        byte[] bytes = File.ReadAllBytes(AddMatMul);
        var e = Assert.ThrowsExactly<OnnxRuntimeException>(() => OnnxSession.FromBytes(bytes.AsSpan(0, bytes.Length / 2)));
        StringAssert.Contains(e.Message, "[ONNX Runtime ");
        StringAssert.Contains(e.Message, $"from {bytes.Length / 2} bytes");
    }

    [TestMethod]
    public void ErrorsDuringRunComeBackWithOnnxRuntimesMessage()
    {
        // Both inputs have symbolic dims, so our checks pass; the Mul inside the graph then cannot broadcast
        // sequence 5 against 4, which only ONNX Runtime can find.
        using var s = OnnxSession.Open(OnnxFixtures.Path("tiny_distilbert", "model.onnx"));
        var e = Assert.ThrowsExactly<OnnxRuntimeException>(() => s.Run(
            [OnnxInput.Create<long>("input_ids", new long[10], 2, 5), OnnxInput.Create<long>("attention_mask", new long[8], 2, 4)]));
        StringAssert.Contains(e.Message, "running ONNX model");
        StringAssert.Contains(e.Message, "model.onnx");
        Assert.AreNotEqual(OrtErrorCode.Ok, e.Code);
    }

    [TestMethod]
    public void CudaWithoutCudaProviderThrowsClearly()
    {
        var options = new OnnxSessionOptions { ExecutionProvider = OnnxExecutionProvider.Cuda };
        OnnxSession? s = null;
        try { s = OnnxSession.Open(AddMatMul, options); }
        catch (OnnxRuntimeException e)
        {
            StringAssert.Contains(e.Message, "CUDA execution provider was requested");
            StringAssert.Contains(e.Message, AddMatMul);
            StringAssert.Contains(e.Message, "FallbackToCpu");
            return;
        }
        using (s) Assert.Inconclusive("This machine's ONNX Runtime runs CUDA; the no-CUDA error cannot be provoked here.");
    }

    [TestMethod]
    public void FallbackToCpuRunsOnCpu()
    {
        var options = new OnnxSessionOptions { ExecutionProvider = OnnxExecutionProvider.Cuda, FallbackToCpu = true };
        using var s = OnnxSession.Open(AddMatMul, options);
        NamedTensor y = s.RunToTensors(
            [OnnxInput.FromTensor(OnnxFixtures.Input("add_matmul", "X")), OnnxInput.FromTensor(OnnxFixtures.Input("add_matmul", "B"))], ["Y"])[0];
        OnnxFixtures.AssertClose(OnnxFixtures.Output("add_matmul", "Y"), y);
        if (s.ExecutionProvider == OnnxExecutionProvider.Cuda) Assert.Inconclusive("CUDA is usable here; fallback not exercised.");
        Assert.AreEqual(OnnxExecutionProvider.Cpu, s.ExecutionProvider);
    }

    [TestMethod]
    public void DisposedSessionRefusesToRun()
    {
        var s = OnnxSession.Open(AddMatMul);
        s.Dispose();
        Assert.ThrowsExactly<ObjectDisposedException>(() => s.Run([X(1), B]));
    }
}
