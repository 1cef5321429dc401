using System.IO.Compression;
using Microsoft.ML.Data;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Modeling;
using static Microsoft.ML.Transformers.Tests.MLNet.MLNetFixtures;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>
/// mlContext.Model.Save / Load of fitted chains holding our transformers: the zip carries the model files, so it loads in a
/// fresh MLContext after the folder it was made from is gone, and gives the same columns.
/// </summary>
[TestClass]
public class MLNetPersistenceTests
{
    [TestMethod]
    [DynamicData(nameof(MLNetTaskTests.Cases), typeof(MLNetTaskTests))]
    public void SavedChainLoadsWithoutTheModelFolder(string name)
    {
        var c = MLNetTaskCase.All.Single(x => x.Name == name);
        var folder = CopyModel(c.Model);
        var zip = TempZip();
        try
        {
            var ml = new MLContext(seed: 1);
            var data = c.Data(ml);
            // a chain: ours, then one of ML.NET's own transforms
            var chain = c.Estimator(ml, folder).Append(ml.Transforms.CopyColumns("TextCopy", data.Schema[0].Name));
            var model = chain.Fit(data);
            ml.Model.Save(model, data.Schema, zip);
            foreach (var t in model) (t as IDisposable)?.Dispose();
            Directory.Delete(folder, recursive: true);

            var fresh = new MLContext(seed: 2);
            var loaded = fresh.Model.Load(zip, out var inputSchema);
            Assert.AreEqual(data.Schema.Count, inputSchema.Count);
            var freshData = c.Data(fresh);
            c.Check(loaded.Transform(freshData), Engine.OnnxRuntime);
            Assert.IsInstanceOfType<PipelineTransformer>(((TransformerChain<ITransformer>)loaded).First());
            (((TransformerChain<ITransformer>)loaded).First() as IDisposable)?.Dispose();
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            File.Delete(zip);
        }
    }

    [TestMethod]
    public void ZipHoldsConfigTokenizerAndTheEnginesWeightsOnly()
    {
        var zip = TempZip();
        try
        {
            var ml = new MLContext();
            var data = TextData(ml);
            using var model = ml.Transforms.TextClassification(new TextClassificationEstimator.Options
                { ModelFolder = Pipelines.PipelineFixtures.Model("bert-seqcls"), Engine = Engine.OnnxRuntime }).Fit(data);
            ml.Model.Save(model, data.Schema, zip);
            using var archive = ZipFile.OpenRead(zip);
            var names = archive.Entries.Select(e => e.FullName).ToList();
            var key = names.Single(n => n.EndsWith("Model.key", StringComparison.Ordinal));
            var files = names.Where(n => n.StartsWith(Path.GetDirectoryName(key)!.Replace('\\', '/') + "/File", StringComparison.Ordinal)).ToList();
            // config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json, onnx/model.onnx; no safetensors
            Assert.AreEqual(5, files.Count, string.Join(", ", names));
            long onnxBytes = new FileInfo(Path.Combine(Pipelines.PipelineFixtures.Model("bert-seqcls"), "onnx", "model.onnx")).Length;
            Assert.IsTrue(archive.Entries.Any(e => e.Length == onnxBytes), "the ONNX file is inside the zip");
        }
        finally { File.Delete(zip); }
    }

    [TestMethod]
    public void LoadedTransformerSavesAgain()
    {
        string zip1 = TempZip(), zip2 = TempZip();
        try
        {
            var ml = new MLContext();
            var data = TextData(ml);
            using (var model = ml.Transforms.FeatureExtraction(Pipelines.PipelineFixtures.Model("roberta-base")).Fit(data))
                ml.Model.Save(model, data.Schema, zip1);
            var loaded = ml.Model.Load(zip1, out var schema);
            var first = loaded.Transform(data).GetColumn<float[]>("Features").ToList();
            ml.Model.Save(loaded, schema, zip2);
            (loaded as IDisposable)?.Dispose();
            var again = new MLContext().Model.Load(zip2, out _);
            var second = again.Transform(data).GetColumn<float[]>("Features").ToList();
            for (int i = 0; i < first.Count; i++) AssertClose(first[i], second[i], $"row {i}");
            (again as IDisposable)?.Dispose();
        }
        finally
        {
            File.Delete(zip1);
            File.Delete(zip2);
        }
    }

    [TestMethod]
    public void LoadedTransformerKeepsItsOptions()
    {
        var zip = TempZip();
        try
        {
            var ml = new MLContext();
            var data = TextData(ml);
            var options = new TokenClassificationEstimator.Options
            {
                ModelFolder = Pipelines.PipelineFixtures.Model("bert-tokcls-bio"), AggregationStrategy = Microsoft.ML.Transformers.Pipelines.AggregationStrategy.Max,
                IgnoreLabels = ["O", "B-LOC"], BatchSize = 2, Truncation = true, EntityColumnName = "Ent",
            };
            using (var model = ml.Transforms.TokenClassification(options).Fit(data))
                ml.Model.Save(model, data.Schema, zip);
            var loaded = (TokenClassificationTransformer)ml.Model.Load(zip, out _);
            var o = (TokenClassificationEstimator.Options)loaded.BaseOptions;
            Assert.AreEqual(Microsoft.ML.Transformers.Pipelines.AggregationStrategy.Max, o.AggregationStrategy);
            CollectionAssert.AreEqual(new[] { "O", "B-LOC" }, o.IgnoreLabels);
            Assert.AreEqual(2, o.BatchSize);
            Assert.AreEqual("Ent", o.EntityColumnName);
            Assert.AreEqual(Engine.LibTorch, o.Engine, "the engine the folder chose (safetensors present) is recorded");
            Assert.IsTrue(loaded.Transform(data).Schema.GetColumnOrNull("Ent").HasValue);
            var folder = loaded.ModelFolder;
            Assert.IsTrue(Directory.Exists(folder));
            loaded.Dispose();
            Assert.IsFalse(Directory.Exists(folder), "the extracted model files are removed with the transformer");
        }
        finally { File.Delete(zip); }
    }
}

/// <summary>
/// The persistence route depends on ML.NET internals (MLNet/MLNetPersistence.cs). These fail loudly, naming what to check,
/// when the ML.NET in use is not the one the route was written against, or when its loader registration no longer finds us.
/// </summary>
[TestClass]
public class MLNetPersistenceContractTests
{
    [TestMethod]
    public void RuntimeMLNetIsThePinnedVersion()
    {
        var runtime = MLNetPersistence.RuntimeMLNetVersion;
        Assert.IsTrue(runtime == MLNetPersistence.PinnedMLNetVersion || runtime.StartsWith(MLNetPersistence.PinnedMLNetVersion + "+", StringComparison.Ordinal),
            $"Microsoft.ML {runtime} is loaded, but model.zip persistence (src/Microsoft.ML.Transformers.Pipelines/MLNet/MLNetPersistence.cs) " +
            $"uses ML.NET {MLNetPersistence.PinnedMLNetVersion} internals (listed in MLNetInternals.targets). Check them against the new " +
            "version's ModelSaveContext, ModelLoadContext, VersionInfo, LoadableClassAttribute and SchemaShape, run these tests, then update PinnedMLNetVersion.");
    }

    [TestMethod]
    public void FreshContextFindsTheLoaderThroughTheZipHeaderAlone()
    {
        var zip = TempZip();
        try
        {
            var ml = new MLContext();
            var data = TextData(ml);
            using (var model = ml.Transforms.TextClassification(Pipelines.PipelineFixtures.Model("bert-seqcls")).Fit(data))
                ml.Model.Save(model, data.Schema, zip);
            // nothing registered by hand: ML.NET reads our assembly's name from the header and finds [LoadableClass] in it
            var loaded = new MLContext().Model.Load(zip, out _);
            Assert.IsInstanceOfType<TextClassificationTransformer>(loaded);
            ((IDisposable)loaded).Dispose();
        }
        finally { File.Delete(zip); }
    }

    [TestMethod]
    public void SavesToAndLoadsFromAStream()
    {
        var ml = new MLContext();
        var data = TextData(ml);
        using var model = ml.Transforms.TextClassification(Pipelines.PipelineFixtures.Model("bert-seqcls")).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);   // a zip written to a stream is still a repository
        stream.Position = 0;
        var loaded = new MLContext().Model.Load(stream, out _);
        Assert.IsInstanceOfType<TextClassificationTransformer>(loaded);
        ((IDisposable)loaded).Dispose();
    }
}
