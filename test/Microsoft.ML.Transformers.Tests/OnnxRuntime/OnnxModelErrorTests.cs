using Microsoft.ML.Transformers.OnnxRuntime;
using OrtException = Microsoft.ML.OnnxRuntime.OnnxRuntimeException;

namespace Microsoft.ML.Transformers.Tests.OnnxRuntime;

/// <summary>Bad models and bad batches: our checks name file, input, expected and found; ONNX Runtime's own errors
/// come back with its message and our context.</summary>
[TestClass]
public class OnnxModelErrorTests
{
    private static readonly string TinyBert = OnnxFixtures.Path("tiny_bert");
    private static readonly string OddGraphs = OnnxFixtures.Path("odd_graphs");

    private static OnnxModel Odd(string file) => OnnxModel.FromPretrained(OddGraphs, new OnnxModelOptions { FileName = file });

    /// <summary>A model folder in a temp directory whose onnx/model.onnx holds <paramref name="onnx"/>.</summary>
    private static string FolderWith(byte[] onnx)
    {
        string dir = Directory.CreateTempSubdirectory("mlt-onnx-bad-").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "onnx"));
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"model_type\": \"bert\"}");
        File.WriteAllBytes(Path.Combine(dir, "onnx", "model.onnx"), onnx);
        return dir;
    }

    private static void AssertCorruptModelReported(byte[] onnx)
    {
        string dir = FolderWith(onnx);
        try
        {
            string path = Path.Combine(dir, "onnx", "model.onnx");
            var e = Assert.ThrowsExactly<OnnxModelException>(() => OnnxModel.FromPretrained(dir));
            StringAssert.Contains(e.Message, $"could not open ONNX model '{path}'");
            Assert.AreEqual(path, e.ModelPath);
            var inner = Assert.IsInstanceOfType<OrtException>(e.InnerException);
            StringAssert.Contains(e.Message, inner.Message); // ONNX Runtime's own words, e.g. "[ErrorCode:InvalidProtobuf] ..."
            StringAssert.Contains(inner.Message, "[ErrorCode:");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [TestMethod]
    public void CorruptModelFileNamesPathAndRuntimeError() =>
        AssertCorruptModelReported("this is not a protobuf model \u0001\u0002\u00ff"u8.ToArray());

    [TestMethod]
    public void TruncatedModelIsReported()
    {
        byte[] bytes = File.ReadAllBytes(OnnxFixtures.Path("tiny_bert", "onnx", "model.onnx"));
        AssertCorruptModelReported(bytes[..(bytes.Length / 2)]);
    }

    [TestMethod]
    public void InputOnnxModelCannotFillIsNamedWithTheOnesItFills()
    {
        var e = Assert.ThrowsExactly<OnnxModelException>(() => Odd("position_ids"));
        StringAssert.EndsWith(e.ModelPath, "position_ids.onnx");
        StringAssert.Contains(e.Message, "position_ids.onnx");
        StringAssert.Contains(e.Message, "'position_ids: Int64 [batch_size, sequence_length]'");
        StringAssert.Contains(e.Message, "it fills input_ids, attention_mask, token_type_ids");
    }

    [TestMethod]
    public void WrongElementTypeSaysExpectedAndFound()
    {
        var e = Assert.ThrowsExactly<OnnxModelException>(() => Odd("int32_ids"));
        StringAssert.EndsWith(e.ModelPath, "int32_ids.onnx");
        StringAssert.Contains(e.Message, "int32_ids.onnx");
        StringAssert.Contains(e.Message, "expects input 'input_ids: Int32 [batch_size, sequence_length]'");
        StringAssert.Contains(e.Message, "feeds input_ids as Int64 [batch, sequence]");
    }

    [TestMethod]
    public void WrongFixedDimensionSaysWhich()
    {
        using OnnxModel m = Odd("fixed_shape");
        var e = Assert.ThrowsExactly<OnnxModelException>(() => m.Run(new long[1, 5], new long[1, 5]));
        Assert.AreEqual(m.ModelPath, e.ModelPath);
        StringAssert.Contains(e.Message, "fixed_shape.onnx");
        StringAssert.Contains(e.Message, "'input_ids: Int64 [1, 8]'");
        StringAssert.Contains(e.Message, "dimension 1 must be 8, but the batch is [1, 5]");
    }

    [TestMethod]
    public void BufferNotMatchingBatchTimesSequenceIsRejected()
    {
        using var m = OnnxModel.FromPretrained(TinyBert);
        var e = Assert.ThrowsExactly<ArgumentException>(() => m.Run(new long[8], new long[7], null, 2, 4));
        StringAssert.Contains(e.Message, "attention_mask holds 7 values but batch x sequence is 2 x 4 = 8");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => m.Run(new long[8], new long[8], null, -2, -4));
    }

    [TestMethod]
    public void ErrorsDuringRunComeBackWithOnnxRuntimesMessage()
    {
        // Token id 99 is past the 11-row embedding: only ONNX Runtime's Gather can find that.
        using var m = OnnxModel.FromPretrained(TinyBert);
        var ids = new long[2, 5];
        ids[1, 3] = 99;
        var e = Assert.ThrowsExactly<OnnxModelException>(() => m.Run(ids, new long[2, 5]));
        StringAssert.Contains(e.Message, $"ONNX Runtime failed running '{m.ModelPath}'");
        StringAssert.Contains(e.Message, "input_ids Int64 [2, 5], attention_mask Int64 [2, 5], token_type_ids Int64 [2, 5] (zeros)");
        var inner = Assert.IsInstanceOfType<OrtException>(e.InnerException);
        StringAssert.Contains(e.Message, inner.Message);
        StringAssert.Contains(inner.Message, "99");
        // The model still runs after a failed run.
        OnnxModelTests.AssertOutputs("tiny_bert/onnx/model.onnx", OnnxModelTests.RunFixture(m, "tiny_bert/onnx/model.onnx"));
    }

    [TestMethod]
    public void DisposedModelRefusesToRun()
    {
        var m = OnnxModel.FromPretrained(TinyBert);
        m.Dispose();
        m.Dispose(); // twice is harmless
        var e = Assert.ThrowsExactly<ObjectDisposedException>(() => m.Run(new long[1, 2], new long[1, 2]));
        StringAssert.Contains(e.Message, nameof(OnnxModel));
    }

    [TestMethod]
    public void MissingNativeLibraryNamesThePackagesToAdd()
    {
        // What ONNX Runtime's managed API throws when the application references no native package: its P/Invoke class
        // fails to initialise. (Provoking it for real needs a process without the native library.)
        var missing = new TypeInitializationException("Microsoft.ML.OnnxRuntime.NativeMethods",
            new DllNotFoundException("Unable to load shared library 'onnxruntime' or one of its dependencies."));
        Assert.IsTrue(OnnxModel.NativeLibraryMissing(missing));
        Assert.IsFalse(OnnxModel.NativeLibraryMissing(new InvalidOperationException("other")));
        DllNotFoundException e = OnnxModel.NativeLibraryError("/m/onnx/model.onnx", missing);
        StringAssert.Contains(e.Message, "'/m/onnx/model.onnx'");
        StringAssert.Contains(e.Message, "Microsoft.ML.OnnxRuntime (CPU) or Microsoft.ML.OnnxRuntime.Gpu.Linux (CUDA)");
        StringAssert.Contains(e.Message, "Unable to load shared library 'onnxruntime'");
        Assert.AreSame(missing, e.InnerException);
    }
}
