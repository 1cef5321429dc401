using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Transformers.Engines;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Tokenizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim.lr_scheduler;

namespace Microsoft.ML.Transformers.Training;

/// <summary>A host copy of a tensor: row-major values and the shape.</summary>
public sealed record EvalArray(float[] Data, long[] Shape)
{
    public float this[params long[] index]
    {
        get
        {
            long flat = 0;
            for (int d = 0; d < Shape.Length; d++) flat = flat * Shape[d] + index[d];
            return Data[flat];
        }
    }

    /// <summary>argmax over the last dimension (class predictions from logits).</summary>
    public long[] ArgMaxLast()
    {
        int c = (int)Shape[^1];
        var r = new long[Data.Length / c];
        for (int i = 0; i < r.Length; i++)
        {
            int best = 0;
            for (int j = 1; j < c; j++) if (Data[i * c + j] > Data[i * c + best]) best = j;
            r[i] = best;
        }
        return r;
    }
}

/// <summary>What compute_metrics receives (transformers' EvalPrediction): all logits and labels of the evaluation set.</summary>
public sealed record EvalPrediction(EvalArray Predictions, EvalArray? LabelIds);

/// <summary>Result of <see cref="Trainer.Predict"/>.</summary>
public sealed record PredictionOutput(EvalArray Predictions, EvalArray? LabelIds, IReadOnlyDictionary<string, double> Metrics);

/// <summary>Result of <see cref="Trainer.Train"/>.</summary>
public sealed record TrainOutput(int GlobalStep, double TrainingLoss, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// Fine-tunes a <see cref="PreTrainedModel"/> as transformers' Trainer (trainer.py, 4.52) does, on TorchSharp's autograd
/// and optimizers: AdamW with weight decay on every parameter but biases and LayerNorm weights, a LambdaLR over
/// Hugging Face's schedules, gradient accumulation and clipping, TrainerCallback events in Hugging Face's order,
/// evaluation and prediction loops, and checkpoints that resume exactly.
/// </summary>
public partial class Trainer
{
    public const string CheckpointPrefix = "checkpoint";
    public const string OptimizerFileName = "optimizer.bin";
    public const string SchedulerFileName = "scheduler.json";
    public const string RngStateFileName = "rng_state.bin";
    public const string TrainingArgsFileName = "training_args.json";

    private static readonly Regex CheckpointName = new($"^{CheckpointPrefix}-([0-9]+)$", RegexOptions.CultureInvariant);
    private bool _userOptimizer;
    private double _totalLossScalar;
    private int _globalStepLastLogged;
    private double _trLoss;

    public Trainer(
        PreTrainedModel model,
        TrainingArguments? args = null,
        IReadOnlyList<TrainingExample>? trainDataset = null,
        IReadOnlyList<TrainingExample>? evalDataset = null,
        Tokenizer? tokenizer = null,
        IDataCollator? dataCollator = null,
        Func<EvalPrediction, IReadOnlyDictionary<string, double>>? computeMetrics = null,
        IEnumerable<TrainerCallback>? callbacks = null,
        torch.optim.Optimizer? optimizer = null,
        LRScheduler? lrScheduler = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        TorchSharpRuntime.EnsureLoaded();
        Args = (args ?? new TrainingArguments()).Validate();
        Model = model;
        TrainDataset = trainDataset;
        EvalDataset = evalDataset;
        Tokenizer = tokenizer;
        DataCollator = dataCollator ?? (model.MainInputName == "pixel_values"
            ? new ImageDataCollator()
            : new DataCollatorWithPadding(tokenizer?.PadTokenId ?? model.Config.PadTokenId ?? 0));
        ComputeMetrics = computeMetrics;
        Optimizer = optimizer;
        LrScheduler = lrScheduler;
        _userOptimizer = optimizer is not null;
        if (Args.EvalStrategy != IntervalStrategy.No && evalDataset is null)
            throw new ArgumentException($"You have set eval_strategy to {TrainingArguments.Name(Args.EvalStrategy)} but you didn't pass an eval_dataset to Trainer. Either set eval_strategy to \"no\" or pass an eval_dataset.");
        if (Args.Device is { } dev && !dev.Equals("cpu", StringComparison.OrdinalIgnoreCase)) model.to(TorchDevices.Parse(dev));
        torch.manual_seed(Args.Seed);

        // transformers' DEFAULT_CALLBACKS + report_to integrations + the progress display.
        CallbackHandler.Add(new DefaultFlowCallback());
        foreach (var cb in Integrations.Create(Args.ReportTo)) CallbackHandler.Add(cb);
        CallbackHandler.Add(Args.DisableTqdm ? new PrinterCallback() : new ProgressCallback());
        foreach (var cb in callbacks ?? []) CallbackHandler.Add(cb);
        Fire(TrainerEvent.InitEnd);
    }

    public TrainingArguments Args { get; private set; }
    public PreTrainedModel Model { get; private set; }
    public IReadOnlyList<TrainingExample>? TrainDataset { get; set; }
    public IReadOnlyList<TrainingExample>? EvalDataset { get; set; }
    public Tokenizer? Tokenizer { get; }
    public IDataCollator DataCollator { get; }
    public Func<EvalPrediction, IReadOnlyDictionary<string, double>>? ComputeMetrics { get; }
    public torch.optim.Optimizer? Optimizer { get; private set; }
    public LRScheduler? LrScheduler { get; private set; }
    public TrainerState State { get; private set; } = new();
    public TrainerControl Control { get; private set; } = new();
    public CallbackHandler CallbackHandler { get; } = new();
    public TrainerDataLoader? TrainDataLoader { get; private set; }
    public TrainerDataLoader? EvalDataLoader { get; private set; }
    /// <summary>Set by <see cref="HyperparameterSearch"/> for each trial.</summary>
    internal Dictionary<string, JsonNode?>? TrialParams { get; set; }
    internal string? TrialName { get; set; }

    public void AddCallback(TrainerCallback callback) => CallbackHandler.Add(callback);
    public TrainerCallback? PopCallback(Type type) => CallbackHandler.Pop(type);
    public TrainerCallback? PopCallback(TrainerCallback callback) => CallbackHandler.Pop(callback);
    public void RemoveCallback(Type type) => CallbackHandler.Remove(type);
    public void RemoveCallback(TrainerCallback callback) => CallbackHandler.Remove(callback);

    private TrainerEventContext Context(IReadOnlyDictionary<string, double>? metrics = null, IReadOnlyDictionary<string, double>? logs = null, double? stepLoss = null) => new()
    {
        Model = Model, Tokenizer = Tokenizer, Optimizer = Optimizer, LrScheduler = LrScheduler,
        TrainDataLoader = TrainDataLoader, EvalDataLoader = EvalDataLoader, Metrics = metrics, Logs = logs, StepLoss = stepLoss,
    };

    private void Fire(TrainerEvent ev, TrainerEventContext? e = null) => CallbackHandler.Fire(ev, Args, State, Control, e ?? Context());

    // ------------------------------------------------------------------------------------------------------------
    // Optimizer and scheduler (trainer.py create_optimizer / create_scheduler)
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>Names of the parameters that get weight decay: all but those of LayerNorm layers and any whose name contains
    /// "bias", "layernorm" or "rmsnorm" (transformers' get_decay_parameter_names).</summary>
    public static IReadOnlyList<string> GetDecayParameterNames(nn.Module model)
    {
        var normParams = new HashSet<IntPtr>();
        foreach (var (_, m) in model.named_modules())
            if (m is LayerNorm)
                foreach (var (_, p) in m.named_parameters(recurse: false)) normParams.Add(p.Handle);
        return model.named_parameters()
            .Where(p => !normParams.Contains(p.parameter.Handle))
            .Select(p => p.name)
            .Where(n => !(n.Contains("bias", StringComparison.OrdinalIgnoreCase) || n.Contains("layernorm", StringComparison.OrdinalIgnoreCase) || n.Contains("rmsnorm", StringComparison.OrdinalIgnoreCase)))
            .ToList();
    }

    /// <summary>AdamW over two parameter groups (decay / no decay) and a LambdaLR of lr_scheduler_type, unless given to the constructor.</summary>
    public void CreateOptimizerAndScheduler(int numTrainingSteps)
    {
        if (Optimizer is null)
        {
            var decay = GetDecayParameterNames(Model).ToHashSet(StringComparer.Ordinal);
            var withDecay = new List<Parameter>();
            var without = new List<Parameter>();
            foreach (var (name, p) in Model.named_parameters())
                if (p.requires_grad) (decay.Contains(name) ? withDecay : without).Add(p);
            var groups = new List<AdamW.ParamGroup>();
            if (withDecay.Count > 0) groups.Add(new AdamW.ParamGroup(withDecay, Args.LearningRate, Args.AdamBeta1, Args.AdamBeta2, Args.AdamEpsilon, Args.WeightDecay, false, false));
            if (without.Count > 0) groups.Add(new AdamW.ParamGroup(without, Args.LearningRate, Args.AdamBeta1, Args.AdamBeta2, Args.AdamEpsilon, 0.0, false, false));
            Optimizer = torch.optim.AdamW(groups, Args.LearningRate, Args.AdamBeta1, Args.AdamBeta2, Args.AdamEpsilon, Args.WeightDecay);
        }
        if (LrScheduler is null)
        {
            var lambda = Schedules.Get(Args.LrSchedulerType, Schedules.WarmupSteps(Args, numTrainingSteps), numTrainingSteps, Args.LearningRate);
            LrScheduler = LambdaLR(Optimizer, lambda);
        }
    }

    private double LearningRate => LrScheduler?.get_last_lr().First() ?? Args.LearningRate;

    // ------------------------------------------------------------------------------------------------------------
    // Training loop (trainer.py _inner_training_loop)
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>Step counts: a value below 1 is a share of max_steps (trainer.py set_initial_training_values).</summary>
    private static int StepsOf(double value, int maxSteps) => value < 1 ? (int)Math.Ceiling(maxSteps * value) : (int)value;

    /// <summary>The example order of an epoch: a permutation from a generator seeded with data_seed (or seed) + epoch,
    /// so an epoch's order does not depend on what ran before it (accelerate's SeedableRandomSampler).</summary>
    public IReadOnlyList<int> EpochOrder(int epoch, int count)
    {
        using var g = new Generator(0);
        g.manual_seed(Args.TrainSeed + epoch);
        using var perm = randperm(count, generator: g);
        return perm.data<long>().Select(v => (int)v).ToArray();
    }

    /// <summary>
    /// Trains on the train dataset. With <paramref name="resumeFromCheckpoint"/> (a checkpoint-N folder), the model,
    /// optimizer, scheduler, RNG, callback states and trainer_state.json are restored and the loop continues at the
    /// batch after the checkpoint, so the losses equal those of an uninterrupted run. <paramref name="cancellationToken"/>
    /// is checked after every batch; cancelling throws <see cref="OperationCanceledException"/> without saving.
    /// </summary>
    public TrainOutput Train(string? resumeFromCheckpoint = null, CancellationToken cancellationToken = default)
    {
        var train = TrainDataset ?? throw new InvalidOperationException("Trainer.Train requires a train_dataset.");
        if (train.Count == 0) throw new InvalidOperationException("The train_dataset is empty.");
        var args = Args;
        if (resumeFromCheckpoint is not null && !File.Exists(Path.Combine(resumeFromCheckpoint, TrainerState.FileName)))
            throw new FileNotFoundException($"Can't find a valid checkpoint at {resumeFromCheckpoint}: {TrainerState.FileName} is missing.", Path.Combine(resumeFromCheckpoint, TrainerState.FileName));
        var runDir = RunDir;
        RemoveIncompleteCheckpoints(runDir);

        var device = Model.Device;
        TrainDataLoader = new TrainerDataLoader(train, args.PerDeviceTrainBatchSize, args.DataloaderDropLast, DataCollator, device);
        if (EvalDataset is not null) EvalDataLoader = new TrainerDataLoader(EvalDataset, args.PerDeviceEvalBatchSize, false, DataCollator, device);
        int lenDataloader = TrainDataLoader.Count;
        if (lenDataloader == 0) throw new InvalidOperationException($"The train_dataset ({train.Count} examples) gives no batch of {args.PerDeviceTrainBatchSize} with dataloader_drop_last.");
        int ga = args.GradientAccumulationSteps;
        int updatesPerEpoch = Math.Max(lenDataloader / ga + (lenDataloader % ga > 0 ? 1 : 0), 1);
        int maxSteps, numTrainEpochs;
        if (args.MaxSteps > 0)
        {
            maxSteps = args.MaxSteps;
            numTrainEpochs = args.MaxSteps / updatesPerEpoch + (args.MaxSteps % updatesPerEpoch > 0 ? 1 : 0);
        }
        else
        {
            maxSteps = (int)Math.Ceiling(args.NumTrainEpochs * updatesPerEpoch);
            numTrainEpochs = (int)Math.Ceiling(args.NumTrainEpochs);
        }

        State = new TrainerState
        {
            IsHyperParamSearch = TrialName is not null,
            TrialName = TrialName,
            TrialParams = TrialParams,
            TrainBatchSize = args.PerDeviceTrainBatchSize,
        };
        Control = new TrainerControl();
        if (!_userOptimizer)
        {
            Optimizer = null;
            LrScheduler = null;
        }
        CreateOptimizerAndScheduler(maxSteps);

        int epochsTrained = 0, stepsTrainedInCurrentEpoch = 0;
        if (resumeFromCheckpoint is not null)
        {
            State = TrainerState.LoadFromJson(Path.Combine(resumeFromCheckpoint, TrainerState.FileName));
            LoadCheckpoint(resumeFromCheckpoint);
            epochsTrained = State.GlobalStep / updatesPerEpoch;
            stepsTrainedInCurrentEpoch = State.GlobalStep % updatesPerEpoch * ga;
        }
        State.MaxSteps = maxSteps;
        State.NumTrainEpochs = numTrainEpochs;
        State.LoggingSteps = StepsOf(args.LoggingSteps, maxSteps);
        State.EvalSteps = StepsOf(args.EvalSteps ?? args.LoggingSteps, maxSteps);
        State.SaveSteps = StepsOf(args.SaveSteps, maxSteps);
        State.TrainBatchSize = args.PerDeviceTrainBatchSize;
        State.IsHyperParamSearch = TrialName is not null;
        State.TrialName = TrialName;
        State.TrialParams = TrialParams;
        State.StatefulCallbacks = CurrentCallbackStates();

        _trLoss = 0;
        _totalLossScalar = 0;
        _globalStepLastLogged = State.GlobalStep;
        int startStep = State.GlobalStep;
        double? gradNorm = null;
        var start = Stopwatch.StartNew();
        var parameters = Model.parameters().ToList();
        Model.train();
        Fire(TrainerEvent.TrainBegin);

        for (int epoch = epochsTrained; epoch < numTrainEpochs; epoch++)
        {
            var order = EpochOrder(epoch, train.Count);
            int stepsInEpoch = lenDataloader;
            int stepsSkipped = epoch == epochsTrained ? stepsTrainedInCurrentEpoch : 0;
            Fire(TrainerEvent.EpochBegin);
            double stepLoss = 0;
            for (int step = stepsSkipped; step < stepsInEpoch; step++)
            {
                bool syncStep = (step + 1) % ga == 0 || step + 1 == stepsInEpoch;
                if (step % ga == 0) Fire(TrainerEvent.StepBegin);

                // The last accumulation of an epoch may hold fewer batches; its loss is scaled by that count (trainer.py
                // current_gradient_accumulation_steps = len(batch_samples)).
                int groupStart = step - step % ga;
                double lossStep = TrainingStep(TrainDataLoader, step, order, Math.Min(ga, stepsInEpoch - groupStart));
                if (double.IsFinite(lossStep)) _trLoss += lossStep;
                else _trLoss += _trLoss / (1 + State.GlobalStep - _globalStepLastLogged); // logging_nan_inf_filter
                stepLoss += lossStep;

                if (syncStep)
                {
                    if (args.MaxGradNorm > 0)
                    {
                        using var _ = NewDisposeScope();
                        var withGrad = parameters.Where(p => p.grad is not null).ToList();
                        gradNorm = nn.utils.clip_grad_norm_(withGrad, args.MaxGradNorm);
                    }
                    Fire(TrainerEvent.PreOptimizerStep);
                    using (NewDisposeScope()) Optimizer!.step();
                    Fire(TrainerEvent.OptimizerStep);
                    LrScheduler!.step();
                    Optimizer.zero_grad();
                    State.GlobalStep++;
                    State.Epoch = epoch + (double)(step + 1) / stepsInEpoch;
                    Fire(TrainerEvent.StepEnd, Context(stepLoss: stepLoss));
                    stepLoss = 0;
                    MaybeLogSaveEvaluate(gradNorm);
                }
                else Fire(TrainerEvent.SubstepEnd);

                cancellationToken.ThrowIfCancellationRequested();
                if (Control.ShouldEpochStop || Control.ShouldTrainingStop) break;
            }
            Fire(TrainerEvent.EpochEnd);
            MaybeLogSaveEvaluate(gradNorm);
            if (Control.ShouldTrainingStop) break;
        }

        if (args.LoadBestModelAtEnd && State.BestModelCheckpoint is { } best && Directory.Exists(best)) Model.LoadWeights(best);

        _totalLossScalar += _trLoss;
        double trainLoss = _totalLossScalar / Math.Max(State.GlobalStep - startStep, 0.001);
        int numSamples = args.MaxSteps > 0 ? args.PerDeviceTrainBatchSize * ga * args.MaxSteps : (int)(train.Count * args.NumTrainEpochs);
        var metrics = SpeedMetrics("train", start.Elapsed.TotalSeconds, numSamples, maxSteps);
        metrics["total_flos"] = State.TotalFlos;
        metrics["train_loss"] = trainLoss;
        Log(metrics);

        // "Delete the last checkpoint when save_total_limit=1 if it's different from the best checkpoint".
        if (args.SaveStrategy != IntervalStrategy.No && State.BestModelCheckpoint is not null && args.SaveTotalLimit == 1)
            foreach (var dir in SortedCheckpoints(runDir))
                if (!SamePath(dir, State.BestModelCheckpoint)) Directory.Delete(dir, recursive: true);

        Fire(TrainerEvent.TrainEnd);
        return new TrainOutput(State.GlobalStep, trainLoss, metrics);
    }

    /// <summary>One forward/backward on one batch (trainer.py training_step); returns the loss divided by the accumulation steps.</summary>
    protected virtual double TrainingStep(TrainerDataLoader loader, int batchIndex, IReadOnlyList<int> order, int gradientAccumulationSteps)
    {
        using var scope = NewDisposeScope();
        var batch = loader.Batch(batchIndex, order);
        var output = Model.forward(batch.Inputs);
        var loss = output.Loss ?? throw new InvalidOperationException(
            $"The model did not return a loss from the inputs it received (labels: {(batch.Inputs.Labels is null && batch.Inputs.DetectionLabels is null ? "none" : "given")}). " +
            "Give every training example a label (Label, LabelValues, TokenLabels, PixelLabels or DetectionLabels).");
        var scaled = loss.div(gradientAccumulationSteps);
        scaled.backward();
        State.NumInputTokensSeen += batch.Inputs.InputIds?.numel() ?? 0; // Hugging Face counts input_ids only (main_input_name)
        return scaled.item<float>();
    }

    private void MaybeLogSaveEvaluate(double? gradNorm)
    {
        if (Control.ShouldLog && State.GlobalStep > _globalStepLastLogged)
        {
            var logs = new Dictionary<string, double>
            {
                ["loss"] = Math.Round(_trLoss / (State.GlobalStep - _globalStepLastLogged), 4, MidpointRounding.ToEven),
            };
            if (gradNorm is { } g) logs["grad_norm"] = g;
            logs["learning_rate"] = LearningRate;
            _totalLossScalar += _trLoss;
            _trLoss = 0;
            _globalStepLastLogged = State.GlobalStep;
            Log(logs);
        }
        if (Control.ShouldEvaluate)
        {
            var metrics = Evaluate();
            bool isNewBest = DetermineBestMetric(metrics);
            _ = isNewBest;
        }
        if (Control.ShouldSave)
        {
            SaveCheckpoint();
            Fire(TrainerEvent.Save);
        }
    }

    private bool DetermineBestMetric(IReadOnlyDictionary<string, double> metrics)
    {
        if (Args.MetricForBestModel is not { } name) return false;
        if (!name.StartsWith("eval_", StringComparison.Ordinal)) name = "eval_" + name;
        if (!metrics.TryGetValue(name, out var value))
            throw new KeyNotFoundException($"The metric_for_best_model training argument is set to '{name}', which is not found in the evaluation metrics. " +
                $"The available evaluation metrics are: [{string.Join(", ", metrics.Keys)}]. Consider changing metric_for_best_model in the TrainingArguments.");
        bool greater = Args.GreaterIsBetter ?? false;
        double best = State.BestMetric ?? (greater ? double.NegativeInfinity : double.PositiveInfinity);
        if (greater ? value > best : value < best)
        {
            State.BestMetric = value;
            if (Args.SaveStrategy is IntervalStrategy.Steps or IntervalStrategy.Epoch) State.BestGlobalStep = State.GlobalStep;
            return true;
        }
        State.BestMetric ??= best;
        return false;
    }

    /// <summary>Adds the epoch, appends {logs, step} to log_history and fires on_log (trainer.py log).</summary>
    public void Log(Dictionary<string, double> logs)
    {
        if (State.Epoch is { } epoch) logs["epoch"] = epoch;
        var entry = new Dictionary<string, double>(logs) { ["step"] = State.GlobalStep };
        State.LogHistory.Add(entry);
        Fire(TrainerEvent.Log, Context(logs: logs));
    }

    private static Dictionary<string, double> SpeedMetrics(string split, double runtime, int numSamples, int numSteps)
    {
        var m = new Dictionary<string, double> { [$"{split}_runtime"] = Math.Round(runtime, 4) };
        if (runtime > 0)
        {
            m[$"{split}_samples_per_second"] = Math.Round(numSamples / runtime, 3);
            m[$"{split}_steps_per_second"] = Math.Round(numSteps / runtime, 3);
        }
        return m;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Evaluation and prediction (trainer.py evaluate / predict / evaluation_loop)
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>Runs the evaluation loop, logs the metrics ({prefix}_loss, compute_metrics' keys, speed) and fires on_evaluate.</summary>
    public IReadOnlyDictionary<string, double> Evaluate(IReadOnlyList<TrainingExample>? evalDataset = null, string metricKeyPrefix = "eval")
    {
        var ds = evalDataset ?? EvalDataset ?? throw new InvalidOperationException("Trainer: evaluation requires an eval_dataset.");
        EvalDataLoader = new TrainerDataLoader(ds, Args.PerDeviceEvalBatchSize, false, DataCollator, Model.Device);
        var start = Stopwatch.StartNew();
        var (_, _, metrics) = EvaluationLoop(EvalDataLoader, metricKeyPrefix);
        foreach (var (k, v) in SpeedMetrics(metricKeyPrefix, start.Elapsed.TotalSeconds, ds.Count, EvalDataLoader.Count)) metrics[k] = v;
        Log(metrics);
        Fire(TrainerEvent.Evaluate, Context(metrics: metrics));
        return metrics;
    }

    /// <summary>Runs the prediction loop on <paramref name="testDataset"/> and fires on_predict (no log, as Hugging Face).</summary>
    public PredictionOutput Predict(IReadOnlyList<TrainingExample> testDataset, string metricKeyPrefix = "test")
    {
        EvalDataLoader = new TrainerDataLoader(testDataset, Args.PerDeviceEvalBatchSize, false, DataCollator, Model.Device);
        var start = Stopwatch.StartNew();
        var (preds, labels, metrics) = EvaluationLoop(EvalDataLoader, metricKeyPrefix);
        foreach (var (k, v) in SpeedMetrics(metricKeyPrefix, start.Elapsed.TotalSeconds, testDataset.Count, EvalDataLoader.Count)) metrics[k] = v;
        Fire(TrainerEvent.Predict, Context(metrics: metrics));
        return new PredictionOutput(preds, labels, metrics);
    }

    private (EvalArray predictions, EvalArray? labels, Dictionary<string, double> metrics) EvaluationLoop(TrainerDataLoader loader, string prefix)
    {
        bool wasTraining = Model.training;
        Model.eval();
        var predParts = new List<EvalArray>();
        var labelParts = new List<EvalArray>();
        double lossSum = 0;
        int lossCount = 0;
        try
        {
            using var _ = no_grad();
            for (int b = 0; b < loader.Count; b++)
            {
                using var scope = NewDisposeScope();
                var batch = loader.Batch(b, null);
                var output = Model.forward(batch.Inputs);
                if (output.Loss is { } loss)
                {
                    lossSum += loss.item<float>() * batch.Size;
                    lossCount += batch.Size;
                }
                var logits = output.Logits ?? output.StartLogits;
                if (logits is not null) predParts.Add(ToHost(logits));
                if (batch.Inputs.Labels is { } l) labelParts.Add(ToHost(l));
                Fire(TrainerEvent.PredictionStep);
            }
        }
        finally
        {
            if (wasTraining) Model.train();
        }
        var predictions = Concat(predParts);
        var labels = labelParts.Count > 0 ? Concat(labelParts) : null;
        var metrics = new Dictionary<string, double>();
        if (ComputeMetrics is not null && labels is not null)
            foreach (var (k, v) in ComputeMetrics(new EvalPrediction(predictions, labels))) metrics[k] = v;
        if (lossCount > 0) metrics[$"{prefix}_loss"] = lossSum / lossCount;
        var prefixed = new Dictionary<string, double>();
        foreach (var (k, v) in metrics) prefixed[k.StartsWith(prefix + "_", StringComparison.Ordinal) ? k : $"{prefix}_{k}"] = v;
        return (predictions, labels, prefixed);
    }

    private static EvalArray ToHost(Tensor t)
    {
        using var f = t.to(ScalarType.Float32).cpu().contiguous();
        return new EvalArray(f.data<float>().ToArray(), f.shape);
    }

    /// <summary>Concatenates along the first dimension, padding other dimensions with -100 (transformers' nested_concat padding_index).</summary>
    private static EvalArray Concat(List<EvalArray> parts)
    {
        if (parts.Count == 0) return new EvalArray([], [0]);
        int rank = parts[0].Shape.Length;
        var shape = new long[rank];
        shape[0] = parts.Sum(p => p.Shape[0]);
        for (int d = 1; d < rank; d++) shape[d] = parts.Max(p => p.Shape[d]);
        long rowSize = 1;
        for (int d = 1; d < rank; d++) rowSize *= shape[d];
        var data = new float[shape[0] * rowSize];
        Array.Fill(data, -100f);
        long row = 0;
        foreach (var p in parts)
        {
            // Copy the part's innermost rows (last dimension) to where they sit in the padded shape.
            long inner = rank == 1 ? 1 : p.Shape[^1];
            var index = new long[rank];
            for (long src = 0; src < p.Data.Length; src += inner)
            {
                long rest = src / inner, dst = 0;
                for (int d = rank - 2; d >= 0; d--)
                {
                    index[d] = rest % p.Shape[d];
                    rest /= p.Shape[d];
                }
                for (int d = 0; d < rank - 1; d++) dst = dst * shape[d] + (d == 0 ? row + index[0] : index[d]);
                Array.Copy(p.Data, src, data, rank == 1 ? row + src : dst * shape[^1], inner);
            }
            row += p.Shape[0];
        }
        return new EvalArray(data, shape);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Saving, checkpoints, rotation, resume
    // ------------------------------------------------------------------------------------------------------------

    private string RunDir => TrialName is null ? Args.OutputDir : Path.Combine(Args.OutputDir, $"run-{TrialName}");

    /// <summary>Saves the model (config.json + model.safetensors), the tokenizer if any and training_args.json into
    /// <paramref name="outputDir"/> (default output_dir).</summary>
    public void SaveModel(string? outputDir = null)
    {
        using var save = AtomicFolder.Begin(outputDir ?? Args.OutputDir);
        SaveModelInto(save);
        save.Commit();
    }

    private void SaveModelInto(AtomicFolder save)
    {
        Model.SaveInto(save);
        Tokenizer?.SaveInto(save);
        File.WriteAllText(save.PathOf(TrainingArgsFileName), Args.ToJsonString() + "\n");
    }

    /// <summary>
    /// Writes checkpoint-{global_step} as one all-or-nothing folder save (<see cref="AtomicFolder"/>): a checkpoint folder
    /// is complete or absent even if the process dies while saving, and a re-save of the same step replaces it whole.
    /// </summary>
    private void SaveCheckpoint()
    {
        var runDir = RunDir;
        Directory.CreateDirectory(runDir);
        var name = $"{CheckpointPrefix}-{State.GlobalStep}";
        using (var save = AtomicFolder.Begin(Path.Combine(runDir, name)))
        {
            save.ReplaceAll();
            SaveModelInto(save);
            if (Args.SaveStrategy is IntervalStrategy.Steps or IntervalStrategy.Epoch && State.BestGlobalStep is int bestStep && bestStep > 0)
            {
                var bestDir = Path.Combine(runDir, $"{CheckpointPrefix}-{bestStep}");
                if (bestStep == State.GlobalStep || Directory.Exists(bestDir)) State.BestModelCheckpoint = bestDir;
            }
            ((OptimizerHelper)Optimizer!).save_state_dict(save.PathOf(OptimizerFileName));
            File.WriteAllText(save.PathOf(SchedulerFileName), new JsonObject
            {
                ["last_epoch"] = State.GlobalStep,
                ["last_lr"] = new JsonArray(LrScheduler!.get_last_lr().Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
            }.ToJsonString() + "\n");
            using (var rng = get_rng_state())
                File.WriteAllBytes(save.PathOf(RngStateFileName), rng.data<byte>().ToArray());
            State.StatefulCallbacks = CurrentCallbackStates();
            State.SaveToJson(save.PathOf(TrainerState.FileName));
            save.Commit();
        }
        RotateCheckpoints(runDir);
    }

    private Dictionary<string, JsonObject> CurrentCallbackStates()
    {
        var states = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var cb in CallbackHandler.Callbacks.OfType<IExportableState>().Append(Control))
            states[cb.GetType().Name] = cb.State();
        return states;
    }

    private static void RemoveIncompleteCheckpoints(string runDir) => AtomicFolder.RecoverChildren(runDir);

    /// <summary>checkpoint-N folders of <paramref name="folder"/>, oldest step first.</summary>
    public static IReadOnlyList<string> SortedCheckpoints(string folder)
    {
        if (!Directory.Exists(folder)) return [];
        return Directory.GetDirectories(folder)
            .Select(d => (dir: d, m: CheckpointName.Match(Path.GetFileName(d))))
            .Where(x => x.m.Success)
            .OrderBy(x => long.Parse(x.m.Groups[1].Value, CultureInfo.InvariantCulture))
            .Select(x => x.dir).ToList();
    }

    /// <summary>The checkpoint with the highest step in <paramref name="folder"/>, or null (transformers' get_last_checkpoint).</summary>
    public static string? GetLastCheckpoint(string folder) => SortedCheckpoints(folder).LastOrDefault();

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd('/'), Path.GetFullPath(b).TrimEnd('/'), StringComparison.Ordinal);

    /// <summary>save_total_limit: deletes the oldest checkpoints, never the best one (trainer.py _rotate_checkpoints).</summary>
    private void RotateCheckpoints(string runDir)
    {
        if (Args.SaveTotalLimit is not int limit || limit <= 0) return;
        var sorted = SortedCheckpoints(runDir).ToList();
        if (State.BestModelCheckpoint is { } best)
        {
            int i = sorted.FindIndex(d => SamePath(d, best));
            // Move the best checkpoint to the second-to-last place so the oldest-first deletion never reaches it.
            for (; i >= 0 && i < sorted.Count - 2; i++) (sorted[i], sorted[i + 1]) = (sorted[i + 1], sorted[i]);
            if (limit == 1 && !SamePath(sorted[^1], best)) limit = 2;
        }
        if (sorted.Count <= limit) return;
        foreach (var dir in sorted.Take(sorted.Count - limit)) Directory.Delete(dir, recursive: true);
    }

    private void LoadCheckpoint(string checkpoint)
    {
        Model.LoadWeights(checkpoint);
        var optimizerPath = Path.Combine(checkpoint, OptimizerFileName);
        if (File.Exists(optimizerPath) && !_userOptimizer)
        {
            ((OptimizerHelper)Optimizer!).load_state_dict(optimizerPath);
        }
        // The scheduler is a function of the step: replay it to the checkpoint's step.
        for (int i = 0; i < State.GlobalStep; i++) LrScheduler!.step();
        var rngPath = Path.Combine(checkpoint, RngStateFileName);
        if (File.Exists(rngPath))
        {
            var bytes = File.ReadAllBytes(rngPath);
            using var t = tensor(bytes, ScalarType.Byte);
            set_rng_state(t);
        }
        foreach (var cb in CallbackHandler.Callbacks.OfType<IExportableState>().Append(Control))
            if (State.StatefulCallbacks.TryGetValue(cb.GetType().Name, out var s)) cb.RestoreState(s);
    }
}
