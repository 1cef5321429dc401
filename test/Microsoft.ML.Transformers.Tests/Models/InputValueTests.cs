using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;

namespace Microsoft.ML.Transformers.Tests.Models;

/// <summary>
/// Issue 13, item 13: ids outside the vocabulary (negative ones included), attention masks other than 0/1, and a
/// config.json that disagrees with the ONNX graph are refused on both engines, naming the position or key.
/// </summary>
[TestClass]
public class InputValueTests
{
    private static readonly string SeqCls = TestPaths.Fixture("models", "bert-seqcls");

    /// <summary>A copy of a fixture folder with onnx/, config.json edited by <paramref name="edit"/>.</summary>
    internal static string CopyWithConfig(string fixture, Action<JsonObject>? edit = null)
    {
        var dir = TempDir.CopyOf(fixture);
        if (Directory.Exists(Path.Combine(fixture, "onnx")))
        {
            Directory.CreateDirectory(Path.Combine(dir, "onnx"));
            foreach (var f in Directory.GetFiles(Path.Combine(fixture, "onnx")))
                File.Copy(f, Path.Combine(dir, "onnx", Path.GetFileName(f)));
        }
        if (edit is not null)
        {
            var path = Path.Combine(dir, "config.json");
            var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            edit(config);
            File.WriteAllText(path, config.ToJsonString());
        }
        return dir;
    }

    private static InferenceBatch Batch(long[] ids, long[]? mask = null, long[]? types = null) =>
        new(ids, mask ?? ids.Select(_ => 1L).ToArray(), types ?? new long[ids.Length], 2, ids.Length / 2);

    private static readonly long[] GoodIds = [2, 15, 40, 3, 2, 7, 9, 3];

    [TestMethod]
    [DataRow(Engine.LibTorch)]
    [DataRow(Engine.OnnxRuntime)]
    public void NegativeIdsAreRefused(Engine engine)
    {
        using var m = InferenceModel.Load(SeqCls, ModelHead.SequenceClassification, new InferenceModelOptions { Engine = engine });
        _ = m.Run(Batch(GoodIds));
        long[] ids = [.. GoodIds];
        ids[6] = -5;
        var e = Assert.ThrowsExactly<ArgumentException>(() => m.Run(Batch(ids)));
        StringAssert.Contains(e.Message, "input_ids[1, 2] is -5");
    }

    [TestMethod]
    [DataRow(Engine.LibTorch)]
    [DataRow(Engine.OnnxRuntime)]
    public void IdsPastTheVocabularyAreRefusedNamingVocabSize(Engine engine)
    {
        using var m = InferenceModel.Load(SeqCls, ModelHead.SequenceClassification, new InferenceModelOptions { Engine = engine });
        long[] ids = [.. GoodIds];
        ids[1] = 272; // vocab_size is 272
        var e = Assert.ThrowsExactly<ArgumentException>(() => m.Run(Batch(ids)));
        StringAssert.Contains(e.Message, "input_ids[0, 1] is 272");
        StringAssert.Contains(e.Message, "vocab_size is 272");
        long[] types = new long[ids.Length];
        types[5] = 2; // type_vocab_size is 2
        e = Assert.ThrowsExactly<ArgumentException>(() => m.Run(Batch(GoodIds, types: types)));
        StringAssert.Contains(e.Message, "token_type_ids[1, 1] is 2");
    }

    [TestMethod]
    [DataRow(Engine.LibTorch)]
    [DataRow(Engine.OnnxRuntime)]
    public void MaskValuesOtherThanZeroAndOneAreRefused(Engine engine)
    {
        using var m = InferenceModel.Load(SeqCls, ModelHead.SequenceClassification, new InferenceModelOptions { Engine = engine });
        long[] mask = [1, 1, 1, 1, 1, 1, 0, 0];
        var ok = m.Run(Batch(GoodIds, mask))["logits"].GetData<float>();
        Assert.IsTrue(ok.ToArray().All(float.IsFinite));
        mask[3] = 2;
        var e = Assert.ThrowsExactly<ArgumentException>(() => m.Run(Batch(GoodIds, mask)));
        StringAssert.Contains(e.Message, "attention_mask[0, 3] is 2");
    }

    [TestMethod]
    public void FloatMaskOnTheModelIsCheckedToo()
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(SeqCls);
        using var ids = TorchSharp.torch.tensor(GoodIds, [2, 4]);
        using var mask = TorchSharp.torch.tensor(new float[] { 1, 1, 0.5f, 1, 1, 1, 1, 1 }, [2, 4]);
        var e = Assert.ThrowsExactly<ArgumentException>(() => model.forward(new ModelInputs { InputIds = ids, AttentionMask = mask }));
        StringAssert.Contains(e.Message, "attention_mask[0, 2] is 0.5");
    }

    [TestMethod]
    public void OnnxConfigWithOtherLabelCountIsRefused()
    {
        var dir = CopyWithConfig(SeqCls, c =>
        {
            c["id2label"] = new JsonObject { ["0"] = "a", ["1"] = "b", ["2"] = "c", ["3"] = "d", ["4"] = "e" };
            c["label2id"] = new JsonObject { ["a"] = 0, ["b"] = 1, ["c"] = 2, ["d"] = 3, ["e"] = 4 };
        });
        try
        {
            var e = Assert.ThrowsExactly<ConfigException>(() =>
            {
                using var m = InferenceModel.Load(dir, ModelHead.SequenceClassification, new InferenceModelOptions { Engine = Engine.OnnxRuntime });
                m.Run(Batch(GoodIds)); // (when the graph leaves the width dynamic, the first run finds it)
            });
            Assert.AreEqual("id2label", e.Key);
            StringAssert.Contains(e.Message, "config.json gives 5");
            StringAssert.Contains(e.Message, "logits with last dimension 3");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void OnnxConfigWithOtherHiddenSizeIsRefused()
    {
        var dir = CopyWithConfig(TestPaths.Fixture("models", "bert-base"), c => c["hidden_size"] = 64);
        try
        {
            var e = Assert.ThrowsExactly<ConfigException>(() =>
            {
                using var m = InferenceModel.Load(dir, ModelHead.Base, new InferenceModelOptions { Engine = Engine.OnnxRuntime });
                m.Run(Batch(GoodIds));
            });
            Assert.AreEqual("hidden_size", e.Key);
            StringAssert.Contains(e.Message, "last_hidden_state with last dimension 32");
        }
        finally { Directory.Delete(dir, true); }
    }
}
