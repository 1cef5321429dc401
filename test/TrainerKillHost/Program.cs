using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Training;

// Usage: TrainerKillHost <model folder> <output dir>. Prints "saving <step>" when a checkpoint save starts and
// "saved <step>" after it, so the parent can kill the process in the middle of a save.
// Usage: TrainerKillHost save <model folder> <target> <first round>: prints "ready", then saves the model and its
// tokenizer into <target> over and over, round r marked in both files of each (config.json's save_round and every
// classifier bias value; tokenizer.json's truncation max_length and tokenizer_config.json's save_round), printing
// "saved <r>" after each round, until killed.
if (args[0] == "save")
{
    SaveLoop.Run(args[1], args[2], int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
    return;
}
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

static class SaveLoop
{
    public static void Run(string source, string target, int first)
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(source);
        var tokenizer = Microsoft.ML.Transformers.Tokenizers.AutoTokenizer.FromPretrained(source);
        var bias = model.named_parameters().First(p => p.name == "classifier.bias").parameter;
        Console.WriteLine("ready");
        for (int round = first; ; round++)
        {
            model.Config.Set("save_round", round);
            using (TorchSharp.torch.no_grad()) bias.fill_(round);
            model.SavePretrained(target);
            tokenizer.Truncation = new Microsoft.ML.Transformers.Tokenizers.TruncationOptions(round);
            tokenizer.Config.Raw!["save_round"] = round;
            tokenizer.SavePretrained(target);
            Console.WriteLine($"saved {round}");
        }
    }
}
