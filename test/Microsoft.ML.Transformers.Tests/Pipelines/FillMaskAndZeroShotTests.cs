using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>fill-mask targets (not in Transformers.js) checked against the full distribution; zero-shot's entailment class
/// read from the config, checked against the raw NLI logits.</summary>
[TestClass]
public class FillMaskAndZeroShotTests
{
    [TestMethod]
    [DataRow("bert-mlm", "the capital of france is [MASK]", new[] { "paris", "city", "the" })]
    [DataRow("roberta-mlm", "the capital of france is<mask>", new[] { " love", "Ġcity", " the" })]
    public void TargetsPickTheirProbabilitiesFromTheFullDistribution(string model, string text, string[] targets)
    {
        using var pipe = (FillMaskPipeline)Create("fill-mask", model, Engine.OnnxRuntime);
        var all = pipe.Run(text, new PipelineParameters { ["top_k"] = pipe.Tokenizer.VocabSize });
        Close(1.0, all.Sum(r => r.Score), "full distribution", 1e-6);
        var ids = targets.Select(t => pipe.Tokenizer.TokenToId(t) ?? pipe.Tokenizer.Encode(t, addSpecialTokens: false).Ids.Single()).ToList();
        var expected = all.Where(r => ids.Contains(r.Token)).ToList();
        Assert.AreEqual(targets.Length, expected.Count);
        var got = pipe.Run(text, new PipelineParameters { ["targets"] = targets, ["top_k"] = 10 });
        Assert.AreEqual(targets.Length, got.Count, "top_k is cut to the number of targets");
        for (int i = 0; i < got.Count; i++)
        {
            Assert.AreEqual(expected[i].Token, got[i].Token);
            Assert.AreEqual(expected[i].Sequence, got[i].Sequence);
            Close(expected[i].Score, got[i].Score, "target score", 1e-9);
        }
        Assert.AreEqual(2, pipe.Run(text, new PipelineParameters { ["targets"] = targets, ["top_k"] = 2 }).Count);
    }

    [TestMethod]
    [DataRow("bert-nli", 2, 0)]
    [DataRow("bert-nli-entailment-first", 0, 2)]   // "Entailment" is class 0, so contradiction is the last class
    public void EntailmentClassComesFromTheConfig(string model, int entail, int contradiction)
    {
        const string text = "the movie was good";
        string[] labels = ["movie", "city"];
        using var zs = (ZeroShotClassificationPipeline)Create("zero-shot-classification", model, Engine.OnnxRuntime);
        using var tc = (TextClassificationPipeline)Create("text-classification", model, Engine.OnnxRuntime);
        var logits = labels.Select(l => tc.Run(new TextInput(text, $"This example is {l}."), new PipelineParameters { ["function_to_apply"] = "none", ["top_k"] = null })
            .OrderBy(r => tc.Model.Config.Label2Id[r.Label]).Select(r => r.Score).ToArray()).ToArray();

        var multi = zs.Run(text, new PipelineParameters { ["candidate_labels"] = labels, ["multi_label"] = true });
        for (int i = 0; i < labels.Length; i++)
        {
            double want = 1 / (1 + Math.Exp(logits[i][contradiction] - logits[i][entail]));
            Close(want, multi.Scores[multi.Labels.ToList().IndexOf(labels[i])], $"multi_label {labels[i]}", 1e-6);
        }
        var single = zs.Run(text, new PipelineParameters { ["candidate_labels"] = labels });
        var commaSeparated = zs.Run(text, new PipelineParameters { ["candidate_labels"] = " movie, city ," });
        CollectionAssert.AreEqual(single.Labels.ToList(), commaSeparated.Labels.ToList());
        double e0 = Math.Exp(logits[0][entail]), e1 = Math.Exp(logits[1][entail]);
        Close(e0 / (e0 + e1), single.Scores[single.Labels.ToList().IndexOf("movie")], "softmax over labels", 1e-6);
    }
}
