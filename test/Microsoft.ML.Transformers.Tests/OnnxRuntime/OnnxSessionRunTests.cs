using Microsoft.ML.Transformers.OnnxRuntime;

namespace Microsoft.ML.Transformers.Tests.OnnxRuntime;

[TestClass]
public class OnnxSessionRunTests
{
    private static OnnxInput[] AddMatMulInputs() =>
        [OnnxInput.FromTensor(OnnxFixtures.Input("add_matmul", "X")), OnnxInput.FromTensor(OnnxFixtures.Input("add_matmul", "B"))];

    [TestMethod]
    public void AddMatMulMatchesNumpy()
    {
        using var s = OnnxSession.Open(OnnxFixtures.Path("add_matmul.onnx"));
        NamedTensor[] outputs = s.RunToTensors(AddMatMulInputs());
        Assert.HasCount(2, outputs);
        OnnxFixtures.AssertClose(OnnxFixtures.Output("add_matmul", "Y"), outputs[0]);
        OnnxFixtures.AssertClose(OnnxFixtures.Output("add_matmul", "Z"), outputs[1]);
    }

    [TestMethod]
    public void Int64GraphMatchesNumpyExactly()
    {
        using var s = OnnxSession.Open(OnnxFixtures.Path("int64_ops.onnx"));
        using OnnxRunResult r = s.Run([OnnxInput.FromTensor(OnnxFixtures.Input("int64_ops", "A"))]);
        OnnxFixtures.AssertClose(OnnxFixtures.Output("int64_ops", "S"), r["S"].ToTensor());
        OnnxFixtures.AssertClose(OnnxFixtures.Output("int64_ops", "Total"), r["Total"].ToTensor());
        Assert.IsEmpty(r["Total"].Shape);
        Assert.AreEqual(OnnxFixtures.Output("int64_ops", "Total").GetData<long>()[0], r["Total"].AsSpan<long>()[0]);
    }

    [TestMethod]
    public void SelectedOutputOnly()
    {
        using var s = OnnxSession.Open(OnnxFixtures.Path("add_matmul.onnx"));
        using OnnxRunResult r = s.Run(AddMatMulInputs(), ["Z"]);
        Assert.HasCount(1, r);
        Assert.AreEqual("Z", r[0].Name);
        OnnxFixtures.AssertClose(OnnxFixtures.Output("add_matmul", "Z"), r[0].ToTensor());
        Assert.ThrowsExactly<ArgumentException>(() => s.Run(AddMatMulInputs(), ["W"]));
    }

    [TestMethod]
    public void SessionFromBytesGivesSameResults()
    {
        using var s = OnnxSession.FromBytes(File.ReadAllBytes(OnnxFixtures.Path("add_matmul.onnx")));
        Assert.IsNull(s.ModelPath);
        OnnxFixtures.AssertClose(OnnxFixtures.Output("add_matmul", "Y"), s.RunToTensors(AddMatMulInputs(), ["Y"])[0]);
    }

    [TestMethod]
    public void InputsAreReadInPlaceFromASliceOfLargerMemory()
    {
        // X sits in the middle of a bigger buffer: the run must read exactly that window, without a copy.
        float[] x = OnnxFixtures.Input("add_matmul", "X").GetData<float>();
        var buffer = new float[x.Length + 7];
        buffer.AsSpan().Fill(float.NaN);
        x.CopyTo(buffer, 3);
        using var s = OnnxSession.Open(OnnxFixtures.Path("add_matmul.onnx"));
        NamedTensor y = s.RunToTensors(
            [OnnxInput.Create<float>("X", buffer.AsMemory(3, x.Length), 5, 4), OnnxInput.FromTensor(OnnxFixtures.Input("add_matmul", "B"))],
            ["Y"])[0];
        OnnxFixtures.AssertClose(OnnxFixtures.Output("add_matmul", "Y"), y);
    }

    [TestMethod]
    public void OutputSpansRejectWrongTypeAndUseAfterDispose()
    {
        using var s = OnnxSession.Open(OnnxFixtures.Path("add_matmul.onnx"));
        OnnxRunResult r = s.Run(AddMatMulInputs());
        OnnxOutput y = r["Y"];
        Assert.AreEqual(15, y.AsSpan<float>().Length);
        Assert.ThrowsExactly<InvalidCastException>(() => y.AsSpan<long>().Length);
        r.Dispose();
        Assert.ThrowsExactly<ObjectDisposedException>(() => y.AsSpan<float>().Length);
    }

    [TestMethod]
    public void OneSessionFromEightThreadsMatchesSequentialRuns()
    {
        using var s = OnnxSession.Open(OnnxFixtures.Path("add_matmul.onnx"), new OnnxSessionOptions { IntraOpThreads = 1 });
        const int Threads = 8, RunsPerThread = 40;
        float[] b = [0.5f, -0.25f, 0f];
        // A distinct batch per (thread, run), so a mix-up between concurrent runs would show.
        float[] Batch(int t, int i) => Enumerable.Range(0, (1 + (t + i) % 4) * 4).Select(k => (float)Math.Sin(t * 1000 + i * 10 + k)).ToArray();
        float[] RunOne(int t, int i)
        {
            float[] x = Batch(t, i);
            using OnnxRunResult r = s.Run([OnnxInput.Create<float>("X", x, x.Length / 4, 4), OnnxInput.Create<float>("B", b, 3)], ["Z"]);
            return r[0].AsSpan<float>().ToArray();
        }

        var sequential = new float[Threads, RunsPerThread][];
        for (int t = 0; t < Threads; t++)
            for (int i = 0; i < RunsPerThread; i++) sequential[t, i] = RunOne(t, i);

        var concurrent = new float[Threads, RunsPerThread][];
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < RunsPerThread; i++) concurrent[t, i] = RunOne(t, i);
        })).ToArray();
        foreach (Thread th in threads) th.Start();
        foreach (Thread th in threads) th.Join();

        for (int t = 0; t < Threads; t++)
            for (int i = 0; i < RunsPerThread; i++)
                CollectionAssert.AreEqual(sequential[t, i], concurrent[t, i], $"thread {t} run {i}");
    }
}

[TestClass]
public class OnnxSessionOptionsTests
{
    private static NamedTensor RunY(OnnxSessionOptions options)
    {
        using var s = OnnxSession.Open(OnnxFixtures.Path("add_matmul.onnx"), options);
        return s.RunToTensors(
            [OnnxInput.FromTensor(OnnxFixtures.Input("add_matmul", "X")), OnnxInput.FromTensor(OnnxFixtures.Input("add_matmul", "B"))], ["Y"])[0];
    }

    [TestMethod]
    public void EveryOptionReachesTheRuntimeAndResultsStayRight()
    {
        NamedTensor expected = OnnxFixtures.Output("add_matmul", "Y");
        OnnxFixtures.AssertClose(expected, RunY(new OnnxSessionOptions
        {
            IntraOpThreads = 2,
            InterOpThreads = 2,
            ExecutionMode = ExecutionMode.Parallel,
            GraphOptimizationLevel = GraphOptimizationLevel.DisableAll,
            ConfigEntries = new Dictionary<string, string> { ["session.intra_op.allow_spinning"] = "0" },
        }));
        OnnxFixtures.AssertClose(expected, RunY(new OnnxSessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.Basic }));
    }

    [TestMethod]
    public void RuntimeRejectsAnUnknownOptimizationLevelThroughTheStatusCheck()
    {
        // The value is ONNX Runtime's to judge: its SetSessionGraphOptimizationLevel returns an error status.
        var e = Assert.ThrowsExactly<OnnxRuntimeException>(() => RunY(new OnnxSessionOptions { GraphOptimizationLevel = (GraphOptimizationLevel)5 }));
        Assert.AreEqual(OrtErrorCode.InvalidArgument, e.Code);
        StringAssert.Contains(e.Message, "setting the graph optimization level");
    }

    [TestMethod]
    public void NegativeThreadCountIsRejected()
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => RunY(new OnnxSessionOptions { IntraOpThreads = -1 }));
        StringAssert.Contains(e.Message, "IntraOpThreads must be >= 0, got -1");
    }
}
