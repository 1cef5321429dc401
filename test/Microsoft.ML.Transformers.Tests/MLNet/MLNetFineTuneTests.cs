using Microsoft.ML.Data;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Tests.Training;
using Microsoft.ML.Transformers.Training;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>
/// mlContext.MulticlassClassification.Trainers.FineTuneTextClassification through ML.NET's public API only: a TSV read by
/// TextLoader, MapValueToKey for the label, Fit, Evaluate, Model.Save/Load, PredictionEngine. The toy task
/// (test/fixtures/mlnet/finetune-toy.tsv, made by scripts/make_finetune_toy.py) is separable by one class word per row.
/// </summary>
[TestClass]
public class MLNetFineTuneTests
{
    public sealed class Row
    {
        [LoadColumn(0)] public string Label { get; set; } = "";
        [LoadColumn(1)] public string Text { get; set; } = "";
    }

    public sealed class Prediction
    {
        public string PredictedName { get; set; } = "";
        public float[] Score { get; set; } = [];
    }

    private sealed class CountingCallback : TrainerCallback
    {
        public int Steps, Evaluations, TrainBegins;
        public override void OnTrainBegin(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => TrainBegins++;
        public override void OnStepEnd(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Steps++;
        public override void OnEvaluate(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Evaluations++;
    }

    private static string ToyPath => TestPaths.Fixture("mlnet", "finetune-toy.tsv");

    [TestMethod]
    public void FitLearnsEvaluatesSavesLoadsAndPredicts()
    {
        var output = TrainingFixtures.TempDir("mlnet-finetune");
        var zip = Path.Combine(output, "..", $"model-{Guid.NewGuid():N}.zip");
        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        ml.Log += (_, e) => { if (e.Source.Contains(nameof(FineTuneTextClassificationTrainer), StringComparison.Ordinal)) lock (log) log.Add(e.RawMessage); };
        var all = ml.Data.LoadFromTextFile<Row>(ToyPath, separatorChar: '\t', hasHeader: true);
        var split = ml.Data.TrainTestSplit(all, testFraction: 0.2, seed: 3);
        var counting = new CountingCallback();
        // keys by value, so the validation set (mapped apart) and the pipeline's MapValueToKey agree on the order
        var byValue = Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue;
        var keys = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: byValue).Fit(all);
        var trainer = ml.MulticlassClassification.Trainers.FineTuneTextClassification(new FineTuneTextClassificationTrainer.Options
        {
            ModelFolder = Pipelines.PipelineFixtures.Model("bert-seqcls"),
            ValidationSet = keys.Transform(split.TestSet),
            Callbacks = [counting],
            TrainingArguments = new TrainingArguments
            {
                OutputDir = output, NumTrainEpochs = 20, LearningRate = 2e-3, PerDeviceTrainBatchSize = 16, WarmupRatio = 0.1,
                EvalStrategy = IntervalStrategy.Epoch, SaveStrategy = IntervalStrategy.No, LoggingSteps = 50, ReportTo = ["none"], DisableTqdm = true,
            },
        });
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: byValue).Append(trainer).Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"));
        try
        {
            var model = pipeline.Fit(split.TrainSet);

            // learning: held-out accuracy far above chance (1/3); the Trainer's own evaluation says the same
            var metrics = ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
            Assert.IsGreaterThan(0.8, metrics.MacroAccuracy, $"macro accuracy {metrics.MacroAccuracy}, log loss {metrics.LogLoss}");
            Assert.IsGreaterThan(0.8, trainer.ValidationMetrics!["eval_accuracy"]);
            Assert.IsLessThan(Math.Log(3), trainer.TrainOutput!.TrainingLoss, "training loss below the loss of a uniform guess");

            // the user's callbacks fired; progress reached mlContext.Log
            Assert.AreEqual(1, counting.TrainBegins);
            Assert.AreEqual(trainer.TrainOutput.GlobalStep, counting.Steps);
            Assert.IsGreaterThanOrEqualTo(20, counting.Evaluations);
            Assert.IsTrue(log.Any(m => m.Contains("loss=", StringComparison.Ordinal)), string.Join("\n", log));
            Assert.IsTrue(log.Any(m => m.Contains("Saved the fine-tuned model", StringComparison.Ordinal)), string.Join("\n", log));

            // the fine-tuned folder's config names the classes in key order
            var config = Microsoft.ML.Transformers.Configuration.AutoConfig.FromPretrained(output);
            VBuffer<ReadOnlyMemory<char>> keyNames = default;
            keys.GetOutputSchema(all.Schema)["Label"].GetKeyValues(ref keyNames);
            CollectionAssert.AreEqual(keyNames.DenseValues().Select(v => v.ToString()).ToArray(), config.Id2Label.OrderBy(p => p.Key).Select(p => p.Value).ToArray());
            var fitted = model.OfType<TextClassificationTransformer>().Single();
            CollectionAssert.AreEqual(config.Id2Label.OrderBy(p => p.Key).Select(p => p.Value).ToArray(), fitted.Labels.ToArray());

            // PredictionEngine on new sentences
            var engine = ml.Model.CreatePredictionEngine<Row, Prediction>(model);
            Assert.AreEqual("negative", engine.Predict(new Row { Text = "she was sad and they were not" }).PredictedName);
            Assert.AreEqual("place", engine.Predict(new Row { Text = "his one was paris" }).PredictedName);

            // save / load: same scores without the training folder's checkpoints
            ml.Model.Save(model, split.TrainSet.Schema, zip);
            var before = ml.Data.CreateEnumerable<Prediction>(model.Transform(split.TestSet), reuseRowObject: false).ToList();
            foreach (var t in model) (t as IDisposable)?.Dispose();
            Directory.Delete(output, recursive: true);
            var fresh = new MLContext(seed: 2);
            var loaded = fresh.Model.Load(zip, out _);
            var after = fresh.Data.CreateEnumerable<Prediction>(loaded.Transform(fresh.Data.LoadFromTextFile<Row>(ToyPath, separatorChar: '\t', hasHeader: true)), reuseRowObject: false).ToList();
            var afterTest = fresh.Data.CreateEnumerable<Prediction>(loaded.Transform(split.TestSet), reuseRowObject: false).ToList();
            Assert.AreEqual(before.Count, afterTest.Count);
            for (int i = 0; i < before.Count; i++)
            {
                Assert.AreEqual(before[i].PredictedName, afterTest[i].PredictedName);
                for (int j = 0; j < before[i].Score.Length; j++) Assert.AreEqual(before[i].Score[j], afterTest[i].Score[j], 1e-5f);
            }
            Assert.AreEqual(240, after.Count);
            foreach (var t in (TransformerChain<ITransformer>)loaded) (t as IDisposable)?.Dispose();
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
            File.Delete(zip);
        }
    }

    [TestMethod]
    public void LabelMustBeAKey()
    {
        var ml = new MLContext();
        var data = ml.Data.LoadFromTextFile<Row>(ToyPath, separatorChar: '\t', hasHeader: true);
        var trainer = ml.MulticlassClassification.Trainers.FineTuneTextClassification(Pipelines.PipelineFixtures.Model("bert-seqcls"), TrainingFixtures.TempDir("mlnet-finetune-nokey"));
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.Fit(data));
        StringAssert.Contains(e.Message, "MapValueToKey");
        StringAssert.Contains(e.Message, "'Label'");
    }
}
