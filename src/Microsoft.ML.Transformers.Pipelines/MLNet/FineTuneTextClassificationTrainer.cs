using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Tokenizers;
using Microsoft.ML.Transformers.Training;
using TorchSharp;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// Fine-tunes a sequence-classification checkpoint on the rows of an <see cref="IDataView"/> with the
/// <see cref="Trainer"/>: <c>mlContext.MulticlassClassification.Trainers.FineTuneTextClassification(modelFolder, ...)</c>.
/// The label column is key-typed (as <c>MapValueToKey</c> makes it); its key values become the model's id2label, so the
/// fitted <see cref="TextClassificationTransformer"/> scores in key order and <c>MulticlassClassification.Evaluate</c> reads
/// its Score and PredictedLabel. The fine-tuned model (config.json with the label names, model.safetensors, tokenizer files)
/// is saved to <c>TrainingArguments.OutputDir</c>, checkpoints beside it in checkpoint-N folders. Progress goes to the
/// MLContext's channel (<c>mlContext.Log</c>) as well as to the user's <see cref="TrainerCallback"/>s.
/// </summary>
public sealed class FineTuneTextClassificationTrainer : IEstimator<TextClassificationTransformer>
{
    public sealed class Options
    {
        /// <summary>The checkpoint folder to start from (config.json, tokenizer files, model.safetensors). A classifier head whose
        /// size differs from the label count is newly initialized (Hugging Face's ignore_mismatched_sizes).</summary>
        public string ModelFolder { get; set; } = "";
        public string TextColumnName { get; set; } = "Text";
        /// <summary>A second text column: the model is trained on (text, text pair).</summary>
        public string? PairColumnName { get; set; }
        /// <summary>A key-typed column (<c>MapValueToKey</c>); rows with a missing key are skipped, as ML.NET's trainers do.</summary>
        public string LabelColumnName { get; set; } = "Label";
        public string ScoreColumnName { get; set; } = "Score";
        public string PredictedLabelColumnName { get; set; } = "PredictedLabel";
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

    private readonly IHostEnvironment _env;
    private readonly Options _options;

    internal FineTuneTextClassificationTrainer(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        PipelineEstimatorChecks.CheckModelFolder(options.ModelFolder);
        ArgumentNullException.ThrowIfNull(options.TrainingArguments);
        if (string.IsNullOrWhiteSpace(options.TrainingArguments.OutputDir))
            throw new ArgumentException("TrainingArguments.OutputDir is empty: it is the folder the fine-tuned model is saved to.", nameof(options));
        _env = env;
        _options = options;
    }

    /// <summary>The fine-tuned model's Trainer result: global step, training loss, metrics (set by <see cref="Fit"/>).</summary>
    public TrainOutput? TrainOutput { get; private set; }

    /// <summary>The last evaluation's metrics on <see cref="Options.ValidationSet"/> (eval_loss, eval_accuracy, ...), if one was given.</summary>
    public IReadOnlyDictionary<string, double>? ValidationMetrics { get; private set; }

    public TextClassificationTransformer Fit(IDataView input) => Fit(input, CancellationToken.None);

    public TextClassificationTransformer Fit(IDataView input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = _options;
        var labels = CheckSchema(input.Schema, "training data");
        if (o.ValidationSet is { } vs)
        {
            var vl = CheckSchema(vs.Schema, "ValidationSet");
            if (!vl.SequenceEqual(labels))
                throw new ArgumentException($"ValidationSet's label column '{o.LabelColumnName}' has keys [{string.Join(", ", vl)}]; the training data's are [{string.Join(", ", labels)}]. Map both with the same MapValueToKey transformer.");
        }

        var host = _env.Register(nameof(FineTuneTextClassificationTrainer));
        using var ch = host.Start("Fine-tuning");
        var tokenizer = AutoTokenizer.FromPretrained(o.ModelFolder);
        var config = AutoConfig.FromPretrained(o.ModelFolder);
        int maxLength = o.MaxLength ?? tokenizer.ModelMaxLength ?? config.GetOrDefault("max_position_embeddings", 512);
        var train = ReadExamples(input, tokenizer, maxLength);
        if (train.Count == 0) throw new InvalidOperationException($"The training data has no row with a label in column '{o.LabelColumnName}'.");
        var eval = o.ValidationSet is null ? null : ReadExamples(o.ValidationSet, tokenizer, maxLength);
        Info(ch, $"{train.Count} training rows, {eval?.Count ?? 0} validation rows, {labels.Length} classes: {string.Join(", ", labels)}; max length {maxLength} tokens.");

        using var model = InitModel(config, labels, ch);
        var args = o.ValidationSet is null && o.TrainingArguments.EvalStrategy != IntervalStrategy.No
            ? throw new ArgumentException($"TrainingArguments.EvalStrategy is {TrainingArguments.Name(o.TrainingArguments.EvalStrategy)} but Options.ValidationSet is not set.")
            : o.TrainingArguments;
        var callbacks = new List<TrainerCallback>(o.Callbacks) { new ChannelCallback(ch) };
        var trainer = new Trainer(model, args, train, eval, tokenizer, computeMetrics: Accuracy, callbacks: callbacks);
        TrainOutput = trainer.Train(cancellationToken: cancellationToken);
        if (eval is not null) ValidationMetrics = trainer.Evaluate();
        trainer.SaveModel(args.OutputDir);
        Info(ch, $"Saved the fine-tuned model to {args.OutputDir}.");

        return new TextClassificationTransformer(new TextClassificationEstimator.Options
        {
            ModelFolder = args.OutputDir,
            Engine = Engine.LibTorch,
            Device = args.Device,
            InputColumnName = o.TextColumnName,
            PairColumnName = o.PairColumnName,
            ScoreColumnName = o.ScoreColumnName,
            PredictedLabelColumnName = o.PredictedLabelColumnName,
            BatchSize = o.BatchSize,
        }, ownsFolder: false);
    }

    /// <summary>accuracy over argmax of the logits (what the Hugging Face text-classification examples compute).</summary>
    public static IReadOnlyDictionary<string, double> Accuracy(EvalPrediction p)
    {
        var pred = p.Predictions.ArgMaxLast();
        var gold = p.LabelIds!.Data;
        int right = 0;
        for (int i = 0; i < pred.Length; i++) if (pred[i] == (long)gold[i]) right++;
        return new Dictionary<string, double> { ["accuracy"] = pred.Length == 0 ? 0 : (double)right / pred.Length };
    }

    /// <summary>The config with the key values as id2label; the checkpoint's weights copied where names and shapes match.</summary>
    private static PreTrainedModel InitModel(PretrainedConfig config, string[] labels, IChannel ch)
    {
        var source = config.Source is { } s ? Path.GetDirectoryName(s) ?? s : null;
        config.Id2Label = labels.Select((l, i) => (l, i)).ToDictionary(p => p.i, p => p.l);
        config.ProblemType = "single_label_classification";
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
        var o = _options;
        var schema = data.Schema;
        var cols = new List<DataViewSchema.Column> { schema[o.TextColumnName], schema[o.LabelColumnName] };
        if (o.PairColumnName is not null) cols.Add(schema[o.PairColumnName]);
        var truncation = new TruncationOptions(maxLength);
        var rows = new List<TrainingExample>();
        using var cursor = data.GetRowCursor(cols);
        var text = cursor.GetGetter<ReadOnlyMemory<char>>(schema[o.TextColumnName]);
        var pair = o.PairColumnName is null ? null : cursor.GetGetter<ReadOnlyMemory<char>>(schema[o.PairColumnName]);
        var label = cursor.GetGetter<uint>(schema[o.LabelColumnName]);
        ReadOnlyMemory<char> t = default, p = default;
        uint key = 0;
        while (cursor.MoveNext())
        {
            label(ref key);
            if (key == 0) continue;   // missing label
            text(ref t);
            pair?.Invoke(ref p);
            var enc = tokenizer.Encode(t.ToString(), pair is null ? null : p.ToString(), truncation: truncation);
            rows.Add(new TrainingExample
            {
                InputIds = enc.Ids.Select(i => (long)i).ToArray(),
                AttentionMask = enc.AttentionMask.Select(i => (long)i).ToArray(),
                TokenTypeIds = enc.TypeIds.Select(i => (long)i).ToArray(),
                Label = key - 1,
            });
        }
        return rows;
    }

    /// <summary>Checks the columns and returns the label key's values as strings (the class names, in key order).</summary>
    private string[] CheckSchema(DataViewSchema schema, string what)
    {
        var o = _options;
        foreach (var name in o.PairColumnName is null ? [o.TextColumnName] : new[] { o.TextColumnName, o.PairColumnName })
        {
            var c = schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Column '{name}' not found in the {what}.");
            if (c.Type is not TextDataViewType) throw new ArgumentOutOfRangeException(nameof(schema), $"Column '{name}' of the {what}: expected Text, found {c.Type}.");
        }
        var lc = schema.GetColumnOrNull(o.LabelColumnName) ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Label column '{o.LabelColumnName}' not found in the {what}.");
        if (lc.Type is not KeyDataViewType kt || kt.RawType != typeof(uint))
            throw new ArgumentOutOfRangeException(nameof(schema), $"Label column '{o.LabelColumnName}' of the {what}: expected Key<UInt32> (map it with mlContext.Transforms.Conversion.MapValueToKey), found {lc.Type}.");
        int n = checked((int)kt.Count);
        var names = Enumerable.Range(0, n).Select(i => $"LABEL_{i}").ToArray();
        if (lc.HasKeyValues())
        {
            var valuesType = lc.Annotations.Schema["KeyValues"].Type;
            var itemType = (valuesType as VectorDataViewType)?.ItemType;
            if (itemType is TextDataViewType)
            {
                VBuffer<ReadOnlyMemory<char>> values = default;
                lc.GetKeyValues(ref values);
                int i = 0;
                foreach (var v in values.DenseValues()) names[i++] = v.ToString();
            }
            else if (itemType is not null)
            {
                // numeric keys (MapValueToKey over a number column): their invariant text
                var method = typeof(FineTuneTextClassificationTrainer).GetMethod(nameof(KeyValueNames), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                    .MakeGenericMethod(itemType.RawType);
                names = (string[])method.Invoke(null, [lc, n])!;
            }
        }
        return names;
    }

    private static string[] KeyValueNames<T>(DataViewSchema.Column c, int n)
    {
        VBuffer<T> values = default;
        c.GetKeyValues(ref values);
        var r = new string[n];
        int i = 0;
        foreach (var v in values.DenseValues()) r[i++] = Convert.ToString(v, CultureInfo.InvariantCulture) ?? $"LABEL_{i - 1}";
        return r;
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var o = _options;
        foreach (var name in o.PairColumnName is null ? [o.TextColumnName] : new[] { o.TextColumnName, o.PairColumnName })
        {
            var c = inputSchema.FirstOrDefault(c => c.Name == name);
            if (c.Name is null) throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Column '{name}' not found.");
            if (c.ItemType is not TextDataViewType || c.Kind != SchemaShape.Column.VectorKind.Scalar)
                throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Column '{name}': expected Text, found {c.ItemType}.");
        }
        var l = inputSchema.FirstOrDefault(c => c.Name == o.LabelColumnName);
        if (l.Name is null) throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Label column '{o.LabelColumnName}' not found.");
        if (!l.IsKey) throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Label column '{o.LabelColumnName}': expected a key (MapValueToKey), found {l.ItemType}.");
        // The class count is only known once Fit has read the data: the shape says "a vector of floats" and "a key", as ML.NET's trainers do.
        var added = new DataViewSchema.Builder();
        added.AddColumn(o.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single));
        // PredictedLabel carries the label's key values (MapKeyToValue needs them); a placeholder count of 1, as the shape keeps none.
        var keyValues = new DataViewSchema.Annotations.Builder();
        keyValues.Add("KeyValues", new VectorDataViewType(TextDataViewType.Instance, 1), (ref VBuffer<ReadOnlyMemory<char>> v) => v = new VBuffer<ReadOnlyMemory<char>>(1, [ReadOnlyMemory<char>.Empty]));
        added.AddColumn(o.PredictedLabelColumnName, new KeyDataViewType(typeof(uint), 1), keyValues.ToAnnotations());
        var cols = inputSchema.Where(c => c.Name != o.ScoreColumnName && c.Name != o.PredictedLabelColumnName).Concat(MLNetPersistence.ShapeOf(added.ToSchema()));
        return new SchemaShape(cols);
    }

    private static void Info(IChannel ch, string message) => ch.Info(MessageSensitivity.None, message);

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
