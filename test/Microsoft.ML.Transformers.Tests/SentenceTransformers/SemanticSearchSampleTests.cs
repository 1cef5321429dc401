using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.SentenceTransformers;
using SemanticSearch;

namespace Microsoft.ML.Transformers.Tests.SentenceTransformers;

/// <summary>samples/SemanticSearch's core: the fortune file reader, and an index of a few texts on the real all-MiniLM-L6-v2.</summary>
[TestClass]
public sealed class SemanticSearchSampleTests
{
    [TestMethod]
    public void Cookies_SplitOnPercentLines_CollapseWhitespace()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mlt-fortunes-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "de"));
        File.WriteAllText(Path.Combine(dir, "a"), "First  cookie,\n\tsecond line.\n%\nshort\n%\n100% sure: percent\nsigns inside stay.\n%\n");
        File.WriteAllText(Path.Combine(dir, "a.dat"), "index, not text");
        File.WriteAllText(Path.Combine(dir, "de", "b"), "Ein deutscher Keks mit Text.\n%\nFirst cookie, second line.\n");
        CollectionAssert.AreEqual(new[] { "First cookie, second line.", "short", "100% sure: percent signs inside stay." },
            Fortunes.Cookies(Path.Combine(dir, "a")).ToArray());
        // files in ordinal order, .dat skipped, the short cookie and the duplicate dropped
        CollectionAssert.AreEqual(new[] { "First cookie, second line.", "100% sure: percent signs inside stay.", "Ein deutscher Keks mit Text." },
            Fortunes.Read(dir).ToArray());
        Directory.Delete(dir, true);
    }

    [TestMethod]
    [TestCategory("Slow")]
    public void Index_BuiltStreaming_AnswersWithTheRightText()
    {
        string[] texts =
        [
            "The cat sleeps all afternoon in a warm patch of sunlight.",
            "Never trust a computer you cannot throw out of a window.",
            "The train to Berlin is running late again today.",
            "A journey of a thousand miles begins with a single step.",
            "My program compiled on the first try, so something must be wrong.",
            "La pizza napoletana si cuoce nel forno a legna.",
        ];
        var dir = Path.Combine(Path.GetTempPath(), "mlt-index-" + Guid.NewGuid().ToString("N"));
        using var st = SentenceTransformer.FromPretrained(MiniLMFolder.Path, new SentenceTransformerOptions { Engine = Engine.OnnxRuntime });
        Assert.AreEqual(6, SearchIndex.Build(dir, st, texts, "all-minilm-l6-v2", batchSize: 4));
        CollectionAssert.AreEquivalent(new[] { SearchIndex.TextsFile, SearchIndex.EmbeddingsFile }, Directory.GetFiles(dir).Select(Path.GetFileName).ToArray());
        using var index = SearchIndex.Open(dir);
        Assert.AreEqual(new EmbeddingFileInfo(384, 6, "all-minilm-l6-v2", true), index.Info);
        var hits = index.Search(st, "a kitten napping in the sun", k: 3);
        Assert.AreEqual(texts[0], hits[0].Text);
        Assert.AreEqual(3, hits.Length);
        Assert.IsTrue(hits[0].Score > hits[1].Score && hits[1].Score >= hits[2].Score);
        // the scores are the model's own cosine similarities
        var e = st.Encode(["a kitten napping in the sun", texts[0]]);
        Assert.AreEqual(st.Similarity(e, e)[0, 1], hits[0].Score, 1e-5f);
        Assert.AreEqual("The train to Berlin is running late again today.", index.Search(st, "the train is late again", k: 1)[0].Text);
        Assert.AreEqual(texts[4], index.Search(st, "software bugs", k: 1)[0].Text);
        Directory.Delete(dir, true);
    }
}
