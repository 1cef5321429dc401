using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Training;

namespace Microsoft.ML.Transformers.Tests.Training;

/// <summary>trainer_state.json, checkpoints, rotation, resume, TensorBoard files and JSONL logs.</summary>
[TestClass]
public class TrainerOutputTests
{
    // transformers 4.52 TrainerState fields (trainer_callback.py), which dataclasses.asdict writes as the top-level keys.
    private static readonly string[] HuggingFaceStateKeys =
    [
        "epoch", "global_step", "max_steps", "logging_steps", "eval_steps", "save_steps", "train_batch_size", "num_train_epochs",
        "num_input_tokens_seen", "total_flos", "log_history", "best_metric", "best_global_step", "best_model_checkpoint",
        "is_local_process_zero", "is_world_process_zero", "is_hyper_param_search", "trial_name", "trial_params", "stateful_callbacks",
    ];

    private static (Trainer trainer, RecordingCallback recorder, Modeling.PreTrainedModel model) Make(TrainingArguments args, int n = 12, params TrainerCallback[] extra)
    {
        var model = TrainingFixtures.Load("bert-seqcls");
        var recorder = new RecordingCallback();
        var trainer = new Trainer(model, args, TrainingFixtures.Synthetic(n), args.EvalStrategy == IntervalStrategy.No ? null : TrainingFixtures.Synthetic(5, seed: 3),
            computeMetrics: p => new Dictionary<string, double> { ["accuracy"] = p.Predictions.ArgMaxLast().Zip(p.LabelIds!.Data).Average(x => x.First == (long)x.Second ? 1.0 : 0.0) },
            callbacks: [recorder, .. extra]);
        TrainingFixtures.Silence(trainer);
        return (trainer, recorder, model);
    }

    [TestMethod]
    public void TrainerStateJsonHasHuggingFacesKeysAndRoundTrips()
    {
        var dir = TrainingFixtures.TempDir("state");
        var args = TrainingFixtures.QuietArgs(dir) with
        {
            PerDeviceTrainBatchSize = 4, NumTrainEpochs = 2, LoggingSteps = 1, EvalStrategy = IntervalStrategy.Epoch,
            SaveStrategy = IntervalStrategy.Epoch, LoadBestModelAtEnd = true, MetricForBestModel = "accuracy",
        };
        var (trainer, _, model) = Make(args, 12, new EarlyStoppingCallback(3));
        using var _ = model;
        trainer.Train();
        var path = Path.Combine(dir, "checkpoint-6", TrainerState.FileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        CollectionAssert.AreEquivalent(HuggingFaceStateKeys, json.Select(kv => kv.Key).ToArray());
        CollectionAssert.AreEqual(json.Select(kv => kv.Key).Order(StringComparer.Ordinal).ToArray(), json.Select(kv => kv.Key).ToArray(), "sort_keys=True");
        Assert.AreEqual(6, json["global_step"]!.GetValue<int>());
        Assert.AreEqual(2.0, json["epoch"]!.GetValue<double>());
        var logs = json["log_history"]!.AsArray();
        Assert.IsTrue(logs.Any(l => l!["loss"] is not null && l["grad_norm"] is not null && l["learning_rate"] is not null && l["step"] is not null));
        Assert.IsTrue(logs.Any(l => l!["eval_loss"] is not null && l["eval_accuracy"] is not null && l["eval_runtime"] is not null));
        var stateful = json["stateful_callbacks"]!.AsObject();
        Assert.IsNotNull(stateful["TrainerControl"]!["args"]!["should_training_stop"]);
        Assert.AreEqual(3, stateful["EarlyStoppingCallback"]!["args"]!["early_stopping_patience"]!.GetValue<int>());
        Assert.IsNotNull(json["best_model_checkpoint"]?.GetValue<string>());

        var loaded = TrainerState.LoadFromJson(path);
        Assert.AreEqual(File.ReadAllText(path), loaded.ToJsonString(), "load -> save writes the same file");
        foreach (var f in new[] { "config.json", "model.safetensors", Trainer.OptimizerFileName, Trainer.SchedulerFileName, Trainer.RngStateFileName, Trainer.TrainingArgsFileName })
            Assert.IsTrue(File.Exists(Path.Combine(dir, "checkpoint-6", f)), f);
    }

    [TestMethod]
    public void ResumeContinuesExactly()
    {
        // Uninterrupted: 3 epochs of 3 batches, ga 1, a checkpoint every 2 steps.
        var dirA = TrainingFixtures.TempDir("resumeA");
        var args = TrainingFixtures.QuietArgs(dirA) with { PerDeviceTrainBatchSize = 4, NumTrainEpochs = 3, SaveStrategy = IntervalStrategy.Steps, SaveSteps = 2, LearningRate = 1e-3, WarmupSteps = 2 };
        var (full, fullRec, m1) = Make(args);
        using (m1) full.Train();
        Assert.AreEqual(9, fullRec.StepLosses.Count);

        // Fresh model resumed from step 4 (mid-epoch 2): steps 5..9 give the same losses and learning rates.
        var dirB = TrainingFixtures.TempDir("resumeB");
        var (resumed, rec, m2) = Make(args with { OutputDir = dirB });
        using (m2) resumed.Train(Path.Combine(dirA, "checkpoint-4"));
        Assert.AreEqual(5, rec.StepLosses.Count);
        for (int i = 0; i < 5; i++)
        {
            Assert.AreEqual(fullRec.StepLosses[i + 4], rec.StepLosses[i], 1e-6 * Math.Abs(fullRec.StepLosses[i + 4]), $"loss at step {i + 5}");
            Assert.AreEqual(fullRec.LearningRates[i + 4], rec.LearningRates[i], 1e-12, $"lr at step {i + 5}");
        }
        Assert.AreEqual(9, resumed.State.GlobalStep);
        Assert.IsTrue(resumed.State.LogHistory.Count > 0);
    }

    [TestMethod]
    public void SaveTotalLimitKeepsTheBestCheckpoint()
    {
        var dir = TrainingFixtures.TempDir("rotate");
        // lr 0: eval_loss is the same at every evaluation, so the first evaluated checkpoint stays the best.
        var args = TrainingFixtures.QuietArgs(dir) with
        {
            PerDeviceTrainBatchSize = 4, NumTrainEpochs = 2, LearningRate = 0, EvalStrategy = IntervalStrategy.Steps, EvalSteps = 1,
            SaveStrategy = IntervalStrategy.Steps, SaveSteps = 1, SaveTotalLimit = 2, LoadBestModelAtEnd = true, LoggingStrategy = IntervalStrategy.No,
        };
        var (trainer, _, model) = Make(args);
        using var _ = model;
        trainer.Train();
        CollectionAssert.AreEqual(new[] { "checkpoint-1", "checkpoint-6" }, Trainer.SortedCheckpoints(dir).Select(Path.GetFileName).ToArray());
        Assert.AreEqual(Path.Combine(dir, "checkpoint-1"), trainer.State.BestModelCheckpoint);
        Assert.AreEqual(1, trainer.State.BestGlobalStep);
    }

    [TestMethod]
    public void EvaluateAndPredictFireTheirEvents()
    {
        var (trainer, rec, model) = Make(TrainingFixtures.QuietArgs(TrainingFixtures.TempDir("eval")) with { PerDeviceEvalBatchSize = 2 });
        using var _ = model;
        var metrics = trainer.Evaluate(TrainingFixtures.Synthetic(5, seed: 4));
        Assert.IsTrue(metrics.ContainsKey("eval_loss") && metrics.ContainsKey("eval_accuracy") && metrics.ContainsKey("eval_runtime"));
        var pred = trainer.Predict(TrainingFixtures.Synthetic(3, seed: 5));
        CollectionAssert.AreEqual(new long[] { 3, 3 }, pred.Predictions.Shape);
        Assert.IsTrue(pred.Metrics.ContainsKey("test_loss"));
        CollectionAssert.AreEqual(new[] { "on_init_end", "on_prediction_step", "on_prediction_step", "on_prediction_step", "on_log", "on_evaluate",
            "on_prediction_step", "on_prediction_step", "on_predict" }, rec.Events);
    }

    [TestMethod]
    public void TensorBoardFilesReadByAnIndependentReader()
    {
        var dir = TrainingFixtures.TempDir("tb");
        var logDir = Path.Combine(dir, "runs");
        var args = TrainingFixtures.QuietArgs(dir) with
        {
            PerDeviceTrainBatchSize = 4, NumTrainEpochs = 1, LoggingSteps = 1, EvalStrategy = IntervalStrategy.Epoch,
            ReportTo = ["tensorboard", "jsonl"], LoggingDir = logDir,
        };
        var (trainer, _, model) = Make(args);
        using var _ = model;
        trainer.Train();

        var lines = File.ReadAllLines(Path.Combine(dir, "metrics.jsonl"));
        Assert.IsTrue(lines.Length >= 4, string.Join("\n", lines));
        Assert.IsNotNull(JsonNode.Parse(lines[0])!["loss"]);

        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) Assert.Inconclusive("Debian's /usr/bin/python3 is needed to run the reader script.");
        var psi = new ProcessStartInfo(python, [Path.Combine(TestPaths.Fixtures, "scripts", "read_tfevents.py"), logDir]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.AreEqual(0, p.ExitCode, stderr);
        var tb = JsonNode.Parse(stdout)!.AsObject();
        Assert.AreEqual("brain.Event:2", tb["file_version"]?.GetValue<string>());
        var scalars = tb["scalars"]!.AsObject();
        foreach (var tag in new[] { "train/loss", "train/learning_rate", "train/grad_norm", "train/epoch", "eval/loss", "eval/accuracy", "train/train_loss" })
            Assert.IsTrue(scalars.ContainsKey(tag), $"{tag} missing; tags: {string.Join(", ", scalars.Select(kv => kv.Key))}");
        Assert.AreEqual(3, scalars["train/loss"]!.AsArray().Count);
        var firstLoss = scalars["train/loss"]![0]!.AsArray();
        Assert.AreEqual(1, firstLoss[0]!.GetValue<int>());
        Assert.AreEqual(trainer.State.LogHistory[0]["loss"], firstLoss[1]!.GetValue<double>(), 1e-6);
        var texts = tb["texts"]!.AsObject();
        // add_text tags as PyTorch's SummaryWriter does: "{tag}/text_summary".
        Assert.IsTrue(texts.ContainsKey("args/text_summary"), $"texts: {string.Join(", ", texts.Select(kv => kv.Key))}");
        Assert.IsTrue(texts.ContainsKey("model_config/text_summary"));
        StringAssert.Contains(texts["args/text_summary"]![0]!.GetValue<string>(), "\"per_device_train_batch_size\": 4");
    }
}
