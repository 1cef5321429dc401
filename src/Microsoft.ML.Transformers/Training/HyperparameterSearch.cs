using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;

namespace Microsoft.ML.Transformers.Training;

public enum HyperparameterSearchDirection { Minimize, Maximize }

public enum HyperparameterSearchBackend { Grid, Random }

/// <summary>The values one TrainingArguments field takes in a search: a list (grid or random choice) or a range (random only).</summary>
public abstract record HyperparameterRange
{
    /// <summary>One of these values (grid: each in turn).</summary>
    public static HyperparameterRange Choice(params object[] values) => new ChoiceRange(values.Select(ToNode).ToArray());

    private static JsonNode ToNode(object v) => v switch
    {
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        float f => JsonValue.Create((double)f),
        bool b => JsonValue.Create(b),
        string s => JsonValue.Create(s),
        Enum e => JsonValue.Create(System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(e.ToString())),
        _ => throw new ArgumentException($"A hyperparameter value must be a number, bool, string or enum; found {v?.GetType().Name ?? "null"}."),
    };
    /// <summary>A float drawn uniformly from [low, high].</summary>
    public static HyperparameterRange Uniform(double low, double high) => new FloatRange(low, high, Log: false);
    /// <summary>A float whose logarithm is uniform in [log low, log high] (learning rates, as optuna's suggest_float(log=True)).</summary>
    public static HyperparameterRange LogUniform(double low, double high) => new FloatRange(low, high, Log: true);
    /// <summary>An integer drawn uniformly from [low, high].</summary>
    public static HyperparameterRange IntRange(int low, int high) => new IntegerRange(low, high);

    internal sealed record ChoiceRange(JsonNode[] Values) : HyperparameterRange;
    internal sealed record FloatRange(double Low, double High, bool Log) : HyperparameterRange;
    internal sealed record IntegerRange(int Low, int High) : HyperparameterRange;
}

/// <summary>Hugging Face's BestRun: the trial's id (its run-{id} folder under output_dir), its objective and its hyperparameters.</summary>
public sealed record BestRun(string RunId, double Objective, IReadOnlyDictionary<string, JsonNode?> Hyperparameters, IReadOnlyDictionary<string, double> Metrics);

public partial class Trainer
{
    /// <summary>
    /// Hugging Face's default_compute_objective: the evaluation loss when it is the only metric, else the sum of the other
    /// metrics (epoch, runtimes and throughputs left out).
    /// </summary>
    public static double DefaultComputeObjective(IReadOnlyDictionary<string, double> metrics)
    {
        var rest = metrics.Where(kv => kv.Key != "eval_loss" && kv.Key != "epoch" &&
            !kv.Key.EndsWith("_runtime", StringComparison.Ordinal) && !kv.Key.EndsWith("_per_second", StringComparison.Ordinal) &&
            !kv.Key.EndsWith("_compilation_time", StringComparison.Ordinal)).ToList();
        if (rest.Count > 0) return rest.Sum(kv => kv.Value);
        return metrics.TryGetValue("eval_loss", out var loss) ? loss : throw new InvalidOperationException("The evaluation gave no eval_loss and no other metric to optimize.");
    }

    /// <summary>
    /// Runs <paramref name="nTrials"/> trainings (transformers' hyperparameter_search), each on a fresh model from
    /// <paramref name="modelInit"/> with the TrainingArguments fields of <paramref name="space"/> (snake_case names:
    /// learning_rate, num_train_epochs, ...) set to the trial's values, in output_dir/run-{trial}, and evaluates it.
    /// Grid runs the Cartesian product of the choices in order (at most <paramref name="nTrials"/> of them); Random draws
    /// each field from its range with a generator seeded by <paramref name="seed"/>. TrainerState has is_hyper_param_search,
    /// trial_name and trial_params set during each trial. Afterwards the trainer has its own model and arguments back;
    /// the trial models are disposed. Returns the trial with the best objective (<see cref="DefaultComputeObjective"/> unless given).
    /// </summary>
    public BestRun HyperparameterSearch(
        Func<PreTrainedModel> modelInit,
        IReadOnlyDictionary<string, HyperparameterRange> space,
        int nTrials = 20,
        HyperparameterSearchDirection direction = HyperparameterSearchDirection.Minimize,
        HyperparameterSearchBackend backend = HyperparameterSearchBackend.Random,
        int seed = 42,
        Func<IReadOnlyDictionary<string, double>, double>? computeObjective = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(modelInit);
        ArgumentNullException.ThrowIfNull(space);
        if (nTrials < 1) throw new ArgumentOutOfRangeException(nameof(nTrials), $"n_trials must be at least 1; found {nTrials}.");
        if (EvalDataset is null) throw new InvalidOperationException("HyperparameterSearch evaluates every trial: pass an eval_dataset to the Trainer.");
        var known = Args.ToJsonObject();
        foreach (var name in space.Keys)
            if (!known.ContainsKey(name))
                throw new ArgumentException($"'{name}' is not a TrainingArguments field. Fields: {string.Join(", ", known.Select(kv => kv.Key).Order(StringComparer.Ordinal))}.", nameof(space));
        var trials = backend == HyperparameterSearchBackend.Grid ? GridTrials(space, nTrials) : RandomTrials(space, nTrials, seed);
        computeObjective ??= DefaultComputeObjective;

        var (baseArgs, baseModel, baseOptimizer, baseScheduler) = (Args, Model, Optimizer, LrScheduler);
        if (_userOptimizer) throw new InvalidOperationException("HyperparameterSearch creates an optimizer per trial; construct the Trainer without one.");
        BestRun? best = null;
        try
        {
            for (int t = 0; t < trials.Count; t++)
            {
                var p = trials[t];
                var json = baseArgs.ToJsonObject();
                foreach (var (k, v) in p) json[k] = v?.DeepClone();
                TrialName = t.ToString(CultureInfo.InvariantCulture);
                TrialParams = p;
                var model = modelInit();
                if (Model != baseModel) Model.Dispose();
                Model = model;
                Args = TrainingArguments.FromJsonObject(json).Validate();
                Optimizer = null;
                LrScheduler = null;
                Train(cancellationToken: cancellationToken);
                var metrics = Evaluate();
                double objective = computeObjective(metrics);
                bool better = best is null || (direction == HyperparameterSearchDirection.Maximize ? objective > best.Objective : objective < best.Objective);
                if (better) best = new BestRun(TrialName, objective, p, metrics);
            }
        }
        finally
        {
            if (Model != baseModel) Model.Dispose();
            (Args, Model, Optimizer, LrScheduler) = (baseArgs, baseModel, baseOptimizer, baseScheduler);
            TrialName = null;
            TrialParams = null;
        }
        return best!;
    }

    private static List<Dictionary<string, JsonNode?>> GridTrials(IReadOnlyDictionary<string, HyperparameterRange> space, int nTrials)
    {
        var trials = new List<Dictionary<string, JsonNode?>> { new(StringComparer.Ordinal) };
        foreach (var (name, range) in space)
        {
            if (range is not HyperparameterRange.ChoiceRange choice)
                throw new ArgumentException($"Grid search needs a list of values for '{name}' (HyperparameterRange.Choice); found {range.GetType().Name}.", nameof(space));
            trials = trials.SelectMany(t => choice.Values.Select(v => new Dictionary<string, JsonNode?>(t, StringComparer.Ordinal) { [name] = v.DeepClone() })).ToList();
        }
        return trials.Take(nTrials).ToList();
    }

    private static List<Dictionary<string, JsonNode?>> RandomTrials(IReadOnlyDictionary<string, HyperparameterRange> space, int nTrials, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, nTrials).Select(_ => space.ToDictionary(kv => kv.Key, kv => kv.Value switch
        {
            HyperparameterRange.ChoiceRange c => c.Values[rng.Next(c.Values.Length)].DeepClone(),
            HyperparameterRange.FloatRange { Log: true } f => (JsonNode?)JsonValue.Create(Math.Exp(Math.Log(f.Low) + rng.NextDouble() * (Math.Log(f.High) - Math.Log(f.Low)))),
            HyperparameterRange.FloatRange f => JsonValue.Create(f.Low + rng.NextDouble() * (f.High - f.Low)),
            HyperparameterRange.IntegerRange i => JsonValue.Create(rng.Next(i.Low, i.High + 1)),
            _ => throw new ArgumentException($"Unknown range for '{kv.Key}'."),
        }, StringComparer.Ordinal)).ToList();
    }
}
