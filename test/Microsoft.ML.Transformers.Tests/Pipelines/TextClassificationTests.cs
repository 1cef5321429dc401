using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>Options Transformers.js does not have, checked by hand against the raw logits: function_to_apply, the default
/// function Hugging Face picks from problem_type / num_labels, top_k=null.</summary>
[TestClass]
public class TextClassificationTests
{
    private const string Text = "the movie was good";

    private static float[] RawLogits(TextClassificationPipeline pipe) =>
        pipe.Run(Text, new PipelineParameters { ["function_to_apply"] = "none", ["top_k"] = null })
            .OrderBy(r => pipe.Model.Config.Label2Id[r.Label]).Select(r => (float)r.Score).ToArray();

    [TestMethod]
    public void NoneGivesTheModelLogits()
    {
        using var pipe = (TextClassificationPipeline)Create("text-classification", "bert-seqcls", Engine.OnnxRuntime);
        var enc = pipe.Tokenizer.Encode(Text);
        var batch = new InferenceBatch(enc.Ids.Select(i => (long)i).ToArray(), enc.AttentionMask.Select(i => (long)i).ToArray(),
            enc.TypeIds.Select(i => (long)i).ToArray(), 1, enc.Length);
        var logits = pipe.Model.Run(batch)["logits"].GetData<float>();
        CollectionAssert.AreEqual(logits, RawLogits(pipe));
    }

    [TestMethod]
    [DataRow("bert-seqcls", "softmax")]              // single_label_classification
    [DataRow("bert-seqcls-multi", "sigmoid")]        // multi_label_classification
    [DataRow("bert-seqcls-regression", "sigmoid")]   // num_labels == 1: Hugging Face applies sigmoid
    [DataRow("roberta-seqcls-regression", "sigmoid")]
    public void DefaultFunctionFollowsTheConfig(string model, string expected)
    {
        using var pipe = (TextClassificationPipeline)Create("text-classification", model, Engine.LibTorch);
        var logits = RawLogits(pipe);
        var scores = pipe.Run(Text, new PipelineParameters { ["top_k"] = null })
            .OrderBy(r => pipe.Model.Config.Label2Id[r.Label]).Select(r => r.Score).ToArray();
        double sumExp = logits.Sum(l => Math.Exp(l));
        for (int i = 0; i < logits.Length; i++)
        {
            double want = expected == "softmax" ? Math.Exp(logits[i]) / sumExp : 1 / (1 + Math.Exp(-logits[i]));
            Close(want, scores[i], $"{model} label {i}", 1e-9);
        }
        // an explicit function wins over the config's
        var forced = pipe.Run(Text, new PipelineParameters { ["top_k"] = null, ["function_to_apply"] = ClassificationFunction.Softmax });
        Close(1.0, forced.Sum(r => r.Score), "softmax sums to 1", 1e-9);
    }

    [TestMethod]
    public void TopKNullGivesAllLabelsSortedAndConstructionParametersMerge()
    {
        using var pipe = (TextClassificationPipeline)Create("text-classification", "distilbert-seqcls-multi", Engine.OnnxRuntime,
            new PipelineParameters { ["top_k"] = 2 });
        Assert.AreEqual(2, pipe.Run(Text).Count);                                         // construction parameter
        var all = pipe.Run(Text, new PipelineParameters { ["top_k"] = null });            // call time wins
        Assert.AreEqual(4, all.Count);
        CollectionAssert.AreEqual(all.OrderByDescending(r => r.Score).ToList(), all.ToList());
        CollectionAssert.AreEquivalent(new[] { "LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3" }, all.Select(r => r.Label).ToArray());
    }

    [TestMethod]
    public void TextPairDiffersFromTheTextAlone()
    {
        using var pipe = (TextClassificationPipeline)Create("sentiment-analysis", "bert-seqcls", Engine.OnnxRuntime);
        var single = pipe.Run(Text, new PipelineParameters { ["top_k"] = null });
        var pair = pipe.Run(new TextInput(Text, "i love this city"), new PipelineParameters { ["top_k"] = null });
        Assert.AreNotEqual(single[0].Score, pair[0].Score);
    }
}
