using Microsoft.ML.Data;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Tests.Pipelines;
using Microsoft.ML.Transformers.Tests.Training;
using Microsoft.ML.Transformers.Training;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>
/// mlContext.Regression.Trainers.FineTuneTextRegression and mlContext.Transforms.TextRegression through ML.NET's public API:
/// a TSV with a Single label read by TextLoader, Fit, Regression.Evaluate, Model.Save/Load, PredictionEngine. The toy task
/// (test/fixtures/mlnet/finetune-regression-toy.tsv, made by scripts/make_finetune_regression_toy.py) gives each row the
/// strength of its one sentiment word.
/// </summary>
[TestClass]
public class MLNetFineTuneRegressionTests
{
    public sealed class Row
    {
        [LoadColumn(0)] public float Label { get; set; }
        [LoadColumn(1)] public string Text { get; set; } = "";
    }

    public sealed class Prediction
    {
        public float Score { get; set; }
    }

    private sealed class CountingCallback : TrainerCallback
    {
        public int Steps, Evaluations, TrainBegins;
        public override void OnTrainBegin(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => TrainBegins++;
        public override void OnStepEnd(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Steps++;
        public override void OnEvaluate(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Evaluations++;
    }

    private static string ToyPath => TestPaths.Fixture("mlnet", "finetune-regression-toy.tsv");

    [TestMethod]
    public void FitLearnsEvaluatesSavesLoadsAndPredicts()
    {
        var output = TrainingFixtures.TempDir("mlnet-finetune-regression");
        var zip = Path.Combine(output, "..", $"model-{Guid.NewGuid():N}.zip");
        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        ml.Log += (_, e) => { if (e.Source.Contains(nameof(FineTuneTextRegressionTrainer), StringComparison.Ordinal)) lock (log) log.Add(e.RawMessage); };
        var all = ml.Data.LoadFromTextFile<Row>(ToyPath, separatorChar: '\t', hasHeader: true);
        var split = ml.Data.TrainTestSplit(all, testFraction: 0.2, seed: 3);
        var counting = new CountingCallback();
        // a 3-class checkpoint: its head is replaced by a one-output regression head
        var trainer = ml.Regression.Trainers.FineTuneTextRegression(new FineTuneTextRegressionTrainer.Options
        {
            ModelFolder = PipelineFixtures.Model("bert-seqcls"),
            ValidationSet = split.TestSet,
            Callbacks = [counting],
            TrainingArguments = new TrainingArguments
            {
                OutputDir = output, NumTrainEpochs = 20, LearningRate = 2e-3, PerDeviceTrainBatchSize = 16, WarmupRatio = 0.1,
                EvalStrategy = IntervalStrategy.Epoch, SaveStrategy = IntervalStrategy.No, LoggingSteps = 50, ReportTo = ["none"], DisableTqdm = true,
            },
        });
        try
        {
            var model = trainer.Fit(split.TrainSet);

            // learning: held-out R² well above 0 (predicting the mean), as ML.NET's evaluator and the Trainer's mse both say
            var labels = ml.Data.CreateEnumerable<Row>(split.TestSet, reuseRowObject: false).Select(r => (double)r.Label).ToList();
            double variance = labels.Select(l => (l - labels.Average()) * (l - labels.Average())).Average();
            var metrics = ml.Regression.Evaluate(model.Transform(split.TestSet));
            Assert.IsGreaterThan(0.7, metrics.RSquared, $"R² {metrics.RSquared}, RMSE {metrics.RootMeanSquaredError}");
            Assert.AreEqual(metrics.MeanSquaredError, trainer.ValidationMetrics!["eval_mse"], 1e-4, "ML.NET's MSE and the Trainer's agree");
            Assert.IsLessThan(0.3 * variance, metrics.MeanSquaredError);

            // the user's callbacks fired; progress reached mlContext.Log
            Assert.AreEqual(1, counting.TrainBegins);
            Assert.AreEqual(trainer.TrainOutput!.GlobalStep, counting.Steps);
            Assert.IsGreaterThanOrEqualTo(20, counting.Evaluations);
            Assert.IsTrue(log.Any(m => m.Contains("loss=", StringComparison.Ordinal)), string.Join("\n", log));
            Assert.IsTrue(log.Any(m => m.Contains("Newly initialized", StringComparison.Ordinal) && m.Contains("classifier", StringComparison.Ordinal)), string.Join("\n", log));

            // the fine-tuned folder is a one-output regression head
            var config = Microsoft.ML.Transformers.Configuration.AutoConfig.FromPretrained(output);
            Assert.AreEqual(1, config.NumLabels);
            Assert.AreEqual("regression", config.ProblemType);

            // Score is the model's raw output (no sigmoid): the text-classification pipeline with function_to_apply none
            var predictions = ml.Data.CreateEnumerable<Prediction>(model.Transform(split.TestSet), reuseRowObject: false).ToList();
            var texts = ml.Data.CreateEnumerable<Row>(split.TestSet, reuseRowObject: false).Select(r => r.Text).ToList();
            using (var direct = global::Microsoft.ML.Transformers.Pipelines.Pipelines.Create<TextClassificationPipeline>("text-classification", output))
            {
                var raw = direct.RunBatch(texts.Select(t => new TextInput(t)).ToList(), new TextClassificationOptions { FunctionToApply = ClassificationFunction.None });
                for (int i = 0; i < texts.Count; i++) Assert.AreEqual(raw[i][0].Score, predictions[i].Score, 1e-5, texts[i]);
            }
            Assert.IsTrue(predictions.Any(p => p.Score < 0) && predictions.Any(p => p.Score > 0.5), "not squashed into (0, 1)");

            // PredictionEngine on new sentences
            var engine = ml.Model.CreatePredictionEngine<Row, Prediction>(model);
            float love = engine.Predict(new Row { Text = "they love this one" }).Score, hate = engine.Predict(new Row { Text = "they hate this one" }).Score;
            Assert.IsGreaterThan(0.5f, love);
            Assert.IsLessThan(-0.5f, hate);

            // save / load: same scores without the training folder
            ml.Model.Save(model, split.TrainSet.Schema, zip);
            model.Dispose();
            Directory.Delete(output, recursive: true);
            var fresh = new MLContext(seed: 2);
            var loaded = fresh.Model.Load(zip, out _);
            var after = fresh.Data.CreateEnumerable<Prediction>(loaded.Transform(split.TestSet), reuseRowObject: false).ToList();
            Assert.AreEqual(predictions.Count, after.Count);
            for (int i = 0; i < after.Count; i++) Assert.AreEqual(predictions[i].Score, after[i].Score, 1e-6f);
            Assert.AreEqual(metrics.RSquared, fresh.Regression.Evaluate(loaded.Transform(split.TestSet)).RSquared, 1e-6);
            (loaded as IDisposable)?.Dispose();
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
            File.Delete(zip);
        }
    }

    [TestMethod]
    public void LabelMustBeSingle()
    {
        var ml = new MLContext();
        var data = ml.Data.LoadFromTextFile<MLNetFixtures.LabelledRow>(TestPaths.Fixture("mlnet", "finetune-toy.tsv"), separatorChar: '\t', hasHeader: true);
        var trainer = ml.Regression.Trainers.FineTuneTextRegression(PipelineFixtures.Model("bert-seqcls"), TrainingFixtures.TempDir("mlnet-finetune-regression-nolabel"));
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.Fit(data));
        StringAssert.Contains(e.Message, "'Label'");
        StringAssert.Contains(e.Message, "expected Single");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(MLNetPersistence.ShapeOf(data.Schema)));
    }

    [TestMethod]
    public void TextRegressionNeedsOneOutput()
    {
        var ml = new MLContext();
        var e = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.TextRegression(PipelineFixtures.Model("bert-seqcls")));
        StringAssert.Contains(e.Message, "num_labels 3");
        StringAssert.Contains(e.Message, "config.json");
    }

    [TestMethod]
    public void TextRegressionScoresAReggressionCheckpoint()
    {
        var ml = new MLContext();
        var data = MLNetFixtures.TextData(ml);
        var estimator = ml.Transforms.TextRegression(PipelineFixtures.Model("bert-seqcls-regression"));
        var shape = estimator.GetOutputSchema(MLNetPersistence.ShapeOf(data.Schema));
        var score = shape.Single(c => c.Name == "Score");
        Assert.AreEqual(NumberDataViewType.Single, score.ItemType);
        Assert.AreEqual(SchemaShape.Column.VectorKind.Scalar, score.Kind);
        using var model = estimator.Fit(data);
        var scores = model.Transform(data).GetColumn<float>("Score").ToArray();
        using var direct = (TextClassificationPipeline)PipelineFixtures.Create("text-classification", "bert-seqcls-regression", Modeling.Engine.LibTorch);
        var raw = direct.RunBatch(MLNetFixtures.Texts.Select(t => new TextInput(t)).ToList(), new TextClassificationOptions { FunctionToApply = ClassificationFunction.None });
        for (int i = 0; i < scores.Length; i++) Assert.AreEqual(raw[i][0].Score, scores[i], 1e-5, MLNetFixtures.Texts[i]);
    }
}
