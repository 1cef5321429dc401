using Microsoft.ML.Transformers.OnnxRuntime;

namespace Microsoft.ML.Transformers.Tests.OnnxRuntime;

[TestClass]
public class OnnxSessionMetadataTests
{
    [TestMethod]
    public void AddMatMulInputsAndOutputs()
    {
        using var s = OnnxSession.Open(OnnxFixtures.Path("add_matmul.onnx"));
        Assert.HasCount(2, s.Inputs);
        OnnxNodeInfo x = s.Inputs[0], b = s.Inputs[1];
        Assert.AreEqual("X", x.Name);
        Assert.AreEqual(OnnxValueKind.Tensor, x.Kind);
        Assert.AreEqual(TensorElementType.Float, x.ElementType);
        CollectionAssert.AreEqual(new long[] { -1, 4 }, x.Shape);
        CollectionAssert.AreEqual(new[] { "batch", "" }, x.DimensionNames);
        Assert.AreEqual("X: Float [batch, 4]", x.ToString());
        Assert.AreEqual("B", b.Name);
        CollectionAssert.AreEqual(new long[] { 3 }, b.Shape);
        CollectionAssert.AreEqual(new[] { "Y", "Z" }, s.Outputs.Select(o => o.Name).ToArray());
        CollectionAssert.AreEqual(new long[] { -1, 3 }, s.Outputs[1].Shape);
        Assert.AreEqual(OnnxExecutionProvider.Cpu, s.ExecutionProvider);
    }

    [TestMethod]
    public void Int64GraphHasRankZeroOutput()
    {
        using var s = OnnxSession.Open(OnnxFixtures.Path("int64_ops.onnx"));
        Assert.AreEqual(TensorElementType.Int64, s.Inputs[0].ElementType);
        CollectionAssert.AreEqual(new[] { "n" }, s.Inputs[0].DimensionNames);
        Assert.AreEqual("Total", s.Outputs[1].Name);
        Assert.AreEqual(0, s.Outputs[1].Rank);
    }

    [TestMethod]
    public void EncoderInputsCarrySymbolicNames()
    {
        using var s = OnnxSession.Open(OnnxFixtures.Path("tiny_bert", "onnx", "model.onnx"));
        CollectionAssert.AreEqual(new[] { "input_ids", "attention_mask", "token_type_ids" }, s.Inputs.Select(i => i.Name).ToArray());
        foreach (OnnxNodeInfo i in s.Inputs)
        {
            Assert.AreEqual(TensorElementType.Int64, i.ElementType);
            CollectionAssert.AreEqual(new long[] { -1, -1 }, i.Shape);
            CollectionAssert.AreEqual(new[] { "batch_size", "sequence_length" }, i.DimensionNames);
        }
        Assert.AreEqual("last_hidden_state: Float [batch_size, sequence_length, 4]", s.Outputs[1].ToString());
    }
}
