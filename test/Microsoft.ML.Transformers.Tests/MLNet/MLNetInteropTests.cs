using Microsoft.ML.Data;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Tests.Pipelines;
using static Microsoft.ML.Transformers.Tests.MLNet.MLNetFixtures;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>Our transforms inside ordinary ML.NET work: a TSV read by LoadFromTextFile, embeddings training an ML.NET
/// trainer, classification output evaluated by ML.NET's evaluator (checked against the columns themselves).</summary>
[TestClass]
public class MLNetInteropTests
{
    private sealed class LabelOnly
    {
        public string Label { get; set; } = "";
    }

    private static IDataView LoadTsv(MLContext ml) =>
        ml.Data.LoadFromTextFile<LabelledRow>(TsvPath, separatorChar: '\t', hasHeader: true);

    [TestMethod]
    public void TextClassificationOutputIsEvaluatedDirectly()
    {
        var ml = new MLContext(seed: 1);
        var data = LoadTsv(ml);
        var classifier = ml.Transforms.TextClassification(PipelineFixtures.Model("bert-seqcls"));
        using var probe = classifier.Fit(data);
        // the label keys in the model's class order, so key k means the model's class k-1
        var labels = ml.Data.LoadFromEnumerable(probe.Labels.Select(l => new LabelOnly { Label = l }));
        var model = ml.Transforms.Conversion.MapValueToKey("Label", keyData: labels).Append(classifier).Fit(data);
        var scored = model.Transform(data);
        var metrics = ml.MulticlassClassification.Evaluate(scored);

        var truth = scored.GetColumn<uint>("Label").ToArray();
        var predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        Assert.AreEqual(40, truth.Length);
        double accuracy = truth.Zip(predicted).Count(p => p.First == p.Second) / (double)truth.Length;
        Assert.AreEqual(accuracy, metrics.MicroAccuracy, 1e-9);
        double logLoss = truth.Select((t, i) => -Math.Log(Math.Max(scores[i][t - 1], 1e-15))).Average();
        Assert.AreEqual(logLoss, metrics.LogLoss, 1e-4);
        Assert.AreEqual(3, metrics.ConfusionMatrix.NumberOfClasses);
        foreach (var t in model) (t as IDisposable)?.Dispose();
    }

    [TestMethod]
    public void EmbeddingsTrainAnMLNetTrainer()
    {
        var ml = new MLContext(seed: 1);
        var data = LoadTsv(ml);
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.25, seed: 1);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.FeatureExtraction(PipelineFixtures.Model("bert-base"), normalize: true))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(maximumNumberOfIterations: 20))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(split.TrainSet);
        var scored = model.Transform(split.TestSet);
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.IsTrue(metrics.MicroAccuracy is >= 0 and <= 1);
        Assert.IsTrue(double.IsFinite(metrics.LogLoss));
        var predicted = scored.GetColumn<string>("PredictedLabel").ToArray();
        Assert.IsTrue(predicted.Length > 0 && predicted.All(p => p.StartsWith("LABEL_", StringComparison.Ordinal)));

        // the whole chain, trainer included, round trips through model.zip
        var zip = TempZip();
        try
        {
            ml.Model.Save(model, data.Schema, zip);
            var loaded = new MLContext().Model.Load(zip, out _);
            CollectionAssert.AreEqual(predicted, loaded.Transform(split.TestSet).GetColumn<string>("PredictedLabel").ToArray());
            foreach (var t in (TransformerChain<ITransformer>)loaded) (t as IDisposable)?.Dispose();
        }
        finally { File.Delete(zip); }
        foreach (var t in model) (t as IDisposable)?.Dispose();
    }
}
