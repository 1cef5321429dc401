using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.SentenceTransformers;

namespace Microsoft.ML.Transformers.Tests.SentenceTransformers;

/// <summary>modules.json / Pooling config reading and pooling math on literal values (no model needed).</summary>
[TestClass]
public sealed class SentenceTransformerConfigTests
{
    private static string Folder(string modules, string pooling)
    {
        var dir = Path.Combine(Path.GetTempPath(), "mlt-st-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "1_Pooling"));
        File.WriteAllText(Path.Combine(dir, "modules.json"), modules);
        File.WriteAllText(Path.Combine(dir, "1_Pooling", "config.json"), pooling);
        return dir;
    }

    private const string Modules = """
        [{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
         {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
         {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]
        """;

    [TestMethod]
    public void Reads_Modules_Pooling_Prompts()
    {
        var dir = Folder(Modules, """{"word_embedding_dimension": 4, "pooling_mode_cls_token": true, "pooling_mode_max_tokens": true, "include_prompt": false}""");
        File.WriteAllText(Path.Combine(dir, "sentence_bert_config.json"), """{"max_seq_length": 128}""");
        File.WriteAllText(Path.Combine(dir, "config_sentence_transformers.json"), """{"prompts": {"query": "query: "}, "default_prompt_name": "query", "similarity_fn_name": "dot"}""");
        var c = SentenceTransformerConfig.FromPretrained(dir);
        Assert.AreEqual(PoolingMode.Cls | PoolingMode.Max, c.Pooling.Modes);
        Assert.AreEqual(8, c.Pooling.OutputDimension);
        Assert.IsFalse(c.Pooling.IncludePrompt);
        Assert.IsTrue(c.Normalize);
        Assert.AreEqual(128, c.MaxSeqLength);
        Assert.AreEqual("query: ", c.Prompts["query"]);
        Assert.AreEqual("query", c.DefaultPromptName);
        Assert.AreEqual("dot", c.SimilarityFunction);
        Directory.Delete(dir, true);
    }

    [TestMethod]
    public void UnknownModule_IsNamed()
    {
        var modules = Modules.Replace("sentence_transformers.models.Normalize", "sentence_transformers.models.Dense");
        var dir = Folder(modules, """{"word_embedding_dimension": 4, "pooling_mode_mean_tokens": true}""");
        var e = Assert.ThrowsExactly<NotSupportedException>(() => SentenceTransformerConfig.FromPretrained(dir));
        StringAssert.Contains(e.Message, "sentence_transformers.models.Dense");
        StringAssert.Contains(e.Message, "modules.json");
        Directory.Delete(dir, true);
    }

    [TestMethod]
    public void UnknownPoolingMode_IsNamed()
    {
        var dir = Folder(Modules, """{"word_embedding_dimension": 4, "pooling_mode_median_tokens": true}""");
        var e = Assert.ThrowsExactly<FormatException>(() => SentenceTransformerConfig.FromPretrained(dir));
        StringAssert.Contains(e.Message, "pooling_mode_median_tokens");
        StringAssert.Contains(e.Message, "1_Pooling");
        File.WriteAllText(Path.Combine(dir, "1_Pooling", "config.json"), """{"word_embedding_dimension": 4, "pooling_mode": "median"}""");
        e = Assert.ThrowsExactly<FormatException>(() => SentenceTransformerConfig.FromPretrained(dir));
        StringAssert.Contains(e.Message, "'median'");
        Directory.Delete(dir, true);
    }

    [TestMethod]
    public void Pool_Modes_OnLiterals()
    {
        // 3 tokens x 2 dims, the last one padding
        float[] t = [1, 2, 3, 6, 100, 100];
        int[] mask = [1, 1, 0];
        CollectionAssert.AreEqual(new float[] { 2, 4 }, Pooler.Pool(t, mask, 2, PoolingMode.Mean));
        CollectionAssert.AreEqual(new float[] { 1, 2 }, Pooler.Pool(t, mask, 2, PoolingMode.Cls));
        CollectionAssert.AreEqual(new float[] { 3, 6 }, Pooler.Pool(t, mask, 2, PoolingMode.Max));
        CollectionAssert.AreEqual(new float[] { 3, 6 }, Pooler.Pool(t, mask, 2, PoolingMode.LastToken));
        // weights 1, 2: (1*1 + 2*3) / 3, (1*2 + 2*6) / 3
        var w = Pooler.Pool(t, mask, 2, PoolingMode.WeightedMean);
        Assert.AreEqual(7f / 3, w[0], 1e-6f);
        Assert.AreEqual(14f / 3, w[1], 1e-6f);
        // include_prompt false with a prompt of 1 token: the mean leaves token 0 out
        CollectionAssert.AreEqual(new float[] { 3, 6 }, Pooler.Pool(t, mask, 2, PoolingMode.Mean, promptLength: 1));
        // several modes concatenate in cls, max, mean order
        CollectionAssert.AreEqual(new float[] { 1, 2, 3, 6, 2, 4 }, Pooler.Pool(t, mask, 2, PoolingMode.Mean | PoolingMode.Cls | PoolingMode.Max));
    }

    [TestMethod]
    public void Similarity_CosineAndDot()
    {
        float[,] a = { { 1, 0 }, { 3, 4 } };
        var cos = SentenceTransformer.Similarity(a, a, SimilarityFunction.Cosine);
        Assert.AreEqual(0.6f, cos[0, 1], 1e-6f);
        var dot = SentenceTransformer.Similarity(a, a, SimilarityFunction.Dot);
        Assert.AreEqual(25f, dot[1, 1], 1e-6f);
    }
}
