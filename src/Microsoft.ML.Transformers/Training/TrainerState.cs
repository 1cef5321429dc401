using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Training;

/// <summary>
/// The Trainer's inner state, saved as trainer_state.json in every checkpoint with the keys of transformers 4.52's
/// TrainerState (trainer_callback.py), sorted and indented as its save_to_json writes them. One step is one optimizer
/// update (gradient_accumulation_steps forward/backward passes).
/// </summary>
public sealed class TrainerState
{
    public const string FileName = "trainer_state.json";

    /// <summary>Fractional epoch during training (the decimal part is the share of the current epoch done).</summary>
    public double? Epoch { get; set; }
    public int GlobalStep { get; set; }
    public int MaxSteps { get; set; }
    public int LoggingSteps { get; set; } = 500;
    public int EvalSteps { get; set; } = 500;
    public int SaveSteps { get; set; } = 500;
    public int? TrainBatchSize { get; set; }
    public int NumTrainEpochs { get; set; }
    public long NumInputTokensSeen { get; set; }
    public double TotalFlos { get; set; }
    /// <summary>Every log (training logs, eval metrics, the final train metrics), each with its "step".</summary>
    public List<Dictionary<string, double>> LogHistory { get; set; } = [];
    public double? BestMetric { get; set; }
    public int? BestGlobalStep { get; set; }
    public string? BestModelCheckpoint { get; set; }
    public bool IsLocalProcessZero { get; set; } = true;
    public bool IsWorldProcessZero { get; set; } = true;
    public bool IsHyperParamSearch { get; set; }
    public string? TrialName { get; set; }
    public Dictionary<string, JsonNode?>? TrialParams { get; set; }
    /// <summary>callback class name -> {"args": {...}, "attributes": {...}} of each <see cref="IExportableState"/>.</summary>
    public Dictionary<string, JsonObject> StatefulCallbacks { get; set; } = [];

    /// <summary>The exact top-level keys of transformers' trainer_state.json.</summary>
    public static IReadOnlyList<string> JsonKeys { get; } =
    [
        "best_global_step", "best_metric", "best_model_checkpoint", "epoch", "eval_steps", "global_step", "is_hyper_param_search",
        "is_local_process_zero", "is_world_process_zero", "log_history", "logging_steps", "max_steps", "num_input_tokens_seen",
        "num_train_epochs", "save_steps", "stateful_callbacks", "total_flos", "train_batch_size", "trial_name", "trial_params",
    ];

    // Keys Python writes as ints in log_history (everything else is a float there).
    private static readonly HashSet<string> IntLogKeys = ["step", "num_input_tokens_seen"];

    public JsonObject ToJsonObject()
    {
        var o = new JsonObject
        {
            ["best_global_step"] = BestGlobalStep,
            ["best_metric"] = BestMetric,
            ["best_model_checkpoint"] = BestModelCheckpoint,
            ["epoch"] = Epoch,
            ["eval_steps"] = EvalSteps,
            ["global_step"] = GlobalStep,
            ["is_hyper_param_search"] = IsHyperParamSearch,
            ["is_local_process_zero"] = IsLocalProcessZero,
            ["is_world_process_zero"] = IsWorldProcessZero,
            ["log_history"] = new JsonArray(LogHistory.Select(LogToJson).ToArray<JsonNode?>()),
            ["logging_steps"] = LoggingSteps,
            ["max_steps"] = MaxSteps,
            ["num_input_tokens_seen"] = NumInputTokensSeen,
            ["num_train_epochs"] = NumTrainEpochs,
            ["save_steps"] = SaveSteps,
            ["stateful_callbacks"] = new JsonObject(StatefulCallbacks.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value.DeepClone()))),
            ["total_flos"] = TotalFlos,
            ["train_batch_size"] = TrainBatchSize,
            ["trial_name"] = TrialName,
            ["trial_params"] = TrialParams is null ? null : new JsonObject(TrialParams.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone()))),
        };
        return o;
    }

    private static JsonObject LogToJson(Dictionary<string, double> log)
    {
        var o = new JsonObject();
        foreach (var (k, v) in log.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            o[k] = IntLogKeys.Contains(k) && v == Math.Floor(v) ? JsonValue.Create((long)v) : JsonValue.Create(v);
        return o;
    }

    /// <summary>save_to_json: sorted keys, two-space indent, trailing newline; written atomically.</summary>
    public void SaveToJson(string path) => AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(ToJsonString()));

    public string ToJsonString() =>
        ToJsonObject().ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 2 }) + "\n";

    public static TrainerState LoadFromJson(string path)
    {
        JsonObject o;
        try
        {
            o = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException($"{path} is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
        T? Get<T>(string key) => o.TryGetPropertyValue(key, out var n) && n is not null ? n.GetValue<T>() : default;
        var s = new TrainerState
        {
            Epoch = o["epoch"] is { } ep ? ep.GetValue<double>() : null,
            GlobalStep = Get<int>("global_step"),
            MaxSteps = Get<int>("max_steps"),
            LoggingSteps = Get<int?>("logging_steps") ?? 500,
            EvalSteps = Get<int?>("eval_steps") ?? 500,
            SaveSteps = Get<int?>("save_steps") ?? 500,
            TrainBatchSize = Get<int?>("train_batch_size"),
            NumTrainEpochs = Get<int>("num_train_epochs"),
            NumInputTokensSeen = Get<long>("num_input_tokens_seen"),
            TotalFlos = Get<double>("total_flos"),
            BestMetric = Get<double?>("best_metric"),
            BestGlobalStep = Get<int?>("best_global_step"),
            BestModelCheckpoint = Get<string>("best_model_checkpoint"),
            IsLocalProcessZero = Get<bool?>("is_local_process_zero") ?? true,
            IsWorldProcessZero = Get<bool?>("is_world_process_zero") ?? true,
            IsHyperParamSearch = Get<bool>("is_hyper_param_search"),
            TrialName = Get<string>("trial_name"),
        };
        if (o["log_history"] is JsonArray logs)
            foreach (var log in logs.OfType<JsonObject>())
                s.LogHistory.Add(log.Where(kv => kv.Value is JsonValue v && v.TryGetValue<double>(out _))
                    .ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>()));
        if (o["trial_params"] is JsonObject tp) s.TrialParams = tp.ToDictionary(kv => kv.Key, kv => kv.Value?.DeepClone());
        if (o["stateful_callbacks"] is JsonObject sc)
            foreach (var (name, value) in sc)
                if (value is JsonObject cb) s.StatefulCallbacks[name] = (JsonObject)cb.DeepClone();
        return s;
    }

    internal static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A callback (or the control) whose state is saved in trainer_state.json's stateful_callbacks and restored on resume
/// (transformers' ExportableState).</summary>
public interface IExportableState
{
    /// <summary>{"args": constructor arguments, "attributes": mutable state}.</summary>
    JsonObject State();
    void RestoreState(JsonObject state);
}

/// <summary>The flags callbacks set to steer the loop (transformers' TrainerControl). The handler resets them as Hugging Face's does.</summary>
public sealed class TrainerControl : IExportableState
{
    public bool ShouldTrainingStop { get; set; }
    public bool ShouldEpochStop { get; set; }
    public bool ShouldSave { get; set; }
    public bool ShouldEvaluate { get; set; }
    public bool ShouldLog { get; set; }

    public JsonObject State() => new()
    {
        ["args"] = new JsonObject
        {
            ["should_epoch_stop"] = ShouldEpochStop,
            ["should_evaluate"] = ShouldEvaluate,
            ["should_log"] = ShouldLog,
            ["should_save"] = ShouldSave,
            ["should_training_stop"] = ShouldTrainingStop,
        },
        ["attributes"] = new JsonObject(),
    };

    public void RestoreState(JsonObject state)
    {
        if (state["args"] is not JsonObject a) return;
        ShouldEpochStop = a["should_epoch_stop"]?.GetValue<bool>() ?? false;
        ShouldEvaluate = a["should_evaluate"]?.GetValue<bool>() ?? false;
        ShouldLog = a["should_log"]?.GetValue<bool>() ?? false;
        ShouldSave = a["should_save"]?.GetValue<bool>() ?? false;
        ShouldTrainingStop = a["should_training_stop"]?.GetValue<bool>() ?? false;
    }
}
