using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Pipelines;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// A sequence-classification checkpoint with one output (num_labels 1, problem_type "regression", as
/// <c>mlContext.Regression.Trainers.FineTuneTextRegression</c> writes) as an ML.NET regression transform:
/// <c>mlContext.Transforms.TextRegression(modelFolder, "Text")</c> adds <c>Score</c>, a scalar float, which
/// <c>mlContext.Regression.Evaluate</c> reads. A second text column makes text pairs (STS-style cross-encoders).
/// </summary>
public sealed class TextRegressionEstimator : PipelineEstimator<TextRegressionTransformer, TextRegressionEstimator.Options>
{
    public sealed class Options : PipelineTransformerOptions
    {
        public string InputColumnName { get; set; } = "Text";
        /// <summary>A second text column: the model scores (text, text pair).</summary>
        public string? PairColumnName { get; set; }
        public string ScoreColumnName { get; set; } = "Score";
        /// <summary>Applied to the model's output. None (default) gives the regressed value itself; Hugging Face's
        /// text-classification pipeline would apply sigmoid to a single output (Default or Sigmoid do that here).</summary>
        public ClassificationFunction FunctionToApply { get; set; } = ClassificationFunction.None;
    }

    public TextRegressionEstimator(Options options)
        : base(options, o => new TextRegressionTransformer(o, ownsFolder: false), TextRegressionMapper.Create) { }
}

public sealed class TextRegressionTransformer : PipelineTransformer
{
    /// <summary>The name model.zip records (the model runs in the text-classification pipeline).</summary>
    internal const string TaskName = "text-regression";

    internal TextRegressionTransformer(TextRegressionEstimator.Options options, bool ownsFolder)
        : base(TaskName, options, c => TextRegressionMapper.Create(options, c), ownsFolder, pipelineTask: "text-classification") { }
}

/// <summary>One row's regressed value.</summary>
internal sealed record RegressionScore(float Value);

internal sealed class TextRegressionMapper : TaskMapper<RegressionScore>
{
    private readonly TextRegressionEstimator.Options _options;

    private TextRegressionMapper(TextRegressionEstimator.Options o)
        : base("TextRegression", o.PairColumnName is null ? [o.InputColumnName] : [o.InputColumnName, o.PairColumnName],
            [Columns.Scalar<RegressionScore, float>(o.ScoreColumnName, NumberDataViewType.Single, r => r.Value, Columns.ScoreKind("Regression"))])
        => _options = o;

    public static TaskMapper Create(TextRegressionEstimator.Options o, PretrainedConfig config)
    {
        if (config.NumLabels != 1)
            throw new ArgumentException($"'{config.Source ?? PretrainedConfig.ConfigFileName}': TextRegression needs a head with one output (num_labels 1), " +
                $"found num_labels {config.NumLabels}; use TextClassification for a classifier.");
        return new TextRegressionMapper(o);
    }

    protected override IReadOnlyList<RegressionScore> RunRows(Pipeline pipeline, IReadOnlyList<string[]> rows)
    {
        var pipe = (TextClassificationPipeline)pipeline;
        var inputs = rows.Select(r => new TextInput(r[0], r.Length > 1 ? r[1] : null)).ToList();
        var results = pipe.RunBatch(inputs, new TextClassificationOptions
        {
            TopK = TextClassificationOptions.All,
            FunctionToApply = _options.FunctionToApply,
            Truncation = _options.Truncation,
            BatchSize = _options.BatchSize,
        });
        return results.Select(r => new RegressionScore((float)r.Single().Score)).ToList();
    }
}
