using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp.Modules;
using static TorchSharp.torch.utils;

namespace Microsoft.ML.Transformers.Training;

/// <summary>The report_to integrations this library has, by name.</summary>
public static class Integrations
{
    private static readonly Dictionary<string, Func<TrainerCallback>> Factories = new(StringComparer.Ordinal)
    {
        ["tensorboard"] = () => new TensorBoardCallback(),
        ["jsonl"] = () => new JsonlMetricsCallback(),
    };

    public static IReadOnlyList<string> Available => Factories.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The integration names report_to selects ("all" = every one we have, "none" = none); an unknown name is an error listing those we have.</summary>
    public static IReadOnlyList<string> Resolve(IReadOnlyList<string> reportTo)
    {
        if (reportTo.Count == 1 && reportTo[0] == "none") return [];
        if (reportTo.Count == 1 && reportTo[0] == "all") return Available;
        foreach (var name in reportTo)
            if (!Factories.ContainsKey(name))
                throw new ArgumentException($"report_to names \"{name}\", which is not an integration of this library. Available: {string.Join(", ", Available)} (or \"all\", \"none\").");
        return reportTo.Distinct().ToArray();
    }

    internal static IEnumerable<TrainerCallback> Create(IReadOnlyList<string> reportTo) => Resolve(reportTo).Select(n => Factories[n]());
}

/// <summary>
/// Writes TensorBoard event files through TorchSharp's SummaryWriter (transformers' TensorBoardCallback): the arguments
/// and model config as text on train begin, every numeric log value as a scalar at state.global_step, tagged as
/// rewrite_logs does (eval_x -> eval/x, test_x -> test/x, others train/x). The folder is logging_dir
/// (default {output_dir}/runs/{time}_{host}), with the trial name appended during a hyperparameter search.
/// </summary>
public sealed class TensorBoardCallback : TrainerCallback
{
    private SummaryWriter? _writer;

    public string? LogDir { get; private set; }

    private void Init(TrainingArguments args, TrainerState state)
    {
        var dir = args.LoggingDir ?? Path.Combine(args.OutputDir, "runs", DateTime.Now.ToString("MMMdd_HH-mm-ss", CultureInfo.InvariantCulture) + "_" + Environment.MachineName);
        if (state.TrialName is { } trial) dir = Path.Combine(dir, trial);
        Directory.CreateDirectory(dir);
        LogDir = dir;
        _writer = tensorboard.SummaryWriter(dir);
    }

    public override void OnTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        if (!state.IsWorldProcessZero) return;
        if (_writer is null) Init(args, state);
        _writer!.add_text("args", args.ToJsonString(), 0);
        _writer.add_text("model_config", e.Model.Config.ToJsonString(), 0);
    }

    public override void OnLog(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        if (!state.IsWorldProcessZero || e.Logs is null) return;
        if (_writer is null) Init(args, state);
        foreach (var (key, value) in e.Logs) _writer!.add_scalar(Rewrite(key), (float)value, state.GlobalStep);
    }

    public override void OnTrainEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) => _writer = null;

    /// <summary>integration_utils.rewrite_logs.</summary>
    public static string Rewrite(string key) =>
        key.StartsWith("eval_", StringComparison.Ordinal) ? "eval/" + key[5..]
        : key.StartsWith("test_", StringComparison.Ordinal) ? "test/" + key[5..]
        : "train/" + key;
}

/// <summary>Appends every log as one JSON line {"step": N, ...logs} to {output_dir}/metrics.jsonl (or the given path).</summary>
public sealed class JsonlMetricsCallback(string? path = null) : TrainerCallback
{
    public string? Path { get; private set; } = path;

    public override void OnLog(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        if (!state.IsWorldProcessZero || e.Logs is null) return;
        Path ??= System.IO.Path.Combine(args.OutputDir, "metrics.jsonl");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        var o = new JsonObject { ["step"] = state.GlobalStep };
        if (state.Epoch is { } epoch) o["epoch"] = epoch;
        foreach (var (k, v) in e.Logs) o[k] = double.IsFinite(v) ? v : null;
        File.AppendAllText(Path, o.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) + "\n");
    }
}
