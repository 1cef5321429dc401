using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.Transformers.Engines;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Training;

// Training throughput of the Trainer on the checkpoint bench_torch_train.py --save wrote (BERT 4 x 256, batch 16 x 128):
//   dotnet TrainerBench.dll --model DIR [--threads 2] [--steps 20] [--warmup 3]
// Prints {"steps_per_s", "peak_rss_mb"}; the warmup steps are excluded from the rate (timed from on_step_end).
string model = "", threads = "2";
int steps = 20, warmup = 3;
for (int i = 0; i < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--model": model = args[i + 1]; break;
        case "--threads": threads = args[i + 1]; break;
        case "--steps": steps = int.Parse(args[i + 1]); break;
        case "--warmup": warmup = int.Parse(args[i + 1]); break;
    }
}
TorchSharpRuntime.EnsureLoaded();
TorchSharp.torch.set_num_threads(int.Parse(threads));
using var m = AutoModelForSequenceClassification.FromPretrained(model);
var rng = new Random(1);
var data = Enumerable.Range(0, 16 * (steps + warmup)).Select(_ => new TrainingExample
{
    InputIds = Enumerable.Range(0, 128).Select(_ => (long)rng.Next(5, 30522)).ToArray(),
    Label = rng.Next(3),
}).ToList();
var timer = new Timer(warmup);
var trainer = new Trainer(m, new TrainingArguments
{
    OutputDir = Path.Combine(Path.GetTempPath(), "trainer-bench"), PerDeviceTrainBatchSize = 16, NumTrainEpochs = 1, WeightDecay = 0.01,
    SaveStrategy = IntervalStrategy.No, LoggingStrategy = IntervalStrategy.No, DisableTqdm = true,
}, data, callbacks: [timer]);
trainer.Train();
double rate = steps / timer.Clock.Elapsed.TotalSeconds;
Console.WriteLine(JsonSerializer.Serialize(new { impl = "ours", steps_per_s = Math.Round(rate, 3), peak_rss_mb = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 1) }));

sealed class Timer(int warmup) : TrainerCallback
{
    public Stopwatch Clock { get; } = new();
    public override void OnStepEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        if (state.GlobalStep == warmup) Clock.Restart();
    }
}
