using Microsoft.ML.Transformers.Training;

namespace Microsoft.ML.Transformers.Tests.Training;

/// <summary>
/// Event sequences of the Trainer against what transformers' Trainer (trainer.py, 4.52) fires for the same arguments.
/// The expectations are written out by hand from these places in trainer.py / trainer_callback.py:
///  - __init__ ends with on_init_end.
///  - _inner_training_loop: on_train_begin; per epoch on_epoch_begin; per batch, when step % gradient_accumulation_steps
///    == 0, on_step_begin; then either (sync step: (step + 1) % ga == 0 or step + 1 == steps_in_epoch)
///    on_pre_optimizer_step, on_optimizer_step, on_step_end, _maybe_log_save_evaluate; or on_substep_end. After the
///    batches: on_epoch_end and _maybe_log_save_evaluate; after the epochs, log(train metrics) -> on_log; on_train_end.
///  - _maybe_log_save_evaluate: should_log -> log -> on_log; should_evaluate -> evaluate: one on_prediction_step per eval
///    batch, log(metrics) -> on_log, on_evaluate; should_save -> _save_checkpoint, on_save.
///  - DefaultFlowCallback.on_step_end: log every logging_steps, evaluate every eval_steps, save every save_steps, and at
///    global_step >= max_steps stop (and save when save_strategy is "steps"); on_epoch_end: the "epoch" strategies.
///  - max_steps = ceil(num_train_epochs * ceil(len(dataloader) / ga)).
/// </summary>
[TestClass]
public class TrainerEventTests
{
    private static readonly string[] Update = ["on_pre_optimizer_step", "on_optimizer_step", "on_step_end"];

    /// <summary>One optimizer step of one batch (ga = 1).</summary>
    private static IEnumerable<string> Step(params string[] after) => ["on_step_begin", .. Update, .. after];

    private static IEnumerable<string> Eval(int batches) => [.. Enumerable.Repeat("on_prediction_step", batches), "on_log", "on_evaluate"];

    private static List<string> Run(TrainingArguments args, int trainCount, int evalCount = 0, params TrainerCallback[] extra)
    {
        using var model = TrainingFixtures.Load("bert-seqcls");
        var recorder = new RecordingCallback();
        var trainer = new Trainer(model, args, TrainingFixtures.Synthetic(trainCount), evalCount > 0 ? TrainingFixtures.Synthetic(evalCount, seed: 9) : null,
            callbacks: [recorder, .. extra]);
        TrainingFixtures.Silence(trainer);
        trainer.Train();
        return recorder.Events;
    }

    private static void AssertSequence(IEnumerable<string> expected, List<string> actual)
    {
        var e = expected.ToList();
        for (int i = 0; i < Math.Min(e.Count, actual.Count); i++)
            Assert.AreEqual(e[i], actual[i], $"event {i}; actual so far: {string.Join(", ", actual.Take(i + 1))}");
        Assert.AreEqual(e.Count, actual.Count, $"event count; actual: {string.Join(", ", actual)}");
    }

    [TestMethod]
    public void EpochsWithLoggingEveryTwoSteps()
    {
        // 6 examples / batch 2 = 3 batches per epoch, 2 epochs -> max_steps 6; logging_steps 2.
        var args = TrainingFixtures.QuietArgs(TrainingFixtures.TempDir("ev1")) with { PerDeviceTrainBatchSize = 2, NumTrainEpochs = 2, LoggingSteps = 2 };
        AssertSequence([
            "on_init_end", "on_train_begin",
            "on_epoch_begin", .. Step(), .. Step("on_log"), .. Step(), "on_epoch_end",
            "on_epoch_begin", .. Step("on_log"), .. Step(), .. Step("on_log"), "on_epoch_end",
            "on_log", "on_train_end"], Run(args, 6));
    }

    [TestMethod]
    public void GradientAccumulationWithShortLastGroup()
    {
        // 10 examples / batch 2 = 5 batches, ga 2 -> groups of 2, 2, 1 batches = 3 steps; max_steps via max_steps=3.
        var args = TrainingFixtures.QuietArgs(TrainingFixtures.TempDir("ev2")) with { PerDeviceTrainBatchSize = 2, GradientAccumulationSteps = 2, MaxSteps = 3 };
        AssertSequence([
            "on_init_end", "on_train_begin", "on_epoch_begin",
            "on_step_begin", "on_substep_end", .. Update,
            "on_step_begin", "on_substep_end", .. Update,
            "on_step_begin", .. Update,
            "on_epoch_end", "on_log", "on_train_end"], Run(args, 10));
    }

    [TestMethod]
    public void MaxStepsAcrossEpochsWithEvalAndSaveSteps()
    {
        // 8 examples / 2 = 4 batches per epoch; max_steps 5 -> 2 epochs, the second stops after its first step.
        // eval every 2 steps (3 eval examples / batch 2 = 2 eval batches), log every 2, save every 4 and at the end.
        var args = TrainingFixtures.QuietArgs(TrainingFixtures.TempDir("ev3")) with
        {
            PerDeviceTrainBatchSize = 2, PerDeviceEvalBatchSize = 2, MaxSteps = 5, LoggingSteps = 2,
            EvalStrategy = IntervalStrategy.Steps, EvalSteps = 2, SaveStrategy = IntervalStrategy.Steps, SaveSteps = 4,
        };
        AssertSequence([
            "on_init_end", "on_train_begin",
            "on_epoch_begin", .. Step(), .. Step(["on_log", .. Eval(2)]), .. Step(), .. Step(["on_log", .. Eval(2), "on_save"]), "on_epoch_end",
            "on_epoch_begin", .. Step("on_save"), "on_epoch_end",
            "on_log", "on_train_end"], Run(args, 8, 3));
    }

    [TestMethod]
    public void PerEpochLoggingEvalAndSave()
    {
        var args = TrainingFixtures.QuietArgs(TrainingFixtures.TempDir("ev4")) with
        {
            PerDeviceTrainBatchSize = 2, PerDeviceEvalBatchSize = 4, NumTrainEpochs = 2,
            LoggingStrategy = IntervalStrategy.Epoch, EvalStrategy = IntervalStrategy.Epoch, SaveStrategy = IntervalStrategy.Epoch,
        };
        IEnumerable<string> epochEnd = ["on_epoch_end", "on_log", .. Eval(1), "on_save"];
        AssertSequence([
            "on_init_end", "on_train_begin",
            "on_epoch_begin", .. Step(), .. Step(), .. epochEnd,
            "on_epoch_begin", .. Step(), .. Step(), .. epochEnd,
            "on_log", "on_train_end"], Run(args, 4, 3));
    }

    [TestMethod]
    public void EarlyStoppingStopsAfterPatienceEvaluationsWithoutImprovement()
    {
        // learning_rate 0: eval_loss never changes. Epoch 1 sets best_metric; epoch 2 is no improvement -> patience 1 is
        // reached in on_evaluate (EarlyStoppingCallback) -> should_training_stop; the loop ends after that epoch's save.
        var args = TrainingFixtures.QuietArgs(TrainingFixtures.TempDir("ev5")) with
        {
            PerDeviceTrainBatchSize = 4, PerDeviceEvalBatchSize = 4, NumTrainEpochs = 5, LearningRate = 0,
            LoggingStrategy = IntervalStrategy.No, EvalStrategy = IntervalStrategy.Epoch, SaveStrategy = IntervalStrategy.Epoch,
            LoadBestModelAtEnd = true, SaveTotalLimit = 1,
        };
        var early = new EarlyStoppingCallback(earlyStoppingPatience: 1);
        IEnumerable<string> epochEnd = ["on_epoch_end", .. Eval(1), "on_save"];
        AssertSequence([
            "on_init_end", "on_train_begin",
            "on_epoch_begin", .. Step(), .. epochEnd,
            "on_epoch_begin", .. Step(), .. epochEnd,
            "on_log", "on_train_end"], Run(args, 4, 3, early));
        Assert.AreEqual(1, early.EarlyStoppingPatienceCounter);
        // save_total_limit 1 keeps only the best checkpoint (step 1), deleting the later one at the end of training.
        CollectionAssert.AreEqual(new[] { "checkpoint-1" }, Trainer.SortedCheckpoints(args.OutputDir).Select(Path.GetFileName).ToArray());
    }

    [TestMethod]
    public void EarlyStoppingPreconditionsFailAsHuggingFace()
    {
        using var model = TrainingFixtures.Load("bert-seqcls");
        var args = TrainingFixtures.QuietArgs(TrainingFixtures.TempDir("ev6")) with { MaxSteps = 1 };
        var trainer = new Trainer(model, args, TrainingFixtures.Synthetic(4), callbacks: [new EarlyStoppingCallback { Warn = null }]);
        TrainingFixtures.Silence(trainer);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => trainer.Train());
        StringAssert.Contains(e.Message, "metric_for_best_model");
    }

    [TestMethod]
    public void ControlFlagsAreResetByTheHandlerAndCallbacksCanStopTraining()
    {
        var stopper = new StopAfter(2);
        using var model = TrainingFixtures.Load("bert-seqcls");
        var trainer = new Trainer(model, TrainingFixtures.QuietArgs(TrainingFixtures.TempDir("ev7")) with { PerDeviceTrainBatchSize = 1 }, TrainingFixtures.Synthetic(5), callbacks: [stopper]);
        TrainingFixtures.Silence(trainer);
        Assert.AreEqual(2, trainer.Train().GlobalStep);
        Assert.IsTrue(stopper.SawResetLogFlag, "on_step_begin sees should_log reset to false");
    }

    private sealed class StopAfter(int steps) : TrainerCallback
    {
        public bool SawResetLogFlag { get; private set; }
        public override void OnStepBegin(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => SawResetLogFlag = !c.ShouldLog;
        public override void OnStepEnd(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e)
        {
            c.ShouldLog = true;
            if (s.GlobalStep >= steps) c.ShouldTrainingStop = true;
        }
    }
}
