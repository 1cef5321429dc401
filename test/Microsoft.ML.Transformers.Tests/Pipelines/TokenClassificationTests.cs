using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>
/// Aggregation strategies Transformers.js lacks (first / average / max), checked against Hugging Face's documented rules
/// computed here from the raw per-token logits: a word's label is its first token's (first), the mean distribution's
/// (average) or that of its most confident token (max); adjacent words with the same tag form one group whose score is the
/// mean of theirs. Also: offsets cover whole words, and "simple" groups before dropping ignored labels, as Hugging Face does.
/// </summary>
[TestClass]
public class TokenClassificationTests
{
    private const string Text = "the parisian people were happy in paris";

    private sealed record Word(string Label, double Score, int Start, int End);

    private static List<Word> Words(TokenClassificationPipeline pipe, AggregationStrategy strategy)
    {
        var enc = pipe.Tokenizer.Encode(Text);
        var batch = new InferenceBatch(enc.Ids.Select(i => (long)i).ToArray(), enc.AttentionMask.Select(i => (long)i).ToArray(),
            enc.TypeIds.Select(i => (long)i).ToArray(), 1, enc.Length);
        var logits = pipe.Model.Run(batch)["logits"].GetData<float>();
        int labels = pipe.Model.Config.NumLabels;
        double[] Dist(int t)
        {
            var e = Enumerable.Range(0, labels).Select(j => Math.Exp(logits[t * labels + j])).ToArray();
            return e.Select(x => x / e.Sum()).ToArray();
        }
        var words = new List<Word>();
        foreach (var g in Enumerable.Range(0, enc.Length).Where(t => enc.WordIds[t] != null).GroupBy(t => enc.WordIds[t]))
        {
            var dists = g.Select(Dist).ToList();
            double[] d = strategy switch
            {
                AggregationStrategy.First => dists[0],
                AggregationStrategy.Max => dists.MaxBy(x => x.Max())!,
                _ => Enumerable.Range(0, labels).Select(j => dists.Average(x => x[j])).ToArray(),
            };
            int k = Array.IndexOf(d, d.Max());
            words.Add(new Word(pipe.Model.Config.Id2Label[k], d[k], enc.Offsets[g.First()].Start, enc.Offsets[g.Last()].End));
        }
        return words;
    }

    private static string Tag(string label) => label.StartsWith("B-") || label.StartsWith("I-") ? label[2..] : label;

    [TestMethod]
    [DataRow("bert-tokcls-bio", AggregationStrategy.First)]
    [DataRow("bert-tokcls-bio", AggregationStrategy.Average)]
    [DataRow("bert-tokcls-bio", AggregationStrategy.Max)]
    [DataRow("distilbert-tokcls-bio", AggregationStrategy.Average)]
    public void WordStrategiesFollowHuggingFaceRules(string model, AggregationStrategy strategy)
    {
        using var pipe = (TokenClassificationPipeline)Create("token-classification", model, Engine.OnnxRuntime);
        var words = Words(pipe, strategy);
        Assert.IsTrue(words.Count < pipe.Tokenizer.Encode(Text).Length - 2, "the text must have words of several tokens");
        var groups = pipe.Run(Text, new PipelineParameters { ["aggregation_strategy"] = strategy.ToString().ToLowerInvariant(), ["ignore_labels"] = Array.Empty<string>() });
        int w = 0;
        foreach (var g in groups)
        {
            var members = new List<Word>();
            while (w < words.Count && words[w].End <= g.End) members.Add(words[w++]);
            Assert.IsTrue(members.Count > 0, $"group {g} covers no word");
            Assert.AreEqual(members[0].Start, g.Start);
            Assert.AreEqual(members[^1].End, g.End);
            Assert.AreEqual(Text[g.Start..g.End], g.Word, "the word of a group is its text (lower-case ASCII here)");
            foreach (var m in members) Assert.AreEqual(g.Entity, Tag(m.Label), $"{strategy}: word {Text[m.Start..m.End]} in {g}");
            Assert.IsTrue(members.Skip(1).All(m => !m.Label.StartsWith("B-")), "a B- word starts a new group");
            Close(members.Average(m => m.Score), g.Score, $"{strategy} group score {g}", 1e-5);
            Assert.IsNull(g.Index);
        }
        Assert.AreEqual(words.Count, w, "groups cover every word");
    }

    [TestMethod]
    public void NoneGivesOffsetsIntoTheOriginalText()
    {
        using var pipe = (TokenClassificationPipeline)Create("ner", "bert-tokcls-bio", Engine.LibTorch);
        var text = "The  Parisian People";   // case and double space: offsets point into the original string
        var tokens = pipe.Run(text, new PipelineParameters { ["ignore_labels"] = Array.Empty<string>() });
        var enc = pipe.Tokenizer.Encode(text);
        Assert.AreEqual(enc.Length - 2, tokens.Count);
        foreach (var t in tokens)
        {
            Assert.AreEqual(enc.Offsets[t.Index!.Value], (t.Start, t.End));
            Assert.AreEqual(enc.Tokens[t.Index!.Value], t.Word);
        }
        Assert.AreEqual("The", text[tokens[0].Start..tokens[0].End]);
    }

    [TestMethod]
    public void SimpleGroupsBeforeIgnoringLabels()
    {
        using var pipe = (TokenClassificationPipeline)Create("token-classification", "roberta-tokcls-bio", Engine.OnnxRuntime,
            new PipelineParameters { ["aggregation_strategy"] = AggregationStrategy.Simple });
        var all = pipe.Run(Text, new PipelineParameters { ["ignore_labels"] = Array.Empty<string>() });
        var kept = pipe.Run(Text);   // ignore_labels defaults to ["O"]
        CollectionAssert.AreEqual(all.Where(g => g.Entity != "O").ToList(), kept.ToList());
    }
}

/// <summary>stride: a text longer than the model runs in overlapping windows whose entities are merged.</summary>
[TestClass]
public class TokenClassificationStrideTests
{
    private static readonly string LongText = string.Join(" ", Enumerable.Range(0, 70).Select(i => new[] { "the", "parisian", "people", "were", "happy", "in", "paris" }[i % 7])) + " france";

    [TestMethod]
    [DataRow(Engine.OnnxRuntime)]
    [DataRow(Engine.LibTorch)]
    public void LongTextIsCoveredToTheEnd(Engine engine)
    {
        using var pipe = (TokenClassificationPipeline)Create("token-classification", "bert-tokcls-bio", engine);
        var e = Assert.ThrowsExactly<ArgumentException>(() => pipe.Run(LongText, new PipelineParameters { ["truncation"] = false }));
        StringAssert.Contains(e.Message, "but the model takes at most 64");
        var truncated = pipe.Run(LongText, new PipelineParameters { ["ignore_labels"] = Array.Empty<string>() });   // truncates by default, as HF
        Assert.AreEqual(62, truncated.Count, "64 tokens less [CLS] and [SEP]");
        var p = new PipelineParameters { ["stride"] = 8, ["aggregation_strategy"] = "first", ["ignore_labels"] = Array.Empty<string>(), ["batch_size"] = 4 };
        var entities = pipe.Run(LongText, p);
        for (int i = 0; i < entities.Count; i++)
        {
            Assert.AreEqual(LongText[entities[i].Start..entities[i].End], entities[i].Word);
            if (i > 0) Assert.IsTrue(entities[i - 1].End <= entities[i].Start, $"overlap: {entities[i - 1]} / {entities[i]}");
        }
        Assert.AreEqual(LongText.Length, entities[^1].End, "the last word ('france') is in the last window");
    }

    [TestMethod]
    public void ShortTextGivesTheSameWithOrWithoutStride()
    {
        using var pipe = (TokenClassificationPipeline)Create("token-classification", "roberta-tokcls-bio", Engine.OnnxRuntime,
            new PipelineParameters { ["aggregation_strategy"] = "max" });
        const string text = "the parisian people were happy in paris";
        var plain = pipe.Run(text);
        var strided = pipe.Run(text, new PipelineParameters { ["stride"] = 4 });
        Assert.AreEqual(plain.Count, strided.Count);
        for (int i = 0; i < plain.Count; i++)
        {
            Assert.AreEqual(plain[i] with { Score = 0 }, strided[i] with { Score = 0 });
            Close(plain[i].Score, strided[i].Score, "score", 1e-6);
        }
        Assert.ThrowsExactly<ArgumentException>(() => pipe.Run(text, new PipelineParameters { ["stride"] = 4, ["aggregation_strategy"] = "none" }));
    }
}
