using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Training;

namespace Microsoft.ML.Transformers.Tests.Training;

/// <summary>Tiny fixture checkpoints with dropout switched off (as the PyTorch reference), temp folders, recording callbacks.</summary>
internal static class TrainingFixtures
{
    public static string TempDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "mlt-trainer-tests", $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A copy of test/fixtures/models/{caseName} whose config.json has every dropout at 0.</summary>
    public static string NoDropoutCopy(string caseName) => NoDropoutCopyOf(TestPaths.Fixture("models", caseName));

    /// <summary>A copy of the checkpoint folder <paramref name="src"/> whose config.json has every dropout at 0.</summary>
    public static string NoDropoutCopyOf(string src)
    {
        var dst = TempDir(Path.GetFileName(src));
        foreach (var f in Directory.GetFiles(src)) File.Copy(f, Path.Combine(dst, Path.GetFileName(f)));
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(src, "config.json")))!.AsObject();
        foreach (var key in new[] { "hidden_dropout_prob", "attention_probs_dropout_prob", "dropout", "attention_dropout", "seq_classif_dropout" })
            if (cfg.ContainsKey(key)) cfg[key] = 0.0;
        if (cfg.ContainsKey("classifier_dropout")) cfg["classifier_dropout"] = 0.0;
        File.WriteAllText(Path.Combine(dst, "config.json"), cfg.ToJsonString());
        return dst;
    }

    public static PreTrainedModel Load(string caseName) =>
        Models.ModelParityTests.RegistryFor(caseName).FromPretrained(NoDropoutCopy(caseName));

    /// <summary>n examples of lengths 3..10 with labels of <paramref name="numLabels"/> classes (deterministic).</summary>
    public static List<TrainingExample> Synthetic(int n, int numLabels = 3, int vocab = 200, int seed = 7)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ =>
        {
            int len = rng.Next(3, 11);
            return new TrainingExample { InputIds = Enumerable.Range(0, len).Select(_ => (long)rng.Next(5, vocab)).ToArray(), Label = rng.Next(numLabels) };
        }).ToList();
    }

    /// <summary>Arguments that write nothing and print nothing unless a test asks.</summary>
    public static TrainingArguments QuietArgs(string outputDir) => new() { OutputDir = outputDir, ReportTo = ["none"], SaveStrategy = IntervalStrategy.No };

    public static void Silence(Trainer trainer)
    {
        trainer.RemoveCallback(typeof(PrinterCallback));
        trainer.RemoveCallback(typeof(ProgressCallback));
    }
}

/// <summary>Records every event as its Hugging Face name, with the global step where it helps reading failures.</summary>
internal sealed class RecordingCallback : TrainerCallback
{
    public List<string> Events { get; } = [];
    public List<double> StepLosses { get; } = [];
    public List<double> LearningRates { get; } = [];

    private void Add(string name) => Events.Add(name);

    public override void OnInitEnd(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Add("on_init_end");
    public override void OnTrainBegin(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Add("on_train_begin");
    public override void OnTrainEnd(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Add("on_train_end");
    public override void OnEpochBegin(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Add("on_epoch_begin");
    public override void OnEpochEnd(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Add("on_epoch_end");
    public override void OnStepBegin(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Add("on_step_begin");
    public override void OnSubstepEnd(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Add("on_substep_end");
    public override void OnPreOptimizerStep(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Add("on_pre_optimizer_step");
    public override void OnOptimizerStep(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Add("on_optimizer_step");
    public override void OnStepEnd(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e)
    {
        Add("on_step_end");
        StepLosses.Add(e.StepLoss!.Value);
        LearningRates.Add(e.LrScheduler!.get_last_lr().First());
    }
    public override void OnEvaluate(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Add("on_evaluate");
    public override void OnPredict(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Add("on_predict");
    public override void OnSave(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Add("on_save");
    public override void OnLog(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Add("on_log");
    public override void OnPredictionStep(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Add("on_prediction_step");
}
