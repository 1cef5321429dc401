using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Training;

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
public sealed class FineTuneTextClassificationTrainer : FineTuneTextTrainer<TextClassificationTransformer, FineTuneTextClassificationTrainer.Options>
{
    public sealed class Options : FineTuneTextOptions
    {
        public string PredictedLabelColumnName { get; set; } = "PredictedLabel";
    }

    internal FineTuneTextClassificationTrainer(IHostEnvironment env, Options options) : base(env, options) { }

    private protected override string ProblemType => "single_label_classification";

    private protected override IReadOnlyDictionary<string, double> ComputeMetrics(EvalPrediction p) => Accuracy(p);

    /// <summary>accuracy over argmax of the logits (what the Hugging Face text-classification examples compute).</summary>
    public static IReadOnlyDictionary<string, double> Accuracy(EvalPrediction p)
    {
        var pred = p.Predictions.ArgMaxLast();
        var gold = p.LabelIds!.Data;
        int right = 0;
        for (int i = 0; i < pred.Length; i++) if (pred[i] == (long)gold[i]) right++;
        return new Dictionary<string, double> { ["accuracy"] = pred.Length == 0 ? 0 : (double)right / pred.Length };
    }

    /// <summary>Key 0 is a missing label (the row is skipped); key k is class k-1.</summary>
    private protected override Func<Func<TrainingExample>, TrainingExample?> LabelReader(DataViewRow row, DataViewSchema.Column label)
    {
        var getter = row.GetGetter<uint>(label);
        uint key = 0;
        return tokens =>
        {
            getter(ref key);
            return key == 0 ? null : tokens() with { Label = key - 1 };
        };
    }

    private protected override TextClassificationTransformer CreateTransformer(string folder, string? device)
    {
        var o = TrainerOptions;
        return new TextClassificationTransformer(new TextClassificationEstimator.Options
        {
            ModelFolder = folder,
            Engine = Engine.LibTorch,
            Device = device,
            InputColumnName = o.TextColumnName,
            PairColumnName = o.PairColumnName,
            ScoreColumnName = o.ScoreColumnName,
            PredictedLabelColumnName = o.PredictedLabelColumnName,
            BatchSize = o.BatchSize,
        }, ownsFolder: false);
    }

    /// <summary>Checks the label is a key and returns its key values as strings (the class names, in key order).</summary>
    private protected override string[] CheckLabel(DataViewSchema schema, string what)
    {
        var o = TrainerOptions;
        var lc = schema[o.LabelColumnName];
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

    private protected override void CheckLabel(SchemaShape.Column l)
    {
        if (!l.IsKey) throw new ArgumentOutOfRangeException("inputSchema", $"Label column '{TrainerOptions.LabelColumnName}': expected a key (MapValueToKey), found {l.ItemType}.");
    }

    /// <summary>The class count is only known once Fit has read the data: the shape says "a vector of floats" and "a key", as ML.NET's trainers do.</summary>
    private protected override DataViewSchema AddedColumns()
    {
        var o = TrainerOptions;
        var added = new DataViewSchema.Builder();
        added.AddColumn(o.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single));
        // PredictedLabel carries the label's key values (MapKeyToValue needs them); a placeholder count of 1, as the shape keeps none.
        var keyValues = new DataViewSchema.Annotations.Builder();
        keyValues.Add("KeyValues", new VectorDataViewType(TextDataViewType.Instance, 1), (ref VBuffer<ReadOnlyMemory<char>> v) => v = new VBuffer<ReadOnlyMemory<char>>(1, [ReadOnlyMemory<char>.Empty]));
        added.AddColumn(o.PredictedLabelColumnName, new KeyDataViewType(typeof(uint), 1), keyValues.ToAnnotations());
        return added.ToSchema();
    }
}
