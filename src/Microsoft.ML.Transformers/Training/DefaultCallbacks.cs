using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Training;

/// <summary>Decides when to log, evaluate, save and stop (transformers' DefaultFlowCallback, trainer_callback.py).</summary>
public sealed class DefaultFlowCallback : TrainerCallback
{
    public override void OnStepEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        if (state.GlobalStep == 1 && args.LoggingFirstStep) control.ShouldLog = true;
        if (args.LoggingStrategy == IntervalStrategy.Steps && state.GlobalStep % state.LoggingSteps == 0) control.ShouldLog = true;
        if (args.EvalStrategy == IntervalStrategy.Steps && state.GlobalStep % state.EvalSteps == 0 && args.EvalDelay <= state.GlobalStep)
            control.ShouldEvaluate = true;
        if (args.SaveStrategy == IntervalStrategy.Steps && state.SaveSteps > 0 && state.GlobalStep % state.SaveSteps == 0) control.ShouldSave = true;
        if (state.GlobalStep >= state.MaxSteps)
        {
            control.ShouldTrainingStop = true;
            // "Save the model at the end if we have a save strategy"
            if (args.SaveStrategy == IntervalStrategy.Steps) control.ShouldSave = true;
        }
    }

    public override void OnEpochEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        if (args.LoggingStrategy == IntervalStrategy.Epoch) control.ShouldLog = true;
        if (args.EvalStrategy == IntervalStrategy.Epoch && args.EvalDelay <= (state.Epoch ?? 0)) control.ShouldEvaluate = true;
        if (args.SaveStrategy == IntervalStrategy.Epoch) control.ShouldSave = true;
    }
}

/// <summary>Prints each log (transformers' PrinterCallback), used instead of the progress bar when disable_tqdm is set.</summary>
public sealed class PrinterCallback(TextWriter? output = null) : TrainerCallback
{
    private readonly TextWriter _out = output ?? Console.Out;

    public override void OnLog(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        if (state.IsLocalProcessZero && e.Logs is { } logs) _out.WriteLine(LogFormat.Dict(logs.Where(kv => kv.Key != "total_flos")));
    }
}

internal static class LogFormat
{
    /// <summary>Python's repr of a dict of floats: {'loss': 0.6931, 'epoch': 1.0}.</summary>
    public static string Dict(IEnumerable<KeyValuePair<string, double>> logs) =>
        "{" + string.Join(", ", logs.Select(kv => $"'{kv.Key}': {Number(kv.Value)}")) + "}";

    public static string Number(double v)
    {
        if (double.IsNaN(v)) return "nan";
        if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
        var s = v.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') ? s : s + ".0";
    }
}

/// <summary>
/// A terminal progress bar with rate and ETA for training (update steps), evaluation and prediction (batches), and the
/// logs printed above it (transformers' ProgressCallback over tqdm). When the output is redirected it prints plain lines
/// (at most one per 10% of the bar) instead of redrawing.
/// </summary>
public sealed class ProgressCallback : TrainerCallback
{
    private readonly TextWriter _out;
    private readonly bool _interactive;
    private ProgressBar? _train, _eval;

    public ProgressCallback(TextWriter? output = null, bool? interactive = null)
    {
        _out = output ?? Console.Out;
        _interactive = interactive ?? (output is null && !Console.IsOutputRedirected);
    }

    public override void OnTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        if (!state.IsWorldProcessZero) return;
        _train = new ProgressBar(_out, _interactive, state.MaxSteps, "it", "Training");
        _train.Update(state.GlobalStep);
    }

    public override void OnStepEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) => _train?.Update(state.GlobalStep);

    public override void OnPredictionStep(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        if (!state.IsWorldProcessZero || e.EvalDataLoader is not { } loader) return;
        if (_eval is null)
        {
            _train?.Suspend();
            _eval = new ProgressBar(_out, _interactive, loader.Count, "it", "Evaluating");
        }
        _eval.Update(_eval.Done + 1);
    }

    public override void OnEvaluate(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) => CloseEval();

    public override void OnPredict(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) => CloseEval();

    private void CloseEval()
    {
        _eval?.Close();
        _eval = null;
    }

    public override void OnLog(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        if (!state.IsWorldProcessZero || e.Logs is not { } logs) return;
        _train?.Suspend();
        _out.WriteLine(LogFormat.Dict(logs.Where(kv => kv.Key != "total_flos")));
        _train?.Redraw();
    }

    public override void OnTrainEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        _train?.Close();
        _train = null;
    }
}

/// <summary>One bar: "Training  42%|████▏     | 21/50 [00:03&lt;00:04, 6.12it/s]".</summary>
internal sealed class ProgressBar(TextWriter output, bool interactive, int total, string unit, string label)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _start = -1;
    private int _lastPlainDecile = -1;
    private bool _drawn;

    public int Done { get; private set; }

    public void Update(int done)
    {
        if (_start < 0) _start = done;
        Done = done;
        if (interactive) Redraw();
        else
        {
            int decile = total <= 0 ? 10 : (int)(10L * done / total);
            if (decile != _lastPlainDecile && (done > _start || done == total))
            {
                _lastPlainDecile = decile;
                output.WriteLine(Render());
            }
        }
    }

    public void Redraw()
    {
        if (!interactive) return;
        output.Write("\r" + Render() + "\u001b[K");
        output.Flush();
        _drawn = true;
    }

    /// <summary>Clears the bar's line so a log line can be printed; the next Update/Redraw draws it again.</summary>
    public void Suspend()
    {
        if (!interactive || !_drawn) return;
        output.Write("\r\u001b[K");
        _drawn = false;
    }

    public void Close()
    {
        if (interactive)
        {
            Redraw();
            output.WriteLine();
        }
        else if (_lastPlainDecile != 10) output.WriteLine(Render());
    }

    public string Render()
    {
        double elapsed = _clock.Elapsed.TotalSeconds;
        int done = Done - Math.Max(_start, 0);
        double rate = elapsed > 0 ? done / elapsed : 0;
        string eta = rate > 0 && total > 0 ? Time((total - Done) / rate) : "?";
        double frac = total > 0 ? Math.Clamp((double)Done / total, 0, 1) : 0;
        const int width = 20;
        var bar = new StringBuilder();
        double filled = frac * width;
        int full = (int)filled;
        bar.Append('█', full);
        if (full < width)
        {
            int eighths = (int)((filled - full) * 8);
            bar.Append(eighths == 0 ? ' ' : " ▏▎▍▌▋▊▉"[eighths]);
            bar.Append(' ', width - full - 1);
        }
        string rateText = rate >= 1 || rate == 0 ? $"{rate.ToString("0.00", CultureInfo.InvariantCulture)}{unit}/s" : $"{(1 / rate).ToString("0.00", CultureInfo.InvariantCulture)}s/{unit}";
        return $"{label} {(int)(frac * 100),3}%|{bar}| {Done}/{total} [{Time(elapsed)}<{eta}, {rateText}]";
    }

    private static string Time(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{t.Minutes:00}:{t.Seconds:00}";
    }
}

/// <summary>
/// Stops training when the metric stops improving (transformers' EarlyStoppingCallback): after
/// <paramref name="earlyStoppingPatience"/> evaluations without an improvement larger than
/// <paramref name="earlyStoppingThreshold"/> over state.best_metric. Needs metric_for_best_model and an eval strategy;
/// best used with load_best_model_at_end.
/// </summary>
public sealed class EarlyStoppingCallback(int earlyStoppingPatience = 1, double earlyStoppingThreshold = 0.0) : TrainerCallback, IExportableState
{
    public int EarlyStoppingPatience { get; } = earlyStoppingPatience;
    public double EarlyStoppingThreshold { get; } = earlyStoppingThreshold;
    public int EarlyStoppingPatienceCounter { get; private set; }
    public Action<string>? Warn { get; set; } = Console.Error.WriteLine;

    public override void OnTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        if (!args.LoadBestModelAtEnd)
            Warn?.Invoke("Using EarlyStoppingCallback without load_best_model_at_end=True. Once training is finished, the best model will not be loaded automatically.");
        if (args.MetricForBestModel is null)
            throw new InvalidOperationException("EarlyStoppingCallback requires metric_for_best_model to be defined.");
        if (args.EvalStrategy == IntervalStrategy.No)
            throw new InvalidOperationException("EarlyStoppingCallback requires IntervalStrategy of steps or epoch (eval_strategy is \"no\").");
    }

    public override void OnEvaluate(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        var metricName = args.MetricForBestModel!;
        if (!metricName.StartsWith("eval_", StringComparison.Ordinal)) metricName = "eval_" + metricName;
        if (e.Metrics is null || !e.Metrics.TryGetValue(metricName, out var value))
        {
            Warn?.Invoke($"early stopping required metric_for_best_model, but did not find {metricName} so early stopping is disabled");
            return;
        }
        bool greater = args.GreaterIsBetter ?? false;
        bool improved = state.BestMetric is not { } best
            || ((greater ? value > best : value < best) && Math.Abs(value - best) > EarlyStoppingThreshold);
        EarlyStoppingPatienceCounter = improved ? 0 : EarlyStoppingPatienceCounter + 1;
        if (EarlyStoppingPatienceCounter >= EarlyStoppingPatience) control.ShouldTrainingStop = true;
    }

    public JsonObject State() => new()
    {
        ["args"] = new JsonObject { ["early_stopping_patience"] = EarlyStoppingPatience, ["early_stopping_threshold"] = EarlyStoppingThreshold },
        ["attributes"] = new JsonObject { ["early_stopping_patience_counter"] = EarlyStoppingPatienceCounter },
    };

    public void RestoreState(JsonObject state) =>
        EarlyStoppingPatienceCounter = state["attributes"]?["early_stopping_patience_counter"]?.GetValue<int>() ?? 0;
}
