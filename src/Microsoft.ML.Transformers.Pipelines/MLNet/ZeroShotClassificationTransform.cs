using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Pipelines;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// zero-shot-classification as an ML.NET estimator: an NLI model scores each text against candidate labels fixed when the
/// estimator is made. Adds <c>Score</c> (one float per candidate label, in the order given, the labels as slot names) and
/// <c>PredictedLabel</c> (a key over the candidate labels).
/// </summary>
public sealed class ZeroShotClassificationEstimator : PipelineEstimator<ZeroShotClassificationTransformer, ZeroShotClassificationEstimator.Options>
{
    public sealed class Options : PipelineTransformerOptions
    {
        public string InputColumnName { get; set; } = "Text";
        /// <summary>Required: the classes to score every text against.</summary>
        public string[]? CandidateLabels { get; set; }
        /// <summary>Hugging Face's hypothesis_template; null for "This example is {}.".</summary>
        public string? HypothesisTemplate { get; set; }
        /// <summary>Score each label independently (entailment vs contradiction) instead of a softmax over the labels.</summary>
        public bool MultiLabel { get; set; }
        public string ScoreColumnName { get; set; } = "Score";
        public string PredictedLabelColumnName { get; set; } = "PredictedLabel";
    }

    public ZeroShotClassificationEstimator(Options options)
        : base(options, o => new ZeroShotClassificationTransformer(o, ownsFolder: false), ZeroShotClassificationMapper.Create) { }
}

public sealed class ZeroShotClassificationTransformer : PipelineTransformer
{
    internal ZeroShotClassificationTransformer(ZeroShotClassificationEstimator.Options options, bool ownsFolder)
        : base("zero-shot-classification", options, c => ZeroShotClassificationMapper.Create(options, c), ownsFolder) { }

    /// <summary>The candidate labels, in score-slot order.</summary>
    public IReadOnlyList<string> Labels => ((ZeroShotClassificationMapper)Mapper).Labels;
}

internal sealed class ZeroShotClassificationMapper : TaskMapper<ClassScores>
{
    private readonly ZeroShotClassificationEstimator.Options _options;
    private readonly Dictionary<string, int> _index;

    private ZeroShotClassificationMapper(ZeroShotClassificationEstimator.Options o, string[] labels)
        : base("ZeroShotClassification", [o.InputColumnName], TextClassificationMapper.ClassColumns(o.ScoreColumnName, o.PredictedLabelColumnName, labels))
    {
        _options = o;
        Labels = labels;
        _index = TextClassificationMapper.ClassIndex(labels, "CandidateLabels");
    }

    public IReadOnlyList<string> Labels { get; }

    public static TaskMapper Create(ZeroShotClassificationEstimator.Options o, PretrainedConfig config)
    {
        if (o.CandidateLabels is not { Length: > 0 } labels || labels.Any(string.IsNullOrEmpty))
            throw new ArgumentException("ZeroShotClassification needs CandidateLabels: one or more non-empty label strings.", nameof(o.CandidateLabels));
        if (o.HypothesisTemplate is { } t && !t.Contains("{}", StringComparison.Ordinal))
            throw new ArgumentException($"HypothesisTemplate \"{t}\" has no {{}} for the label.", nameof(o.HypothesisTemplate));
        return new ZeroShotClassificationMapper(o, labels.ToArray());
    }

    protected override IReadOnlyList<ClassScores> RunRows(Pipeline pipeline, IReadOnlyList<string[]> rows)
    {
        var pipe = (ZeroShotClassificationPipeline)pipeline;
        var results = pipe.RunBatch(rows.Select(r => r[0]).ToList(), new ZeroShotClassificationOptions
        {
            CandidateLabels = _options.CandidateLabels,
            HypothesisTemplate = _options.HypothesisTemplate,
            MultiLabel = _options.MultiLabel,
            Truncation = _options.Truncation,
            BatchSize = _options.BatchSize,
        });
        return results.Select(r => TextClassificationMapper.ToScores(r.Labels.Zip(r.Scores), _index)).ToList();
    }
}
