using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Training;

namespace Microsoft.ML.Transformers.Tests.Training;

/// <summary>
/// Trainer.HyperparameterSearch on the tiny BERT classifier: each trial in output_dir/run-{trial} with trainer_state.json
/// carrying is_hyper_param_search / trial_name / trial_params (as transformers' Trainer writes them during a search),
/// the best run by direction, the grid order and a seeded random search that repeats.
/// </summary>
[TestClass]
public class HyperparameterSearchTests
{
    private static Trainer NewTrainer(string dir, out Modeling.PreTrainedModel model)
    {
        model = TrainingFixtures.Load("bert-seqcls");
        var args = TrainingFixtures.QuietArgs(dir) with { MaxSteps = 4, PerDeviceTrainBatchSize = 4, SaveStrategy = IntervalStrategy.Steps, SaveSteps = 4 };
        var trainer = new Trainer(model, args, TrainingFixtures.Synthetic(16), TrainingFixtures.Synthetic(6, seed: 3));
        TrainingFixtures.Silence(trainer);
        return trainer;
    }

    [TestMethod]
    public void GridRunsEveryTrialInItsFolderAndReturnsTheBest()
    {
        var dir = TrainingFixtures.TempDir("hp-grid");
        var trainer = NewTrainer(dir, out var model);
        var space = new Dictionary<string, HyperparameterRange>
        {
            ["learning_rate"] = HyperparameterRange.Choice(1e-6, 1e-3, 3e-3),
        };
        var losses = new List<double>();
        var best = trainer.HyperparameterSearch(() => TrainingFixtures.Load("bert-seqcls"), space, nTrials: 3,
            direction: HyperparameterSearchDirection.Minimize, backend: HyperparameterSearchBackend.Grid,
            computeObjective: m => { losses.Add(m["eval_loss"]); return m["eval_loss"]; });

        Assert.HasCount(3, losses);
        Assert.AreEqual(losses.IndexOf(losses.Min()).ToString(), best.RunId);
        Assert.AreEqual(losses.Min(), best.Objective);
        var lrs = new[] { 1e-6, 1e-3, 3e-3 };
        Assert.AreEqual(lrs[int.Parse(best.RunId)], best.Hyperparameters["learning_rate"]!.GetValue<double>());
        for (int t = 0; t < 3; t++)
        {
            var stateFile = Path.Combine(dir, $"run-{t}", "checkpoint-4", TrainerState.FileName);
            var state = JsonNode.Parse(File.ReadAllText(stateFile))!.AsObject();
            Assert.IsTrue(state["is_hyper_param_search"]!.GetValue<bool>());
            Assert.AreEqual(t.ToString(), state["trial_name"]!.GetValue<string>());
            Assert.AreEqual(lrs[t], state["trial_params"]!["learning_rate"]!.GetValue<double>());
            var args = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, $"run-{t}", "checkpoint-4", Trainer.TrainingArgsFileName)))!;
            Assert.AreEqual(lrs[t], args["learning_rate"]!.GetValue<double>());
        }
        // the trainer has its own model and arguments back
        Assert.AreSame(model, trainer.Model);
        Assert.AreEqual(5e-5, trainer.Args.LearningRate);
        model.Dispose();
        Directory.Delete(dir, recursive: true);
    }

    [TestMethod]
    public void RandomDrawsFromRangesWithTheSeed()
    {
        var space = new Dictionary<string, HyperparameterRange>
        {
            ["learning_rate"] = HyperparameterRange.LogUniform(1e-5, 1e-2),
            ["per_device_train_batch_size"] = HyperparameterRange.Choice(2, 4),
            ["warmup_steps"] = HyperparameterRange.IntRange(0, 2),
        };
        BestRun Run(out string dir)
        {
            dir = TrainingFixtures.TempDir("hp-random");
            var trainer = NewTrainer(dir, out var model);
            var best = trainer.HyperparameterSearch(() => TrainingFixtures.Load("bert-seqcls"), space, nTrials: 2,
                direction: HyperparameterSearchDirection.Maximize, seed: 5);
            model.Dispose();
            return best;
        }
        var a = Run(out var dirA);
        var b = Run(out var dirB);
        Assert.AreEqual(a.RunId, b.RunId);
        Assert.AreEqual(a.Objective, b.Objective, 1e-9);
        double lr = a.Hyperparameters["learning_rate"]!.GetValue<double>();
        Assert.IsTrue(lr is >= 1e-5 and <= 1e-2, $"learning_rate {lr}");
        Assert.AreEqual(lr, b.Hyperparameters["learning_rate"]!.GetValue<double>());
        // the objective without accuracy metrics is eval_loss (transformers' default_compute_objective)
        Assert.AreEqual(a.Metrics["eval_loss"], a.Objective);
        Assert.IsTrue(Directory.Exists(Path.Combine(dirA, "run-0")) && Directory.Exists(Path.Combine(dirA, "run-1")));
        Directory.Delete(dirA, recursive: true);
        Directory.Delete(dirB, recursive: true);
    }

    [TestMethod]
    public void UnknownFieldIsNamed()
    {
        var dir = TrainingFixtures.TempDir("hp-unknown");
        var trainer = NewTrainer(dir, out var model);
        var e = Assert.ThrowsExactly<ArgumentException>(() => trainer.HyperparameterSearch(() => TrainingFixtures.Load("bert-seqcls"),
            new Dictionary<string, HyperparameterRange> { ["learnin_rate"] = HyperparameterRange.Uniform(0, 1) }, nTrials: 1));
        StringAssert.Contains(e.Message, "'learnin_rate'");
        StringAssert.Contains(e.Message, "learning_rate");
        model.Dispose();
        Directory.Delete(dir, recursive: true);
    }
}
