using System.Text.Json;
using Microsoft.ML.Transformers.SentenceTransformers;

namespace Microsoft.ML.Transformers.Tests.SentenceTransformers;

/// <summary>
/// The embedding file format and top-k search. Expected values: test/fixtures/embeddings from
/// test/fixtures/scripts/make_embedding_topk.py (torch.topk over torch cosine_similarity / dot, and a file written in Python
/// from the format's documentation).
/// </summary>
[TestClass]
public sealed class EmbeddingStoreTests
{
    private sealed record Top(long[] indices, double[] scores);
    private sealed record Oracle(double[][] rows, double[][] queries, int k, Top[] cosine, Top[] dot);

    private static Oracle Load() => JsonSerializer.Deserialize<Oracle>(File.ReadAllText(TestPaths.Fixture("embeddings", "topk.json")))!;

    private static float[] F(double[] x) => x.Select(v => (float)v).ToArray();

    private static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mlt-emb-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static void AssertHits(Top expected, SearchHit[] actual, string what)
    {
        CollectionAssert.AreEqual(expected.indices, actual.Select(h => h.Index).ToArray(), what);
        for (int i = 0; i < actual.Length; i++) Assert.AreEqual(expected.scores[i], actual[i].Score, 1e-5, $"{what}: hit {i}");
    }

    [TestMethod]
    public void Store_WrittenStreaming_SearchesLikeTorchTopK()
    {
        var o = Load();
        var dir = TempDir();
        var path = Path.Combine(dir, "rows.emb");
        int yielded = 0;
        IEnumerable<float[]> Rows() { foreach (var r in o.rows) { yielded++; yield return F(r); } }
        var progress = new List<long>();
        long n = EmbeddingFile.Write(path, Rows(), 12, "random rows", normalized: false, new SyncProgress<long>(progress));
        Assert.AreEqual(300, n);
        Assert.AreEqual(300, yielded);
        Assert.AreEqual(300, progress.Count);
        CollectionAssert.AreEqual(new[] { "rows.emb" }, Directory.GetFiles(dir).Select(Path.GetFileName).ToArray(), "no temporary file left");
        Assert.AreEqual(64 + 300 * 12 * 4, new FileInfo(path).Length);
        using (var store = EmbeddingStore.Open(path))
        {
            Assert.AreEqual(new EmbeddingFileInfo(12, 300, "random rows", false), store.Info);
            CollectionAssert.AreEqual(F(o.rows[299]), store[299].ToArray());
            for (int q = 0; q < o.queries.Length; q++)
            {
                AssertHits(o.cosine[q], store.Search(F(o.queries[q]), o.k), $"cosine, query {q}");
                AssertHits(o.dot[q], store.Search(F(o.queries[q]), o.k, SimilarityFunction.Dot), $"dot, query {q}");
            }
            // k above the count: every row, best first
            Assert.AreEqual(300, store.Search(F(o.queries[0]), 1000).Length);
        }
        Directory.Delete(dir, true);
    }

    [TestMethod]
    public void TopK_OverAMatrix_EqualsTorchTopK()
    {
        var o = Load();
        var m = new float[o.rows.Length, 12];
        for (int i = 0; i < o.rows.Length; i++) for (int j = 0; j < 12; j++) m[i, j] = (float)o.rows[i][j];
        for (int q = 0; q < o.queries.Length; q++)
            AssertHits(o.cosine[q], EmbeddingSearch.TopK(m, F(o.queries[q]), o.k), $"query {q}");
    }

    [TestMethod]
    public void TopKCollector_KeepsTheBest_TiesToTheLowerIndex()
    {
        var c = new TopKCollector(3);
        float[] scores = [0.5f, 0.9f, 0.1f, 0.9f, float.NaN, 0.7f, 0.5f];
        for (int i = 0; i < scores.Length; i++) c.Add(i, scores[i]);
        CollectionAssert.AreEqual(new SearchHit[] { new(1, 0.9f), new(3, 0.9f), new(5, 0.7f) }, c.Results());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TopKCollector(0));
    }

    [TestMethod]
    public void Reads_AFileWrittenFromTheDocumentation()
    {
        using var store = EmbeddingStore.Open(TestPaths.Fixture("embeddings", "tiny.emb"));
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("embeddings", "tiny.json")));
        Assert.AreEqual(doc.RootElement.GetProperty("model").GetString(), store.Info.Model);
        Assert.IsTrue(store.Info.Normalized);
        Assert.AreEqual(3, store.Count);
        Assert.AreEqual(4, store.Dimension);
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToArray();
        for (int i = 0; i < 3; i++) CollectionAssert.AreEqual(rows[i], store[i].ToArray());
        // a row is its own nearest neighbour (normalized: cosine = dot)
        Assert.AreEqual(2, store.Search(rows[2], 1)[0].Index);
        Assert.AreEqual(1f, store.Search(rows[2], 1)[0].Score, 1e-6f);
    }

    [TestMethod]
    public void Writer_FailingMidway_LeavesThePreviousFile()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "e.emb");
        EmbeddingFile.Write(path, [[1f, 2f]], 2, "old");
        var before = File.ReadAllBytes(path);
        IEnumerable<float[]> Failing() { yield return [1f, 2f]; throw new IOException("source broke"); }
        Assert.ThrowsExactly<IOException>(() => EmbeddingFile.Write(path, Failing(), 2));
        var e = Assert.ThrowsExactly<ArgumentException>(() => EmbeddingFile.Write(path, [[1f, 2f], [1f, 2f, 3f]], 2));
        StringAssert.Contains(e.Message, "Row 1 has 3 values");
        CollectionAssert.AreEqual(before, File.ReadAllBytes(path));
        CollectionAssert.AreEqual(new[] { "e.emb" }, Directory.GetFiles(dir).Select(Path.GetFileName).ToArray(), "no temporary file left");
        Directory.Delete(dir, true);
    }

    [TestMethod]
    public void BadFiles_AreNamedWithTheField()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "bad.emb");
        var good = File.ReadAllBytes(TestPaths.Fixture("embeddings", "tiny.emb"));
        void Expect(byte[] bytes, params string[] parts)
        {
            File.WriteAllBytes(path, bytes);
            var e = Assert.ThrowsExactly<FormatException>(() => EmbeddingStore.Open(path).Dispose());
            StringAssert.Contains(e.Message, path);
            foreach (var p in parts) StringAssert.Contains(e.Message, p);
        }
        byte[] With(int offset, params byte[] b) { var c = (byte[])good.Clone(); b.CopyTo(c, offset); return c; }
        Expect(good[..20], "file length", "20 bytes");
        Expect(With(0, (byte)'X'), "magic", "'XLTEMBED'");
        Expect(With(8, 2), "version is 2");
        Expect(With(12, 0), "dimension is 0");
        Expect(With(16, 4), "file length", "112 bytes", "4 rows");                       // count says 4 rows, 3 are there
        Expect(With(16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), "file length"); // huge count: no overflow
        Expect(good[..^4], "file length", "108 bytes");
        Expect(With(24, 2), "flags");
        Expect(With(28, 0xff, 0xff), "model name length is 65535");
        Expect(With(32, 0xff), "model name", "UTF-8");
        Assert.ThrowsExactly<FileNotFoundException>(() => EmbeddingStore.Open(Path.Combine(dir, "missing.emb")));
        Directory.Delete(dir, true);
    }

    [TestMethod]
    public void Search_BadQuery_Throws()
    {
        using var store = EmbeddingStore.Open(TestPaths.Fixture("embeddings", "tiny.emb"));
        var e = Assert.ThrowsExactly<ArgumentException>(() => store.Search(new float[5], 1));
        StringAssert.Contains(e.Message, "5 values");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => store.Search(new float[4], 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => store[3].ToArray());
    }

    private sealed class SyncProgress<T>(List<T> list) : IProgress<T>
    {
        public void Report(T value) => list.Add(value);
    }
}
