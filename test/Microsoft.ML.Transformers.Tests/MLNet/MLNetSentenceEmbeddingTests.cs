using System.IO.Compression;
using System.Text.Json;
using Microsoft.ML.Data;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.SentenceTransformers;
using Microsoft.ML.Transformers.Tests.Pipelines;
using Microsoft.ML.Transformers.Tests.SentenceTransformers;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>
/// mlContext.Transforms.FeatureExtraction on a sentence-transformers folder: one vector per row as the folder's modules
/// make it (pooling, Normalize, max_seq_length), equal to SentenceTransformer.Encode; on the real all-MiniLM-L6-v2 also
/// equal to the PyTorch reference embeddings (test/fixtures/minilm, make_minilm_goldens.py); kept in model.zip.
/// </summary>
[TestClass]
public class MLNetSentenceEmbeddingTests
{
    public sealed class Embedded
    {
        public float[] Features { get; set; } = [];
    }

    /// <summary>The tiny BERT fixture with the module files of test/fixtures/mlnet/st-tiny (CLS + max pooling, max_seq_length 8, Normalize).</summary>
    private static string TinyFolder()
    {
        var dir = MLNetFixtures.CopyModel("bert-base");
        PipelineFixtures.CopyDirectory(TestPaths.Fixture("mlnet", "st-tiny"), dir);
        return dir;
    }

    private static float[][] Rows(float[,] m) =>
        Enumerable.Range(0, m.GetLength(0)).Select(i => SentenceTransformer.Row(m, i).ToArray()).ToArray();

    [TestMethod]
    [DataRow(Engine.LibTorch)]
    [DataRow(Engine.OnnxRuntime)]
    public void TinyFolder_EqualsEncode_AndIsKeptInModelZip(Engine engine)
    {
        var folder = TinyFolder();
        var zip = MLNetFixtures.TempZip();
        try
        {
            var ml = new MLContext();
            // one text far past max_seq_length (8 tokens): Encode truncates it, so must the transform
            var texts = MLNetFixtures.Texts.Append(string.Join(" ", Enumerable.Repeat("the movie was good", 20))).ToArray();
            var data = MLNetFixtures.TextData(ml, texts);
            float[][] expected;
            using (var st = SentenceTransformer.FromPretrained(folder, new SentenceTransformerOptions { Engine = engine }))
            {
                Assert.AreEqual(64, st.Dimension, "CLS + max over 32");
                expected = Rows(st.Encode(texts));
            }
            var estimator = ml.Transforms.FeatureExtraction(new FeatureExtractionEstimator.Options { ModelFolder = folder, Engine = engine, BatchSize = 3 });
            var shape = estimator.GetOutputSchema(MLNetPersistence.ShapeOf(data.Schema)).Single(c => c.Name == "Features");
            Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, shape.Kind);
            using var model = estimator.Fit(data);
            Assert.AreEqual(64, ((VectorDataViewType)model.GetOutputSchema(data.Schema)["Features"].Type).Size);
            Assert.IsNotNull(model.SentenceTransformer);
            var actual = ml.Data.CreateEnumerable<Embedded>(model.Transform(data), reuseRowObject: false).Select(r => r.Features).ToList();
            for (int i = 0; i < texts.Length; i++)
            {
                MLNetFixtures.AssertClose(expected[i], actual[i], $"{engine} row {i}", 1e-5);
                Assert.AreEqual(1.0, Math.Sqrt(actual[i].Sum(x => (double)x * x)), 1e-5, "the folder's Normalize module");
            }

            // model.zip carries the module files: the loaded transformer embeds the same without the folder
            ml.Model.Save(model, data.Schema, zip);
            Directory.Delete(folder, recursive: true);
            var loaded = (FeatureExtractionTransformer)new MLContext().Model.Load(zip, out _);
            Assert.IsNotNull(loaded.SentenceTransformer);
            var again = ml.Data.CreateEnumerable<Embedded>(loaded.Transform(data), reuseRowObject: false).Select(r => r.Features).ToList();
            for (int i = 0; i < texts.Length; i++) CollectionAssert.AreEqual(actual[i], again[i], $"loaded row {i}");
            using var engineOne = ml.Model.CreatePredictionEngine<MLNetFixtures.TextRow, Embedded>(loaded);
            MLNetFixtures.AssertClose(expected[0], engineOne.Predict(new MLNetFixtures.TextRow { Text = texts[0] }).Features, "PredictionEngine", 1e-5);
            loaded.Dispose();
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            File.Delete(zip);
        }
    }

    [TestMethod]
    public void ExplicitPoolingOverridesTheModules_AndPairsNeedIt()
    {
        var folder = TinyFolder();
        try
        {
            var ml = new MLContext();
            var data = MLNetFixtures.TextData(ml);
            using var mean = ml.Transforms.FeatureExtraction(new FeatureExtractionEstimator.Options { ModelFolder = folder, Pooling = global::Microsoft.ML.Transformers.Pipelines.Pooling.Mean }).Fit(data);
            Assert.IsNull(mean.SentenceTransformer);
            Assert.AreEqual(32, mean.HiddenSize);
            var e = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.FeatureExtraction(new FeatureExtractionEstimator.Options { ModelFolder = folder, PairColumnName = "Pair" }));
            StringAssert.Contains(e.Message, "sentence-transformers folder");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private sealed record Sentence(string text, int[] ids);

    [TestMethod]
    [TestCategory("Slow")]
    public void AllMiniLM_EqualsEncodeAndThePyTorchReference()
    {
        const int n = 48;
        var texts = new StreamReader(new GZipStream(File.OpenRead(TestPaths.Fixture("minilm", "sentences.jsonl.gz")), CompressionMode.Decompress))
            .ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(n).Select(l => JsonSerializer.Deserialize<Sentence>(l)!.text).ToArray();
        float[] reference;
        using (var gz = new GZipStream(File.OpenRead(TestPaths.Fixture("minilm", "embeddings.f32.gz")), CompressionMode.Decompress))
        {
            var bytes = new byte[n * 384 * sizeof(float)];
            gz.ReadExactly(bytes);
            reference = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        }
        var ml = new MLContext();
        var data = MLNetFixtures.TextData(ml, texts);
        using var model = ml.Transforms.FeatureExtraction(MiniLMFolder.Path).Fit(data);
        Assert.AreEqual(384, model.HiddenSize);
        var actual = ml.Data.CreateEnumerable<Embedded>(model.Transform(data), reuseRowObject: false).Select(r => r.Features).ToList();
        using var st = SentenceTransformer.FromPretrained(MiniLMFolder.Path);
        var encoded = Rows(st.Encode(texts));
        for (int i = 0; i < n; i++)
        {
            MLNetFixtures.AssertClose(encoded[i], actual[i], $"Encode, sentence {i}", 1e-5);
            MLNetFixtures.AssertClose(reference.AsSpan(i * 384, 384).ToArray(), actual[i], $"PyTorch reference, sentence {i}", 1e-4);
        }
    }
}
