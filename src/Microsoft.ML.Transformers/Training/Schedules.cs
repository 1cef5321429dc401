namespace Microsoft.ML.Transformers.Training;

/// <summary>
/// The learning-rate multipliers of transformers' optimization.py (get_scheduler), as functions of the step for a
/// LambdaLR: lr = base_lr * factor(step).
/// </summary>
public static class Schedules
{
    public static Func<int, double> Get(SchedulerType type, int warmupSteps, int trainingSteps, double baseLr, double numCycles = double.NaN, double lrEnd = 1e-7, double power = 1.0)
    {
        double Warm(int step) => (double)step / Math.Max(1, warmupSteps);
        return type switch
        {
            SchedulerType.Constant => _ => 1.0,
            SchedulerType.ConstantWithWarmup => step => step < warmupSteps ? Warm(step) : 1.0,
            SchedulerType.Linear => step => step < warmupSteps ? Warm(step)
                : Math.Max(0.0, (double)(trainingSteps - step) / Math.Max(1, trainingSteps - warmupSteps)),
            SchedulerType.Cosine => step =>
            {
                if (step < warmupSteps) return Warm(step);
                double cycles = double.IsNaN(numCycles) ? 0.5 : numCycles;
                double progress = (double)(step - warmupSteps) / Math.Max(1, trainingSteps - warmupSteps);
                return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * cycles * 2.0 * progress)));
            },
            SchedulerType.CosineWithRestarts => step =>
            {
                if (step < warmupSteps) return Warm(step);
                double cycles = double.IsNaN(numCycles) ? 1 : numCycles;
                double progress = (double)(step - warmupSteps) / Math.Max(1, trainingSteps - warmupSteps);
                if (progress >= 1.0) return 0.0;
                return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * ((cycles * progress) % 1.0))));
            },
            SchedulerType.Polynomial => step =>
            {
                if (!(baseLr > lrEnd)) throw new ArgumentException($"lr_end ({lrEnd}) must be smaller than initial lr ({baseLr}).");
                if (step < warmupSteps) return Warm(step);
                if (step > trainingSteps) return lrEnd / baseLr;
                double range = baseLr - lrEnd;
                double decaySteps = trainingSteps - warmupSteps;
                double remaining = 1 - (step - warmupSteps) / decaySteps;
                return (range * Math.Pow(remaining, power) + lrEnd) / baseLr;
            },
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
        };
    }

    /// <summary>TrainingArguments.get_warmup_steps: warmup_steps if set, else ceil(total * warmup_ratio).</summary>
    public static int WarmupSteps(TrainingArguments args, int trainingSteps) =>
        args.WarmupSteps > 0 ? args.WarmupSteps : (int)Math.Ceiling(trainingSteps * args.WarmupRatio);
}
