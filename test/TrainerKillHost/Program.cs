using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Training;

// Usage: TrainerKillHost <model folder> <output dir>. Prints "saving <step>" when a checkpoint save starts and
// "saved <step>" after it, so the parent can kill the process in the middle of a save.
var model = AutoModelForSequenceClassification.FromPretrained(args[0]);
var rng = new Random(1);
var data = Enumerable.Range(0, 64).Select(_ => new TrainingExample
{
    InputIds = Enumerable.Range(0, rng.Next(3, 12)).Select(_ => (long)rng.Next(5, 200)).ToArray(),
    Label = rng.Next(3),
}).ToList();
var trainer = new Trainer(model, new TrainingArguments
{
    OutputDir = args[1], PerDeviceTrainBatchSize = 2, MaxSteps = 100000, SaveStrategy = IntervalStrategy.Steps, SaveSteps = 1,
    SaveTotalLimit = 3, LoggingStrategy = IntervalStrategy.No, DisableTqdm = true,
}, data, callbacks: [new Announce()]);
trainer.Train(Trainer.GetLastCheckpoint(args[1]));

sealed class Announce : TrainerCallback
{
    public override void OnStepEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        if (control.ShouldSave) Console.WriteLine($"saving {state.GlobalStep}");
    }

    public override void OnSave(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) => Console.WriteLine($"saved {state.GlobalStep}");
}
