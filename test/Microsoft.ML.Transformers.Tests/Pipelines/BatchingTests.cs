using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>One input, lists in padded batches, lazy streams and async streams give the same results; streams are read lazily;
/// batches group inputs of similar length.</summary>
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
    public void StreamReadsInputsOnlyAsItsSortingWindowFills()
    {
        using var pipe = (TextClassificationPipeline)Create("text-classification", "bert-seqcls", Engine.OnnxRuntime);
        var texts = Enumerable.Range(0, 40).Select(i => Texts[i % Texts.Length]).ToArray();
        int pulled = 0;
        IEnumerable<TextInput> Source()
        {
            foreach (var t in texts) { pulled++; yield return t; }
        }
        using var e = pipe.Stream(Source(), new PipelineParameters { ["batch_size"] = 2 }).GetEnumerator();
        Assert.AreEqual(0, pulled);
        Assert.IsTrue(e.MoveNext());
        Assert.AreEqual(2 * TextClassificationPipeline.StreamWindowBatches, pulled, "the first result needed one window of batches, no more");
        var rest = new List<IReadOnlyList<TextClassificationResult>> { e.Current };
        while (e.MoveNext()) rest.Add(e.Current);
        Assert.AreEqual(texts.Length, rest.Count);
        for (int i = 0; i < texts.Length; i++) Close(pipe.Run(texts[i])[0].Score, rest[i][0].Score, $"stream [{i}]", 1e-5);

        pulled = 0;
        using var one = pipe.Stream(Source()).GetEnumerator();   // batch_size 1: nothing to sort, one input at a time
        Assert.IsTrue(one.MoveNext());
        Assert.AreEqual(1, pulled);
    }

    /// <summary>Records the padded shape of every batch the pipeline runs.</summary>
    private sealed class RecordingModel(IInferenceModel inner) : IInferenceModel
    {
        public List<(int Batch, int Length)> Batches { get; } = [];
        public global::Microsoft.ML.Transformers.Configuration.PretrainedConfig Config => inner.Config;
        public Engine Engine => inner.Engine;
        public ModelHead Head => inner.Head;
        public global::Microsoft.ML.Transformers.OnnxRuntime.NamedTensors Run(InferenceBatch batch)
        {
            Batches.Add((batch.BatchSize, batch.SequenceLength));
            return inner.Run(batch);
        }
        public void Dispose() => inner.Dispose();
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void InputsOfSimilarLengthShareABatchAndResultsKeepInputOrder(bool stream)
    {
        var plain = (TextClassificationPipeline)Create("text-classification", "bert-seqcls", Engine.OnnxRuntime);
        var model = new RecordingModel(plain.Model);
        using var pipe = new TextClassificationPipeline(new PipelineContext(plain.Task, plain.ModelFolder, model, plain.Tokenizer, plain.Parameters));
        // short and long texts alternate: batches in input order would each be padded to a long text
        var texts = Enumerable.Range(0, 12).Select(i => (TextInput)(i % 2 == 0
            ? string.Join(" ", Enumerable.Repeat("the capital of france is paris", 1 + i % 3))
            : new[] { "good", "bad", "hello" }[i % 3])).ToList();
        var lengths = texts.Select(t => pipe.Tokenizer.Encode(t.Text).Length).ToList();
        var expected = texts.Select(t => pipe.Run(t)).ToList();
        model.Batches.Clear();

        var p = new PipelineParameters { ["batch_size"] = 3 };
        var got = stream ? pipe.Stream(texts, p).ToList() : pipe.RunBatch(texts, p);

        // sorted lengths 3 x6, 8, 8, 14, 14, 20, 20: batches of 3 rows, except that [8, 8, 14] would pad 42 > 1.1 x 30 tokens
        // and [14, 14, 20] 60 > 1.1 x 48; in input order every batch would pad to 8-20 tokens
        CollectionAssert.AreEqual(new[] { 3, 3, 3, 3, 3, 3, 8, 8, 14, 14, 20, 20 }, lengths.Order().ToArray());
        CollectionAssert.AreEqual(new[] { (3, 3), (3, 3), (2, 8), (2, 14), (2, 20) }, model.Batches.ToArray(),
            "padded batches: " + string.Join(", ", model.Batches));
        Assert.AreEqual(texts.Count, got.Count);
        for (int i = 0; i < texts.Count; i++)
        {
            Assert.AreEqual(expected[i][0].Label, got[i][0].Label, $"[{i}] in input order");
            Close(expected[i][0].Score, got[i][0].Score, $"[{i}]", 1e-5);
        }
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void ALongTextRunsInItsOwnBatchRatherThanPadTheShortOnes(bool stream)
    {
        var plain = (TextClassificationPipeline)Create("text-classification", "bert-seqcls", Engine.OnnxRuntime);
        var model = new RecordingModel(plain.Model);
        using var pipe = new TextClassificationPipeline(new PipelineContext(plain.Task, plain.ModelFolder, model, plain.Tokenizer, plain.Parameters));
        string longText = string.Join(" ", Enumerable.Repeat("the capital of france is paris", 8));   // 50 tokens
        var texts = new List<TextInput> { "good", "bad", "hello", longText, "good", "bad", "hello", "good" };
        var expected = texts.Select(t => pipe.Run(t)).ToList();
        model.Batches.Clear();

        var p = new PipelineParameters { ["batch_size"] = 8 };
        var got = stream ? pipe.Stream(texts, p).ToList() : pipe.RunBatch(texts, p);

        // one batch of 8 would be 8 x 50 = 400 tokens for 71 real ones
        CollectionAssert.AreEqual(new[] { (7, 3), (1, 50) }, model.Batches.ToArray(), "padded batches: " + string.Join(", ", model.Batches));
        for (int i = 0; i < texts.Count; i++)
        {
            Assert.AreEqual(expected[i][0].Label, got[i][0].Label, $"[{i}] in input order");
            Close(expected[i][0].Score, got[i][0].Score, $"[{i}]", 1e-5);
        }
    }

    [TestMethod]
    public void MaxBatchTokensCapsTheBatchAndIsRangeChecked()
    {
        var plain = (TextClassificationPipeline)Create("text-classification", "bert-seqcls", Engine.OnnxRuntime);
        var model = new RecordingModel(plain.Model);
        using var pipe = new TextClassificationPipeline(new PipelineContext(plain.Task, plain.ModelFolder, model, plain.Tokenizer, plain.Parameters));
        var texts = Enumerable.Range(0, 10).Select(i => (TextInput)new[] { "good", "bad", "hello" }[i % 3]).ToList();   // 3 tokens each
        var expected = texts.Select(t => pipe.Run(t)).ToList();
        model.Batches.Clear();
        var got = pipe.RunBatch(texts, new TextClassificationOptions { BatchSize = 8, MaxBatchTokens = 12 });
        CollectionAssert.AreEqual(new[] { (4, 3), (4, 3), (2, 3) }, model.Batches.ToArray(), "padded batches: " + string.Join(", ", model.Batches));
        for (int i = 0; i < texts.Count; i++) Close(expected[i][0].Score, got[i][0].Score, $"[{i}]", 1e-5);

        model.Batches.Clear();
        pipe.RunBatch(texts, new PipelineParameters { ["batch_size"] = 8, ["max_batch_tokens"] = 2 });   // one input is over the cap: it runs alone
        Assert.IsTrue(model.Batches.All(b => b == (1, 3)), "padded batches: " + string.Join(", ", model.Batches));
        var e = Assert.ThrowsExactly<ArgumentException>(() => pipe.RunBatch(texts, new PipelineParameters { ["max_batch_tokens"] = 0 }));
        StringAssert.Contains(e.Message, "max_batch_tokens");
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
