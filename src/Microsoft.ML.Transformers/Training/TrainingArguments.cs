using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Microsoft.ML.Transformers.Training;

/// <summary>When logging, evaluation or saving happens (transformers' IntervalStrategy / SaveStrategy).</summary>
public enum IntervalStrategy { No, Steps, Epoch }

/// <summary>transformers' SchedulerType (optimization.py's get_scheduler).</summary>
public enum SchedulerType { Linear, Cosine, CosineWithRestarts, Polynomial, Constant, ConstantWithWarmup }

/// <summary>
/// The arguments of <see cref="Trainer"/>: Hugging Face's TrainingArguments (training_args.py, transformers 4.52) for the
/// options this Trainer implements, with the same snake_case JSON names and defaults. <see cref="Validate"/> applies
/// __post_init__'s defaulting and consistency checks; the Trainer calls it.
/// </summary>
public sealed record TrainingArguments
{
    public string OutputDir { get; init; } = "trainer_output";
    public double NumTrainEpochs { get; init; } = 3.0;
    /// <summary>If &gt; 0, the number of optimizer steps to run; overrides <see cref="NumTrainEpochs"/>.</summary>
    public int MaxSteps { get; init; } = -1;
    public int PerDeviceTrainBatchSize { get; init; } = 8;
    public int PerDeviceEvalBatchSize { get; init; } = 8;
    public int GradientAccumulationSteps { get; init; } = 1;
    public double LearningRate { get; init; } = 5e-5;
    public double WeightDecay { get; init; }
    public double AdamBeta1 { get; init; } = 0.9;
    public double AdamBeta2 { get; init; } = 0.999;
    public double AdamEpsilon { get; init; } = 1e-8;
    /// <summary>Gradient clipping (total L2 norm); 0 disables it.</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    public SchedulerType LrSchedulerType { get; init; } = SchedulerType.Linear;
    public double WarmupRatio { get; init; }
    /// <summary>Overrides <see cref="WarmupRatio"/> when &gt; 0.</summary>
    public int WarmupSteps { get; init; }
    public IntervalStrategy LoggingStrategy { get; init; } = IntervalStrategy.Steps;
    /// <summary>Every N steps; a value below 1 is a fraction of the total steps (as Hugging Face's).</summary>
    public double LoggingSteps { get; init; } = 500;
    public bool LoggingFirstStep { get; init; }
    public IntervalStrategy EvalStrategy { get; init; } = IntervalStrategy.No;
    /// <summary>Defaults to <see cref="LoggingSteps"/>.</summary>
    public double? EvalSteps { get; init; }
    public double EvalDelay { get; init; }
    public IntervalStrategy SaveStrategy { get; init; } = IntervalStrategy.Steps;
    public double SaveSteps { get; init; } = 500;
    public int? SaveTotalLimit { get; init; }
    public bool LoadBestModelAtEnd { get; init; }
    /// <summary>Defaults to "loss" when <see cref="LoadBestModelAtEnd"/> is set.</summary>
    public string? MetricForBestModel { get; init; }
    /// <summary>Defaults to true unless <see cref="MetricForBestModel"/> ends with "loss".</summary>
    public bool? GreaterIsBetter { get; init; }
    public int Seed { get; init; } = 42;
    /// <summary>Seed of the training data order; defaults to <see cref="Seed"/>.</summary>
    public int? DataSeed { get; init; }
    /// <summary>Integrations that get a callback: "all", "none", or names from <see cref="Integrations.Available"/>.
    /// Hugging Face 5's default ("none"): nothing is written unless asked for.</summary>
    public IReadOnlyList<string> ReportTo { get; init; } = ["none"];
    /// <summary>Replace the progress bar by printed log lines.</summary>
    public bool DisableTqdm { get; init; }
    /// <summary>Names of the label inputs; defaults to ["labels"] (["start_positions", "end_positions"] for QA heads).</summary>
    public IReadOnlyList<string>? LabelNames { get; init; }
    public bool DataloaderDropLast { get; init; }
    public string? RunName { get; init; }
    /// <summary>Where TensorBoard logs go; defaults to {output_dir}/runs/{time}_{host}.</summary>
    public string? LoggingDir { get; init; }
    /// <summary>"cpu" (default) or "cuda[:N]".</summary>
    public string? Device { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Hugging Face's to_json_string: every argument by its snake_case name.</summary>
    public string ToJsonString() => JsonSerializer.Serialize(this, Json);

    public JsonObject ToJsonObject() => JsonSerializer.SerializeToNode(this, Json)!.AsObject();

    public static TrainingArguments FromJson(string json) =>
        JsonSerializer.Deserialize<TrainingArguments>(json, Json) ?? throw new JsonException("training arguments JSON is null");

    public static TrainingArguments FromJsonObject(JsonObject json) => FromJson(json.ToJsonString());

    /// <summary>
    /// Fills the defaults that depend on other arguments and rejects inconsistent ones, naming both arguments, as
    /// training_args.py's __post_init__ does. Returns the completed arguments.
    /// </summary>
    public TrainingArguments Validate()
    {
        var a = this;
        if (string.IsNullOrWhiteSpace(a.OutputDir)) throw new ArgumentException("output_dir must be set.");
        if (a.PerDeviceTrainBatchSize < 1) throw new ArgumentException($"per_device_train_batch_size must be >= 1, found {a.PerDeviceTrainBatchSize}.");
        if (a.PerDeviceEvalBatchSize < 1) throw new ArgumentException($"per_device_eval_batch_size must be >= 1, found {a.PerDeviceEvalBatchSize}.");
        if (a.GradientAccumulationSteps < 1) throw new ArgumentException($"gradient_accumulation_steps must be >= 1, found {a.GradientAccumulationSteps}.");
        if (a.MaxSteps <= 0 && a.NumTrainEpochs <= 0) throw new ArgumentException($"Either max_steps ({a.MaxSteps}) or num_train_epochs ({a.NumTrainEpochs}) must be > 0.");
        if (a.WarmupRatio < 0 || a.WarmupRatio > 1) throw new ArgumentException($"warmup_ratio must lie in range [0,1], found {a.WarmupRatio}.");
        if (a.WarmupSteps < 0) throw new ArgumentException($"warmup_steps must be >= 0, found {a.WarmupSteps}.");

        // training_args.py: "evaluation strategy steps requires either non-zero --eval_steps or --logging_steps".
        if (a.EvalStrategy == IntervalStrategy.Steps && (a.EvalSteps is null || a.EvalSteps == 0))
        {
            if (a.LoggingSteps > 0) a = a with { EvalSteps = a.LoggingSteps };
            else throw new ArgumentException($"eval_strategy={Name(a.EvalStrategy)} requires either non-zero eval_steps or logging_steps.");
        }
        if (a.LoggingStrategy == IntervalStrategy.Steps && a.LoggingSteps <= 0)
            throw new ArgumentException($"logging_strategy={Name(a.LoggingStrategy)} requires non-zero logging_steps.");
        foreach (var (name, value, strategy) in new[] { ("logging_steps", (double?)a.LoggingSteps, a.LoggingStrategy), ("eval_steps", a.EvalSteps, a.EvalStrategy), ("save_steps", a.SaveSteps, a.SaveStrategy) })
            if (strategy == IntervalStrategy.Steps && value is > 1 && value != Math.Floor(value.Value))
                throw new ArgumentException($"{name} must be an integer if bigger than 1: {value}.");

        if (a.LoadBestModelAtEnd)
        {
            if (a.EvalStrategy != a.SaveStrategy)
                throw new ArgumentException(
                    "load_best_model_at_end requires the save and eval strategy to match, but found\n" +
                    $"- eval_strategy: {Name(a.EvalStrategy)}\n- save_strategy: {Name(a.SaveStrategy)}");
            if (a.EvalStrategy == IntervalStrategy.Steps && a.SaveSteps % a.EvalSteps!.Value != 0)
                throw new ArgumentException(
                    $"load_best_model_at_end requires save_steps to be a round multiple of eval_steps, but found save_steps={a.SaveSteps}, " +
                    $"which is not a round multiple of eval_steps={a.EvalSteps}.");
            if (a.EvalStrategy == IntervalStrategy.No)
                throw new ArgumentException("load_best_model_at_end requires eval_strategy and save_strategy to be \"steps\" or \"epoch\", found \"no\".");
        }
        if (a.LoadBestModelAtEnd && a.MetricForBestModel is null) a = a with { MetricForBestModel = "loss" };
        if (a.GreaterIsBetter is null && a.MetricForBestModel is { } metric) a = a with { GreaterIsBetter = !metric.EndsWith("loss", StringComparison.Ordinal) };
        if (a.SaveTotalLimit is < 1) throw new ArgumentException($"save_total_limit must be >= 1 or null, found {a.SaveTotalLimit}.");
        Integrations.Resolve(a.ReportTo);
        return a;
    }

    internal static string Name(IntervalStrategy s) => JsonNamingPolicy.SnakeCaseLower.ConvertName(s.ToString());
    internal static string Name(SchedulerType s) => JsonNamingPolicy.SnakeCaseLower.ConvertName(s.ToString());

    internal int TrainSeed => DataSeed ?? Seed;
}
