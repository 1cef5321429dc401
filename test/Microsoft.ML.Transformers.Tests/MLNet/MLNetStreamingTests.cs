using Microsoft.ML.Data;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Tests.Pipelines;
using static Microsoft.ML.Transformers.Tests.MLNet.MLNetFixtures;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>Transform is lazy; a cursor reads BatchSize rows ahead and no more; row order is kept; cursors used at the same
/// time (interleaved, or on several threads) each get the right rows; PredictionEngine works with plain classes.</summary>
[TestClass]
public class MLNetStreamingTests
{
    private sealed class CountingSource(int rows)
    {
        private int _read;
        public int Read => Volatile.Read(ref _read);

        public IEnumerable<TextRow> Rows()
        {
            for (int i = 0; i < rows; i++)
            {
                Interlocked.Increment(ref _read);
                yield return new TextRow { Text = $"{Texts[i % Texts.Length]} {i}" };
            }
        }
    }

    [TestMethod]
    public void CursorReadsOneBatchAheadAndKeepsRowOrder()
    {
        var ml = new MLContext();
        var source = new CountingSource(10);
        var data = ml.Data.LoadFromEnumerable(source.Rows());
        using var model = ml.Transforms.TextClassification(new TextClassificationEstimator.Options
            { ModelFolder = PipelineFixtures.Model("bert-seqcls"), BatchSize = 4 }).Fit(data);
        var view = model.Transform(data);
        Assert.AreEqual(0, source.Read, "Transform is lazy");

        using var cursor = view.GetRowCursor(view.Schema);
        var text = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["Text"]);
        var score = cursor.GetGetter<VBuffer<float>>(view.Schema["Score"]);
        var rows = new List<(string Text, float[] Score)>();
        var readAt = new List<int>();
        while (cursor.MoveNext())
        {
            readAt.Add(source.Read);
            ReadOnlyMemory<char> t = default;
            VBuffer<float> s = default;
            text(ref t);
            score(ref s);
            rows.Add((t.ToString(), s.DenseValues().ToArray()));
            Assert.AreEqual(rows.Count - 1, cursor.Position);
        }
        // rows 1-4 are served after reading 4, rows 5-8 after 8, rows 9-10 after all 10
        CollectionAssert.AreEqual(new[] { 4, 4, 4, 4, 8, 8, 8, 8, 10, 10 }, readAt);
        CollectionAssert.AreEqual(source.Rows().Select(r => r.Text).ToArray(), rows.Select(r => r.Text).ToArray(), "row order");

        using var pipe = Direct<TextClassificationPipeline>("text-classification", "bert-seqcls");
        var expected = pipe.RunBatch(rows.Select(r => new TextInput(r.Text)).ToList(), new TextClassificationOptions { TopK = TextClassificationOptions.All });
        for (int i = 0; i < rows.Count; i++)
            AssertClose(model.Labels.Select(l => (float)expected[i].Single(x => x.Label == l).Score).ToArray(), rows[i].Score, $"row {i}");
    }

    [TestMethod]
    public void OnlyInputColumnsAskedForAreRead()
    {
        var ml = new MLContext();
        var data = TextData(ml);
        using var model = ml.Transforms.TextClassification(PipelineFixtures.Model("bert-seqcls")).Fit(data);
        var view = model.Transform(data);
        // no output column requested: the model does not run, and the text passes through
        using var cursor = view.GetRowCursor([view.Schema["Text"]]);
        Assert.IsFalse(cursor.IsColumnActive(view.Schema["Score"]));
        Assert.ThrowsExactly<InvalidOperationException>(() => cursor.GetGetter<VBuffer<float>>(view.Schema["Score"]));
        int n = 0;
        while (cursor.MoveNext()) n++;
        Assert.AreEqual(Texts.Length, n);
    }

    [TestMethod]
    public void ConcurrentCursorsEachGetTheirRows()
    {
        var ml = new MLContext();
        var texts = Enumerable.Range(0, 23).Select(i => $"{Texts[i % Texts.Length]} number {i}").ToList();
        var data = TextData(ml, texts);
        using var model = ml.Transforms.FeatureExtraction(new FeatureExtractionEstimator.Options
            { ModelFolder = PipelineFixtures.Model("bert-base"), BatchSize = 5 }).Fit(data);
        var view = model.Transform(data);
        var expected = view.GetColumn<float[]>("Features").ToList();

        // two cursors interleaved on one thread
        using (var a = view.GetRowCursor(view.Schema))
        using (var b = view.GetRowCursor(view.Schema))
        {
            var ga = a.GetGetter<VBuffer<float>>(view.Schema["Features"]);
            var gb = b.GetGetter<VBuffer<float>>(view.Schema["Features"]);
            for (int i = 0; i < texts.Count; i++)
            {
                Assert.IsTrue(a.MoveNext());
                if (i % 2 == 0) Assert.IsTrue(b.MoveNext());
                VBuffer<float> va = default;
                ga(ref va);
                AssertClose(expected[i], va.DenseValues().ToArray(), $"cursor a row {i}");
                if (i % 2 == 0)
                {
                    VBuffer<float> vb = default;
                    gb(ref vb);
                    AssertClose(expected[i / 2], vb.DenseValues().ToArray(), $"cursor b row {i / 2}");
                }
            }
        }

        // four threads, each with its own cursor
        var results = new List<float[]>[4];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k => results[k] = view.GetColumn<float[]>("Features").ToList());
        foreach (var r in results)
            for (int i = 0; i < expected.Count; i++) AssertClose(expected[i], r[i], $"thread row {i}");

        // ML.NET's cursor sets (asked for several) stay in order
        var set = view.GetRowCursorSet(view.Schema, 3);
        Assert.AreEqual(1, set.Length);
        set[0].Dispose();
    }

    public sealed class Prediction
    {
        public float[] Score { get; set; } = [];
        public uint PredictedLabel { get; set; }
        public string PredictedName { get; set; } = "";
    }

    [TestMethod]
    public void PredictionEnginePerThread()
    {
        var ml = new MLContext();
        var data = TextData(ml);
        var model = ml.Transforms.TextClassification(PipelineFixtures.Model("bert-nli"))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"))
            .Fit(data);
        var expected = model.Transform(data);
        var scores = expected.GetColumn<float[]>("Score").ToList();
        var names = expected.GetColumn<string>("PredictedName").ToList();

        var engines = new ThreadLocal<PredictionEngine<TextRow, Prediction>>(() => ml.Model.CreatePredictionEngine<TextRow, Prediction>(model), trackAllValues: true);
        Parallel.For(0, Texts.Length * 3, new ParallelOptions { MaxDegreeOfParallelism = 3 }, j =>
        {
            int i = j % Texts.Length;
            var p = engines.Value!.Predict(new TextRow { Text = Texts[i] });
            AssertClose(scores[i], p.Score, $"row {i} Score");
            Assert.AreEqual(names[i], p.PredictedName, $"row {i}");
        });
        // the same engine on consecutive different rows recomputes
        var engine = ml.Model.CreatePredictionEngine<TextRow, Prediction>(model);
        for (int i = 0; i < Texts.Length; i++) AssertClose(scores[i], engine.Predict(new TextRow { Text = Texts[i] }).Score, $"sequential row {i}");
        foreach (var e in engines.Values) e.Dispose();
        engine.Dispose();
        foreach (var t in model) (t as IDisposable)?.Dispose();
    }

    [TestMethod]
    public void AFailingRowIsNamed()
    {
        var ml = new MLContext();
        var data = TextData(ml, ["fine", "also fine", "", "fine again"]);
        using var model = ml.Transforms.TextClassification(new TextClassificationEstimator.Options
            { ModelFolder = PipelineFixtures.Model("bert-seqcls"), BatchSize = 4 }).Fit(data);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => model.Transform(data).GetColumn<float[]>("Score").ToList());
        StringAssert.Contains(e.Message, "TextClassification failed on input row 2 (Text = \"\")");
        StringAssert.Contains(e.Message, "empty");
    }
}
