using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>One input, lists in padded batches, lazy streams and async streams give the same results; streams are read lazily.</summary>
[TestClass]
public class BatchingTests
{
    private static readonly string[] Texts =
        ["the movie was good", "i hate this city", "she said the capital of france is paris and the people were happy", "hello", "bad"];

    [TestMethod]
    [DataRow(Engine.OnnxRuntime)]
    [DataRow(Engine.LibTorch)]
    public void BatchSizesAndStreamsAgree(Engine engine)
    {
        using var pipe = (TokenClassificationPipeline)Create("token-classification", "bert-tokcls-bio", engine,
            new PipelineParameters { ["ignore_labels"] = Array.Empty<string>() });
        var one = Texts.Select(t => pipe.Run(t)).ToList();
        foreach (int b in new[] { 1, 2, 5, 8 })
        {
            var batched = pipe.RunBatch(Texts, new PipelineParameters { ["batch_size"] = b });
            for (int i = 0; i < Texts.Length; i++)
            {
                Assert.AreEqual(one[i].Count, batched[i].Count);
                for (int j = 0; j < one[i].Count; j++)
                {
                    Assert.AreEqual(one[i][j] with { Score = 0 }, batched[i][j] with { Score = 0 }, $"batch {b}");
                    Close(one[i][j].Score, batched[i][j].Score, $"batch {b} padding", 1e-5);
                }
            }
        }
    }

    [TestMethod]
    public void StreamReadsInputsOnlyAsBatchesFill()
    {
        using var pipe = (TextClassificationPipeline)Create("text-classification", "bert-seqcls", Engine.OnnxRuntime);
        int pulled = 0;
        IEnumerable<TextInput> Source()
        {
            foreach (var t in Texts) { pulled++; yield return t; }
        }
        using var e = pipe.Stream(Source(), new PipelineParameters { ["batch_size"] = 2 }).GetEnumerator();
        Assert.AreEqual(0, pulled);
        Assert.IsTrue(e.MoveNext());
        Assert.AreEqual(2, pulled);      // the first result needed one full batch, no more
        var rest = new List<IReadOnlyList<TextClassificationResult>> { e.Current };
        while (e.MoveNext()) rest.Add(e.Current);
        Assert.AreEqual(Texts.Length, rest.Count);
        var expected = pipe.RunBatch(Texts.Select(t => (TextInput)t).ToList());
        for (int i = 0; i < Texts.Length; i++) Close(expected[i][0].Score, rest[i][0].Score, $"stream [{i}]", 1e-5);
    }

    [TestMethod]
    public async Task AsyncStreamMatchesAndChunksOfOneInputStayTogether()
    {
        using var pipe = (ZeroShotClassificationPipeline)Create("zero-shot-classification", "bert-nli", Engine.OnnxRuntime,
            new PipelineParameters { ["candidate_labels"] = new[] { "movie", "city", "people" } });
        static async IAsyncEnumerable<string> Source()
        {
            foreach (var t in Texts) { await Task.Yield(); yield return t; }
        }
        var results = new List<ZeroShotClassificationResult>();
        // batch 2 over 3 chunks per input: batches straddle inputs
        await foreach (var r in pipe.StreamAsync(Source(), new PipelineParameters { ["batch_size"] = 2 })) results.Add(r);
        Assert.AreEqual(Texts.Length, results.Count);
        for (int i = 0; i < Texts.Length; i++)
        {
            var single = pipe.Run(Texts[i]);
            Assert.AreEqual(Texts[i], results[i].Sequence);
            CollectionAssert.AreEqual(single.Labels.ToList(), results[i].Labels.ToList());
            for (int j = 0; j < 3; j++) Close(single.Scores[j], results[i].Scores[j], $"async [{i}][{j}]", 1e-5);
        }
    }
}
