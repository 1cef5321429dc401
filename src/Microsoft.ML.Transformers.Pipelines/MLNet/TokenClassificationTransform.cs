using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Pipelines;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// token-classification (NER) as an ML.NET estimator. Adds five parallel variable-length vectors, one entry per entity:
/// <c>Entity</c> (label, or entity group with aggregation), <c>Word</c>, <c>Score</c>, <c>Start</c> and <c>End</c>
/// (character offsets into the text).
/// </summary>
public sealed class TokenClassificationEstimator : PipelineEstimator<TokenClassificationTransformer, TokenClassificationEstimator.Options>
{
    public sealed class Options : PipelineTransformerOptions
    {
        public string InputColumnName { get; set; } = "Text";
        /// <summary>Hugging Face's aggregation_strategy (None: one entity per token, as Hugging Face's default).</summary>
        public AggregationStrategy AggregationStrategy { get; set; } = AggregationStrategy.None;
        /// <summary>Labels left out; null for Hugging Face's ["O"].</summary>
        public string[]? IgnoreLabels { get; set; }
        /// <summary>Process texts longer than the model in windows overlapping by this many tokens (needs an aggregation strategy).</summary>
        public int? Stride { get; set; }
        public string EntityColumnName { get; set; } = "Entity";
        public string WordColumnName { get; set; } = "Word";
        public string ScoreColumnName { get; set; } = "Score";
        public string StartColumnName { get; set; } = "Start";
        public string EndColumnName { get; set; } = "End";
    }

    public TokenClassificationEstimator(Options options)
        : base(options, o => new TokenClassificationTransformer(o, ownsFolder: false), TokenClassificationMapper.Create) { }
}

public sealed class TokenClassificationTransformer : PipelineTransformer
{
    internal TokenClassificationTransformer(TokenClassificationEstimator.Options options, bool ownsFolder)
        : base("token-classification", options, c => TokenClassificationMapper.Create(options, c), ownsFolder) { }
}

internal sealed class TokenClassificationMapper : TaskMapper<IReadOnlyList<TokenClassificationResult>>
{
    private readonly TokenClassificationEstimator.Options _options;

    private TokenClassificationMapper(TokenClassificationEstimator.Options o)
        : base("TokenClassification", [o.InputColumnName],
        [
            Columns.TextVector<IReadOnlyList<TokenClassificationResult>>(o.EntityColumnName, 0, r => r.Select(e => e.Entity).ToArray()),
            Columns.TextVector<IReadOnlyList<TokenClassificationResult>>(o.WordColumnName, 0, r => r.Select(e => e.Word).ToArray()),
            Columns.Vector<IReadOnlyList<TokenClassificationResult>, float>(o.ScoreColumnName, NumberDataViewType.Single, 0, r => r.Select(e => (float)e.Score).ToArray()),
            Columns.Vector<IReadOnlyList<TokenClassificationResult>, int>(o.StartColumnName, NumberDataViewType.Int32, 0, r => r.Select(e => e.Start).ToArray()),
            Columns.Vector<IReadOnlyList<TokenClassificationResult>, int>(o.EndColumnName, NumberDataViewType.Int32, 0, r => r.Select(e => e.End).ToArray()),
        ])
    {
        _options = o;
    }

    public static TaskMapper Create(TokenClassificationEstimator.Options o, PretrainedConfig config)
    {
        PipelineEstimatorChecks.Range(nameof(o.Stride), o.Stride, 0);
        if (o.Stride is int s && o.AggregationStrategy == AggregationStrategy.None)
            throw new ArgumentException($"Stride ({s}) needs an AggregationStrategy other than None to merge the windows' tokens.", nameof(o.Stride));
        return new TokenClassificationMapper(o);
    }

    protected override IReadOnlyList<IReadOnlyList<TokenClassificationResult>> RunRows(Pipeline pipeline, IReadOnlyList<string[]> rows)
    {
        var pipe = (TokenClassificationPipeline)pipeline;
        return pipe.RunBatch(rows.Select(r => r[0]).ToList(), new TokenClassificationOptions
        {
            AggregationStrategy = _options.AggregationStrategy,
            IgnoreLabels = _options.IgnoreLabels,
            Stride = _options.Stride,
            Truncation = _options.Truncation,   // with a stride, windows cover the whole text instead
            BatchSize = _options.BatchSize,
        });
    }
}
