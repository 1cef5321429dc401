using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Training;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// Fine-tunes a sequence-classification checkpoint as a regressor on the rows of an <see cref="IDataView"/> with the
/// <see cref="Trainer"/>: <c>mlContext.Regression.Trainers.FineTuneTextRegression(modelFolder, outputFolder, ...)</c>.
/// The head gets one output (num_labels 1, problem_type "regression": MSE loss, as Hugging Face); the label column is a
/// Single (rows whose label is NaN are skipped, as ML.NET's trainers do). The fitted <see cref="TextRegressionTransformer"/>
/// adds a scalar float Score that <c>mlContext.Regression.Evaluate</c> reads. The fine-tuned model is saved to
/// <c>TrainingArguments.OutputDir</c>; progress goes to <c>mlContext.Log</c> and to the user's <see cref="TrainerCallback"/>s.
/// </summary>
public sealed class FineTuneTextRegressionTrainer : FineTuneTextTrainer<TextRegressionTransformer, FineTuneTextRegressionTrainer.Options>
{
    public sealed class Options : FineTuneTextOptions { }

    internal FineTuneTextRegressionTrainer(IHostEnvironment env, Options options) : base(env, options) { }

    private protected override string ProblemType => "regression";

    private protected override IReadOnlyDictionary<string, double> ComputeMetrics(EvalPrediction p) => MeanSquaredError(p);

    /// <summary>mse of the predictions (what the Hugging Face text-classification example computes for a regression task).</summary>
    public static IReadOnlyDictionary<string, double> MeanSquaredError(EvalPrediction p)
    {
        var pred = p.Predictions.Data;
        var gold = p.LabelIds!.Data;
        double sum = 0;
        for (int i = 0; i < pred.Length; i++) sum += ((double)pred[i] - gold[i]) * ((double)pred[i] - gold[i]);
        return new Dictionary<string, double> { ["mse"] = pred.Length == 0 ? 0 : sum / pred.Length };
    }

    private protected override Func<Func<TrainingExample>, TrainingExample?> LabelReader(DataViewRow row, DataViewSchema.Column label)
    {
        var getter = row.GetGetter<float>(label);
        float value = 0;
        return tokens =>
        {
            getter(ref value);
            return float.IsNaN(value) ? null : tokens() with { LabelValues = [value] };
        };
    }

    private protected override TextRegressionTransformer CreateTransformer(string folder, string? device)
    {
        var o = TrainerOptions;
        return new TextRegressionTransformer(new TextRegressionEstimator.Options
        {
            ModelFolder = folder,
            Engine = Engine.LibTorch,
            Device = device,
            InputColumnName = o.TextColumnName,
            PairColumnName = o.PairColumnName,
            ScoreColumnName = o.ScoreColumnName,
            BatchSize = o.BatchSize,
        }, ownsFolder: false);
    }

    /// <summary>One output, named as Hugging Face names it.</summary>
    private protected override string[] CheckLabel(DataViewSchema schema, string what)
    {
        var lc = schema[TrainerOptions.LabelColumnName];
        if (lc.Type != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Label column '{TrainerOptions.LabelColumnName}' of the {what}: expected Single " +
                $"(convert it with mlContext.Transforms.Conversion.ConvertType), found {lc.Type}.");
        return ["LABEL_0"];
    }

    private protected override void CheckLabel(SchemaShape.Column l)
    {
        if (l.Kind != SchemaShape.Column.VectorKind.Scalar || l.ItemType != NumberDataViewType.Single || l.IsKey)
            throw new ArgumentOutOfRangeException("inputSchema", $"Label column '{TrainerOptions.LabelColumnName}': expected Single, found {l.ItemType}.");
    }

    private protected override DataViewSchema AddedColumns()
    {
        var added = new DataViewSchema.Builder();
        added.AddColumn(TrainerOptions.ScoreColumnName, NumberDataViewType.Single, Columns.ScoreKind("Regression"));
        return added.ToSchema();
    }
}
