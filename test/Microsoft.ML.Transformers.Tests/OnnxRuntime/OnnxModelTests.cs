using System.Text.Json;
using Microsoft.ML.Transformers.OnnxRuntime;

namespace Microsoft.ML.Transformers.Tests.OnnxRuntime;

[TestClass]
public class OnnxModelTests
{
    private static long[,] To2D(NamedTensor t) => OnnxFixtures.To2D(t);

    internal static void AssertOutputs(string key, NamedTensors actual)
    {
        CollectionAssert.AreEqual(OnnxFixtures.OutputNames(key).ToArray(), actual.Select(t => t.Name).ToArray());
        foreach (NamedTensor t in actual) OnnxFixtures.AssertClose(OnnxFixtures.Output(key, t.Name), t);
    }

    internal static NamedTensors RunFixture(OnnxModel model, string key, bool passTokenTypes = true) =>
        model.Run(To2D(OnnxFixtures.Input(key, "input_ids")), To2D(OnnxFixtures.Input(key, "attention_mask")),
            passTokenTypes ? To2D(OnnxFixtures.Input(key, "token_type_ids")) : null);

    [TestMethod]
    public void TransformersJsLayoutLoadsOnnxModelOnnx()
    {
        using var m = OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"));
        Assert.AreEqual(Path.GetFullPath(OnnxFixtures.Path("tiny_bert", "onnx", "model.onnx")), m.ModelPath);
        Assert.AreEqual("bert", m.ModelType);
        Assert.AreEqual("POS", m.Config.GetProperty("id2label").GetProperty("1").GetString());
        AssertOutputs("tiny_bert/onnx/model.onnx", RunFixture(m, "tiny_bert/onnx/model.onnx"));
    }

    [TestMethod]
    public void MissingTokenTypesAreFedAsZeros()
    {
        using var m = OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"));
        string key = "tiny_bert/onnx/model.onnx#zero_token_types";
        AssertOutputs(key, RunFixture(m, key, passTokenTypes: false));
    }

    [TestMethod]
    public void QuantizedOptionAndFileNamePickTheOtherFile()
    {
        string key = "tiny_bert/onnx/model_quantized.onnx";
        using (var q = OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"), new OnnxModelOptions { Quantized = true }))
        {
            StringAssert.EndsWith(q.ModelPath, "model_quantized.onnx");
            AssertOutputs(key, RunFixture(q, key));
        }
        using (var f = OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"), new OnnxModelOptions { FileName = "model_quantized" }))
            AssertOutputs(key, RunFixture(f, key));
        using var d = OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"), new OnnxModelOptions { Dtype = "q8", Quantized = false });
        AssertOutputs(key, RunFixture(d, key));
    }

    [TestMethod]
    public void UnknownDtypeListsTheKnownOnes()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() =>
            OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"), new OnnxModelOptions { Dtype = "fp8" }));
        StringAssert.Contains(e.Message, "'fp8'");
        StringAssert.Contains(e.Message, "q8");
    }

    [TestMethod]
    public void OptimumLayoutFeedsOnlyDeclaredInputs()
    {
        using var m = OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_distilbert"));
        Assert.AreEqual(Path.GetFullPath(OnnxFixtures.Path("tiny_distilbert", "model.onnx")), m.ModelPath);
        CollectionAssert.AreEqual(new[] { "input_ids", "attention_mask" }, m.InputNames.ToArray());
        // token_type_ids is given but the graph does not take it: it must be left out, not rejected.
        AssertOutputs("tiny_distilbert/model.onnx", RunFixture(m, "tiny_distilbert/model.onnx"));
    }

    [TestMethod]
    public void FlatBuffersGiveTheSameResult()
    {
        string key = "tiny_bert/onnx/model.onnx";
        using var m = OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"));
        NamedTensor ids = OnnxFixtures.Input(key, "input_ids");
        AssertOutputs(key, m.Run(ids.GetData<long>(), OnnxFixtures.Input(key, "attention_mask").GetData<long>(),
            OnnxFixtures.Input(key, "token_type_ids").GetData<long>(), (int)ids.Shape[0], (int)ids.Shape[1]));
        Assert.AreEqual("logits", m.Run(ids.GetData<long>(), OnnxFixtures.Input(key, "attention_mask").GetData<long>(), null,
            (int)ids.Shape[0], (int)ids.Shape[1], ["logits"]).Single().Name);
    }

    [TestMethod]
    public void SelectedOutputOnlyAndUnknownOutputNamesTheRealOnes()
    {
        string key = "tiny_bert/onnx/model.onnx";
        using var m = OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"));
        NamedTensors only = m.Run(To2D(OnnxFixtures.Input(key, "input_ids")), To2D(OnnxFixtures.Input(key, "attention_mask")),
            To2D(OnnxFixtures.Input(key, "token_type_ids")), ["last_hidden_state"]);
        Assert.HasCount(1, only);
        OnnxFixtures.AssertClose(OnnxFixtures.Output(key, "last_hidden_state"), only[0]);
        var e = Assert.ThrowsExactly<ArgumentException>(() => m.Run(new long[1, 2], new long[1, 2], null, ["pooler_output"]));
        StringAssert.Contains(e.Message, "'pooler_output' is not an output of ONNX model");
        StringAssert.Contains(e.Message, "logits, last_hidden_state");
    }

    [TestMethod]
    public void InputsAreReadInPlaceFromASliceOfLargerMemory()
    {
        // Each input sits in the middle of a bigger buffer whose other values are out of the vocabulary: the run must read
        // exactly that window (a wrong offset would make the Gather fail or change the logits), without a copy.
        string key = "tiny_bert/onnx/model.onnx";
        using var m = OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"));
        ReadOnlyMemory<long> Window(string name)
        {
            long[] data = OnnxFixtures.Input(key, name).GetData<long>();
            var buffer = new long[data.Length + 7];
            buffer.AsSpan().Fill(1_000_000);
            data.CopyTo(buffer, 3);
            return buffer.AsMemory(3, data.Length);
        }
        AssertOutputs(key, m.Run(Window("input_ids"), Window("attention_mask"), Window("token_type_ids"), 2, 5));
    }

    [TestMethod]
    public void MetadataHasTheGraphsSymbolicDimensions()
    {
        using var m = OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"));
        CollectionAssert.AreEqual(new[] { "input_ids", "attention_mask", "token_type_ids" }, m.InputNames.ToArray());
        foreach (string name in m.InputNames)
        {
            Microsoft.ML.OnnxRuntime.NodeMetadata i = m.InputMetadata[name];
            Assert.AreEqual(TensorElementType.Int64, (TensorElementType)i.ElementDataType);
            CollectionAssert.AreEqual(new[] { -1, -1 }, i.Dimensions);
            CollectionAssert.AreEqual(new[] { "batch_size", "sequence_length" }, i.SymbolicDimensions);
        }
        CollectionAssert.AreEqual(new[] { "logits", "last_hidden_state" }, m.OutputNames.ToArray());
        Assert.AreEqual("'last_hidden_state: Float [batch_size, sequence_length, 4]'",
            OnnxModel.Describe("last_hidden_state", m.OutputMetadata["last_hidden_state"]));
        Assert.AreEqual(OnnxExecutionProvider.Cpu, m.ExecutionProvider);
        Assert.IsNull(m.FallbackReason);
    }

    [TestMethod]
    public void StaticShapeExportRunsAtItsShape()
    {
        string key = "odd_graphs/onnx/fixed_shape.onnx";
        using var m = OnnxModel.FromPretrained(OnnxFixtures.Path("odd_graphs"), new OnnxModelOptions { FileName = "fixed_shape" });
        CollectionAssert.AreEqual(new[] { 1, 8 }, m.InputMetadata["input_ids"].Dimensions);
        AssertOutputs(key, m.Run(To2D(OnnxFixtures.Input(key, "input_ids")), To2D(OnnxFixtures.Input(key, "attention_mask"))));
    }

    [TestMethod]
    public void MismatchedMaskShapeIsRejected()
    {
        using var m = OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"));
        var e = Assert.ThrowsExactly<ArgumentException>(() => m.Run(new long[2, 5], new long[2, 4]));
        StringAssert.Contains(e.Message, "attention_mask has shape [2, 4] but input_ids has [2, 5]");
    }

    [TestMethod]
    public void MissingOnnxFileListsWhatIsThere()
    {
        var e = Assert.ThrowsExactly<FileNotFoundException>(() =>
            OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"), new OnnxModelOptions { Dtype = "fp16" }));
        StringAssert.Contains(e.Message, Path.Combine("onnx", "model_fp16.onnx"));
        StringAssert.Contains(e.Message, Path.Combine("onnx", "model_quantized.onnx"));
    }

    [TestMethod]
    public void MissingOrBadConfigIsReported()
    {
        string dir = Directory.CreateTempSubdirectory("mlt-onnx-model-").FullName;
        try
        {
            var missing = Assert.ThrowsExactly<FileNotFoundException>(() => OnnxModel.FromPretrained(dir));
            StringAssert.Contains(missing.Message, Path.Combine(dir, "config.json"));
            File.WriteAllText(Path.Combine(dir, "config.json"), "{\"model_type\": \"bert\",");
            var bad = Assert.ThrowsExactly<InvalidDataException>(() => OnnxModel.FromPretrained(dir));
            StringAssert.Contains(bad.Message, Path.Combine(dir, "config.json"));
            Assert.IsInstanceOfType<JsonException>(bad.InnerException);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
