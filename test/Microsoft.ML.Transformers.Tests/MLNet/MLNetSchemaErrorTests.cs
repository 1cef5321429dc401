using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Tests.Pipelines;
using static Microsoft.ML.Transformers.Tests.MLNet.MLNetFixtures;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>Schema errors worded as ML.NET's own (column name, expected and found type), at GetOutputSchema, Fit and
/// Transform; a missing or empty model folder at the catalog call.</summary>
[TestClass]
public class MLNetSchemaErrorTests
{
    private sealed class NumberRow
    {
        public float Text { get; set; }
    }

    private sealed class OtherRow
    {
        public string Sentence { get; set; } = "";
    }

    [TestMethod]
    public void MissingInputColumn()
    {
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(new[] { new OtherRow { Sentence = "hi" } });
        var estimator = ml.Transforms.TextClassification(PipelineFixtures.Model("bert-seqcls"));
        const string expected = "Could not find input column 'Text' (TextClassification reads text from it).";
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.Fit(data)).Message, expected);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(MLNetPersistence.ShapeOf(data.Schema))).Message, expected);
        using var model = estimator.Fit(TextData(ml));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Transform(data)).Message, expected);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.GetOutputSchema(data.Schema)).Message, expected);
    }

    [TestMethod]
    public void InputColumnOfTheWrongType()
    {
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(new[] { new NumberRow { Text = 1 } });
        var estimator = ml.Transforms.QuestionAnswering(PipelineFixtures.Model("bert-qa"), questionColumnName: "Text", contextColumnName: "Text");
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.Fit(data));
        StringAssert.Contains(e.Message, "Schema mismatch for input column 'Text': expected String, got Single");
        Assert.AreEqual("inputSchema", e.ParamName);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(MLNetPersistence.ShapeOf(data.Schema))).Message,
            "expected String, got Single");
    }

    [TestMethod]
    public void EmptyOrMissingModelFolder()
    {
        var ml = new MLContext();
        var empty = Directory.CreateTempSubdirectory("mlt-mlnet-empty-").FullName;
        try
        {
            var e = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.FeatureExtraction(empty));
            StringAssert.Contains(e.Message, $"Model folder '{empty}' is empty");
            StringAssert.Contains(e.Message, "config.json");
        }
        finally { Directory.Delete(empty); }
        Assert.ThrowsExactly<DirectoryNotFoundException>(() => ml.Transforms.FillMask("/no/such/folder"));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.TextClassification("")).Message, "No model folder given");
    }

    [TestMethod]
    public void TaskOptionsAreCheckedWhenTheEstimatorIsMade()
    {
        var ml = new MLContext();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.ZeroShotClassification(PipelineFixtures.Model("bert-nli"), [])).Message,
            "CandidateLabels");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.FillMask(PipelineFixtures.Model("bert-mlm"), topK: 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.TextClassification(PipelineFixtures.Model("bert-seqcls"), batchSize: 0));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.TextClassification(new TextClassificationEstimator.Options
            { ModelFolder = PipelineFixtures.Model("bert-seqcls"), ScoreColumnName = "X", PredictedLabelColumnName = "X" })).Message, "'X' is used twice");
    }
}
