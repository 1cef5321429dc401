using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Tokenizers;
using Microsoft.ML.Transformers.Training;
using TorchSharp;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>What the fine-tuning trainers share: the checkpoint, the text and label columns, the Trainer's arguments.</summary>
public abstract class FineTuneTextOptions
{
    /// <summary>The checkpoint folder to start from (config.json, tokenizer files, model.safetensors). A classifier head whose
    /// size differs from the task's is newly initialized (Hugging Face's ignore_mismatched_sizes).</summary>
    public string ModelFolder { get; set; } = "";
    public string TextColumnName { get; set; } = "Text";
    /// <summary>A second text column: the model is trained on (text, text pair).</summary>
    public string? PairColumnName { get; set; }
    public string LabelColumnName { get; set; } = "Label";
    public string ScoreColumnName { get; set; } = "Score";
    /// <summary>Texts are cut to this many tokens (default: the tokenizer's model_max_length, else the config's max_position_embeddings).</summary>
    public int? MaxLength { get; set; }
    /// <summary>Rows evaluated during training (eval_strategy) and at the end; same columns as the training data.</summary>
    public IDataView? ValidationSet { get; set; }
    /// <summary>The Trainer's arguments; OutputDir is where the fine-tuned model is saved.</summary>
    public TrainingArguments TrainingArguments { get; set; } = new();
    /// <summary>Added to the Trainer's callbacks (they see every Hugging Face event).</summary>
    public IList<TrainerCallback> Callbacks { get; set; } = [];
    /// <summary>Rows per batch of the returned transformer.</summary>
    public int BatchSize { get; set; } = 32;
}

/// <summary>
/// Fine-tunes a sequence-classification checkpoint on the rows of an <see cref="IDataView"/> with the <see cref="Trainer"/>,
/// saves it to <c>TrainingArguments.OutputDir</c> (checkpoints beside it in checkpoint-N folders) and returns a transformer
/// over the saved folder. Progress goes to the MLContext's channel (<c>mlContext.Log</c>) as well as to the user's
/// <see cref="TrainerCallback"/>s. The task (the label column, the head's problem_type, the metrics, the transformer)
/// is the subclass's: <see cref="FineTuneTextClassificationTrainer"/>, <see cref="FineTuneTextRegressionTrainer"/>.
/// </summary>
public abstract class FineTuneTextTrainer<TTransformer, TOptions> : IEstimator<TTransformer>
    where TTransformer : PipelineTransformer
    where TOptions : FineTuneTextOptions
{
    private readonly IHostEnvironment _env;

    private protected FineTuneTextTrainer(IHostEnvironment env, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        PipelineEstimatorChecks.CheckModelFolder(options.ModelFolder);
        ArgumentNullException.ThrowIfNull(options.TrainingArguments);
        if (string.IsNullOrWhiteSpace(options.TrainingArguments.OutputDir))
            throw new ArgumentException("TrainingArguments.OutputDir is empty: it is the folder the fine-tuned model is saved to.", nameof(options));
        _env = env;
        TrainerOptions = options;
    }

    private protected TOptions TrainerOptions { get; }

    /// <summary>The fine-tuned model's Trainer result: global step, training loss, metrics (set by <see cref="Fit(IDataView)"/>).</summary>
    public TrainOutput? TrainOutput { get; private set; }

    /// <summary>The last evaluation's metrics on the validation set (eval_loss and the task's metrics), if one was given.</summary>
    public IReadOnlyDictionary<string, double>? ValidationMetrics { get; private set; }

    // ---- the task's part ----

    /// <summary>Hugging Face's problem_type written into the fine-tuned config.</summary>
    private protected abstract string ProblemType { get; }

    /// <summary>Checks the label column and returns the head's label names (id2label, in output order).</summary>
    private protected abstract string[] CheckLabel(DataViewSchema schema, string what);

    /// <summary>Checks the label column of a schema shape (GetOutputSchema).</summary>
    private protected abstract void CheckLabel(SchemaShape.Column label);

    /// <summary>A reader of the current row's label: null for a missing label (the row is skipped, as ML.NET's trainers do),
    /// else the example <paramref name="row"/>'s tokens make, labelled.</summary>
    private protected abstract Func<Func<TrainingExample>, TrainingExample?> LabelReader(DataViewRow row, DataViewSchema.Column label);

    /// <summary>compute_metrics of the Trainer's evaluations.</summary>
    private protected abstract IReadOnlyDictionary<string, double> ComputeMetrics(EvalPrediction p);

    /// <summary>The columns the fitted transformer adds, as far as they are known before Fit.</summary>
    private protected abstract DataViewSchema AddedColumns();

    /// <summary>The transformer over the fine-tuned folder.</summary>
    private protected abstract TTransformer CreateTransformer(string folder, string? device);

    // ---- shared ----

    public TTransformer Fit(IDataView input) => Fit(input, CancellationToken.None);

    public TTransformer Fit(IDataView input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = TrainerOptions;
        var labels = CheckColumns(input.Schema, "training data");
        if (o.ValidationSet is { } vs)
        {
            var vl = CheckColumns(vs.Schema, "ValidationSet");
            if (!vl.SequenceEqual(labels))
                throw new ArgumentException($"ValidationSet's label column '{o.LabelColumnName}' has keys [{string.Join(", ", vl)}]; the training data's are [{string.Join(", ", labels)}]. Map both with the same MapValueToKey transformer.");
        }
        var args = o.ValidationSet is null && o.TrainingArguments.EvalStrategy != IntervalStrategy.No
            ? throw new ArgumentException($"TrainingArguments.EvalStrategy is {TrainingArguments.Name(o.TrainingArguments.EvalStrategy)} but Options.ValidationSet is not set.")
            : o.TrainingArguments;

        var host = _env.Register(GetType().Name);
        using var ch = host.Start("Fine-tuning");
        var tokenizer = AutoTokenizer.FromPretrained(o.ModelFolder);
        var config = AutoConfig.FromPretrained(o.ModelFolder);
        int maxLength = o.MaxLength ?? tokenizer.ModelMaxLength ?? config.GetOrDefault("max_position_embeddings", 512);
        var train = ReadExamples(input, tokenizer, maxLength);
        if (train.Count == 0) throw new InvalidOperationException($"The training data has no row with a label in column '{o.LabelColumnName}'.");
        var eval = o.ValidationSet is null ? null : ReadExamples(o.ValidationSet, tokenizer, maxLength);
        Info(ch, $"{train.Count} training rows, {eval?.Count ?? 0} validation rows, {ProblemType} with {labels.Length} output(s): {string.Join(", ", labels)}; max length {maxLength} tokens.");

        using var model = InitModel(config, labels, ProblemType, ch);
        var callbacks = new List<TrainerCallback>(o.Callbacks) { new ChannelCallback(ch) };
        var trainer = new Trainer(model, args, train, eval, tokenizer, computeMetrics: ComputeMetrics, callbacks: callbacks);
        TrainOutput = trainer.Train(cancellationToken: cancellationToken);
        if (eval is not null) ValidationMetrics = trainer.Evaluate();
        trainer.SaveModel(args.OutputDir);
        Info(ch, $"Saved the fine-tuned model to {args.OutputDir}.");
        return CreateTransformer(args.OutputDir, args.Device);
    }

    /// <summary>The config with <paramref name="labels"/> as id2label and the task's problem_type; the checkpoint's weights
    /// copied where names and shapes match.</summary>
    private static PreTrainedModel InitModel(PretrainedConfig config, string[] labels, string problemType, IChannel ch)
    {
        var source = config.Source is { } s ? Path.GetDirectoryName(s) ?? s : null;
        config.Id2Label = labels.Select((l, i) => (l, i)).ToDictionary(p => p.i, p => p.l);
        config.ProblemType = problemType;
        var model = AutoModelForSequenceClassification.FromConfig(config);
        if (source is null) return model;
        // Load the checkpoint as it is, then copy what fits: a head of another size stays newly initialized.
        var original = AutoConfig.FromPretrained(source);
        using var pretrained = AutoModelForSequenceClassification.FromConfig(original);
        var info = pretrained.LoadWeights(source);
        var theirs = pretrained.state_dict();
        var skipped = new List<string>(info.MissingKeys);
        using (torch.no_grad())
        {
            foreach (var (name, t) in model.state_dict())
            {
                if (theirs.TryGetValue(name, out var w) && w.shape.SequenceEqual(t.shape) && !info.MissingKeys.Contains(name)) t.copy_(w);
                else if (!skipped.Contains(name)) skipped.Add(name);
            }
        }
        if (skipped.Count > 0) Info(ch, $"Newly initialized (not in the checkpoint or of another shape): {string.Join(", ", skipped)}.");
        return model;
    }

    private List<TrainingExample> ReadExamples(IDataView data, Tokenizer tokenizer, int maxLength)
    {
        var o = TrainerOptions;
        var schema = data.Schema;
        var cols = new List<DataViewSchema.Column> { schema[o.TextColumnName], schema[o.LabelColumnName] };
        if (o.PairColumnName is not null) cols.Add(schema[o.PairColumnName]);
        var truncation = new TruncationOptions(maxLength);
        var rows = new List<TrainingExample>();
        using var cursor = data.GetRowCursor(cols);
        var text = cursor.GetGetter<ReadOnlyMemory<char>>(schema[o.TextColumnName]);
        var pair = o.PairColumnName is null ? null : cursor.GetGetter<ReadOnlyMemory<char>>(schema[o.PairColumnName]);
        var label = LabelReader(cursor, schema[o.LabelColumnName]);
        ReadOnlyMemory<char> t = default, p = default;
        TrainingExample Tokens()
        {
            text(ref t);
            pair?.Invoke(ref p);
            var enc = tokenizer.Encode(t.ToString(), pair is null ? null : p.ToString(), truncation: truncation);
            return new TrainingExample
            {
                InputIds = enc.Ids.Select(i => (long)i).ToArray(),
                AttentionMask = enc.AttentionMask.Select(i => (long)i).ToArray(),
                TokenTypeIds = enc.TypeIds.Select(i => (long)i).ToArray(),
            };
        }
        while (cursor.MoveNext())
            if (label(Tokens) is { } example) rows.Add(example);
        return rows;
    }

    private string[] CheckColumns(DataViewSchema schema, string what)
    {
        foreach (var name in TextColumns())
        {
            var c = schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Column '{name}' not found in the {what}.");
            if (c.Type is not TextDataViewType) throw new ArgumentOutOfRangeException(nameof(schema), $"Column '{name}' of the {what}: expected Text, found {c.Type}.");
        }
        if (schema.GetColumnOrNull(TrainerOptions.LabelColumnName) is null)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Label column '{TrainerOptions.LabelColumnName}' not found in the {what}.");
        return CheckLabel(schema, what);
    }

    private string[] TextColumns() => TrainerOptions.PairColumnName is { } pair ? [TrainerOptions.TextColumnName, pair] : [TrainerOptions.TextColumnName];

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        foreach (var name in TextColumns())
        {
            var c = inputSchema.FirstOrDefault(c => c.Name == name);
            if (c.Name is null) throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Column '{name}' not found.");
            if (c.ItemType is not TextDataViewType || c.Kind != SchemaShape.Column.VectorKind.Scalar)
                throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Column '{name}': expected Text, found {c.ItemType}.");
        }
        var l = inputSchema.FirstOrDefault(c => c.Name == TrainerOptions.LabelColumnName);
        if (l.Name is null) throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Label column '{TrainerOptions.LabelColumnName}' not found.");
        CheckLabel(l);
        var added = AddedColumns();
        var names = added.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        return new SchemaShape(inputSchema.Where(c => !names.Contains(c.Name)).Concat(MLNetPersistence.ShapeOf(added)));
    }

    private protected static void Info(IChannel ch, string message) => ch.Info(MessageSensitivity.None, message);

    /// <summary>Sends the Trainer's logs and evaluations to the ML.NET channel (what mlContext.Log subscribers see).</summary>
    private sealed class ChannelCallback(IChannel ch) : TrainerCallback
    {
        public override void OnTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) =>
            Info(ch, $"Training: {state.MaxSteps} steps, {state.NumTrainEpochs} epochs, batch {args.PerDeviceTrainBatchSize}.");

        public override void OnLog(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
        {
            if (e.Logs is null) return;
            Info(ch, $"step {state.GlobalStep}/{state.MaxSteps} epoch {state.Epoch?.ToString("0.##", CultureInfo.InvariantCulture)}: " +
                string.Join(", ", e.Logs.Select(kv => $"{kv.Key}={kv.Value.ToString("G5", CultureInfo.InvariantCulture)}")));
        }

        public override void OnSave(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) =>
            Info(ch, $"Saved checkpoint-{state.GlobalStep}.");

        public override void OnTrainEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) =>
            Info(ch, $"Training done at step {state.GlobalStep}" + (state.BestModelCheckpoint is { } b ? $"; best checkpoint {b} ({state.BestMetric})." : "."));
    }
}
