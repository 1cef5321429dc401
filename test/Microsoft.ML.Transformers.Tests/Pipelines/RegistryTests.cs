using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;
using Factory = Microsoft.ML.Transformers.Pipelines.Pipelines;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>Aliases, user pipelines created by task name like built-in ones, default folders, and save / load.</summary>
[TestClass]
public class RegistryTests
{
    /// <summary>A user pipeline: the length-normalized sum of the hidden state (any small thing a user might write).</summary>
    private sealed class NormPipeline(PipelineContext c) : Pipeline<string, TextFeatures, NamedTensors, double>(c)
    {
        protected override SanitizedParameters SanitizeParameters(PipelineParameters p) => new(PipelineParameters.Empty, PipelineParameters.Empty, p.Pick("scale"));
        protected override TextFeatures Preprocess(string input, PipelineParameters p) => new(EncodeText(input));
        protected override IReadOnlyList<NamedTensors> Forward(IReadOnlyList<TextFeatures> batch, PipelineParameters p) =>
            RunEncodings(batch.Select(f => f.Encoding).ToList());
        protected override double Postprocess(NamedTensors o, PipelineParameters p) =>
            o["last_hidden_state"].GetData<float>().Average(x => (double)x) * p.GetInt("scale", 1);
    }

    [TestMethod]
    public void AliasesResolveToTheirTasks()
    {
        Assert.AreEqual("text-classification", PipelineRegistry.Get("sentiment-analysis").Name);
        Assert.AreEqual("token-classification", PipelineRegistry.Get("ner").Name);
        using var p = Factory.Create("ner", PipelineFixtures.Model("bert-tokcls"), new PipelineOptions { Engine = Engine.OnnxRuntime });
        Assert.IsInstanceOfType<TokenClassificationPipeline>(p);
        Assert.AreEqual("token-classification", p.Task);
        CollectionAssert.IsSubsetOf(new[] { "feature-extraction", "fill-mask", "question-answering", "text-classification",
            "token-classification", "zero-shot-classification" }, PipelineRegistry.Tasks.ToList());
    }

    [TestMethod]
    public void UserPipelineIsCreatedByTaskNameWithItsDefaultFolder()
    {
        PipelineRegistry.Register("test-mean-hidden", c => new NormPipeline(c), ModelHead.Base, PipelineFixtures.Model("roberta-base"));
        try
        {
            using var p = Factory.Create<NormPipeline>("test-mean-hidden", options: new PipelineOptions { Parameters = new() { ["scale"] = 2 } });
            Assert.AreEqual(Engine.LibTorch, p.Model.Engine);
            double two = p.Run("hello world");
            double one = p.Run("hello world", new PipelineParameters { ["scale"] = 1 });
            Assert.AreEqual(2 * one, two, 1e-12);
            Assert.AreNotEqual(0.0, one);
        }
        finally { PipelineRegistry.Unregister("test-mean-hidden"); }
    }

    [TestMethod]
    [DataRow(Engine.OnnxRuntime)]
    [DataRow(Engine.LibTorch)]
    public void SavedPipelineIsRecreatedFromItsFolderAlone(Engine engine)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"mlt-saved-pipeline-{Guid.NewGuid():N}");
        try
        {
            float[] before;
            using (var p = Create("zero-shot-classification", "roberta-nli", engine,
                new PipelineParameters { ["candidate_labels"] = new[] { "movie", "city" }, ["multi_label"] = true }))
            {
                before = ((ZeroShotClassificationPipeline)p).Run("the movie was good").Scores.Select(s => (float)s).ToArray();
                p.SavePretrained(dir);
            }
            Assert.IsTrue(File.Exists(Path.Combine(dir, "pipeline.json")));
            Assert.IsFalse(Directory.GetDirectories(Path.GetDirectoryName(dir)!, $".{Path.GetFileName(dir)}.tmp-*").Any(), "no temp folder left");
            using var loaded = Factory.Load(dir, new PipelineOptions { Engine = engine });
            var zs = (ZeroShotClassificationPipeline)loaded;
            Assert.AreEqual(dir, zs.ModelFolder);
            Assert.AreEqual("roberta", zs.Model.Config.ModelType);
            var after = zs.Run("the movie was good");   // candidate_labels and multi_label came back from pipeline.json
            Assert.AreEqual(before.Length, after.Scores.Count);
            for (int i = 0; i < before.Length; i++) Close(before[i], after.Scores[i], "scores after reload", 1e-6);
            Assert.ThrowsExactly<IOException>(() => zs.SavePretrained(dir));   // never overwrites a non-empty folder
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}

/// <summary>The typed option records give the same results as the Hugging Face-named parameters.</summary>
[TestClass]
public class TaskOptionsTests
{
    [TestMethod]
    public void TypedOptionsEqualNamedParameters()
    {
        using var tc = (TextClassificationPipeline)Create("text-classification", "bert-seqcls-multi", Engine.OnnxRuntime);
        CollectionAssert.AreEqual(
            tc.Run("good", new PipelineParameters { ["top_k"] = null, ["function_to_apply"] = "softmax" }).ToList(),
            tc.Run("good", new TextClassificationOptions { TopK = TextClassificationOptions.All, FunctionToApply = ClassificationFunction.Softmax }).ToList());
        using var zs = (ZeroShotClassificationPipeline)Create("zero-shot-classification", "distilbert-nli", Engine.OnnxRuntime);
        var a = zs.Run("the movie was good", new ZeroShotClassificationOptions { CandidateLabels = ["movie", "city"], MultiLabel = true, HypothesisTemplate = "about {}" });
        var b = zs.Run("the movie was good", new PipelineParameters { ["candidate_labels"] = new[] { "movie", "city" }, ["multi_label"] = true, ["hypothesis_template"] = "about {}" });
        CollectionAssert.AreEqual(a.Scores.ToList(), b.Scores.ToList());
        using var tok = (TokenClassificationPipeline)Create("token-classification", "bert-tokcls-bio", Engine.OnnxRuntime);
        CollectionAssert.AreEqual(
            tok.Run("hello paris", new PipelineParameters { ["ignore_labels"] = Array.Empty<string>(), ["aggregation_strategy"] = "average" }).ToList(),
            tok.Run("hello paris", new TokenClassificationOptions { IgnoreLabels = [], AggregationStrategy = AggregationStrategy.Average }).ToList());
    }
}
