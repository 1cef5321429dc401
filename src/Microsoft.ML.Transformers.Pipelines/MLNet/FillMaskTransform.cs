using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Pipelines;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// fill-mask as an ML.NET estimator, for texts with one mask token (a row with several is an error naming it). Adds four parallel vectors, best candidate first:
/// <c>Sequence</c> (the filled-in text), <c>Token</c> (vocabulary id), <c>TokenStr</c> and <c>Score</c>. They hold
/// min(TopK, vocabulary) values (fixed size); with Targets, up to that many (variable size).
/// </summary>
public sealed class FillMaskEstimator : PipelineEstimator<FillMaskTransformer, FillMaskEstimator.Options>
{
    public sealed class Options : PipelineTransformerOptions
    {
        public string InputColumnName { get; set; } = "Text";
        public int TopK { get; set; } = 5;
        /// <summary>Only score these vocabulary tokens.</summary>
        public string[]? Targets { get; set; }
        public string SequenceColumnName { get; set; } = "Sequence";
        public string TokenColumnName { get; set; } = "Token";
        public string TokenStrColumnName { get; set; } = "TokenStr";
        public string ScoreColumnName { get; set; } = "Score";
    }

    public FillMaskEstimator(Options options)
        : base(options, o => new FillMaskTransformer(o, ownsFolder: false), FillMaskMapper.Create) { }
}

public sealed class FillMaskTransformer : PipelineTransformer
{
    internal FillMaskTransformer(FillMaskEstimator.Options options, bool ownsFolder)
        : base("fill-mask", options, c => FillMaskMapper.Create(options, c), ownsFolder) { }
}

internal sealed class FillMaskMapper : TaskMapper<IReadOnlyList<FillMaskResult>>
{
    private readonly FillMaskEstimator.Options _options;

    private FillMaskMapper(FillMaskEstimator.Options o, int size)
        : base("FillMask", [o.InputColumnName],
        [
            Columns.TextVector<IReadOnlyList<FillMaskResult>>(o.SequenceColumnName, size, r => r.Select(c => c.Sequence).ToArray()),
            Columns.Vector<IReadOnlyList<FillMaskResult>, int>(o.TokenColumnName, NumberDataViewType.Int32, size, r => r.Select(c => c.Token).ToArray()),
            Columns.TextVector<IReadOnlyList<FillMaskResult>>(o.TokenStrColumnName, size, r => r.Select(c => c.TokenStr).ToArray()),
            Columns.Vector<IReadOnlyList<FillMaskResult>, float>(o.ScoreColumnName, NumberDataViewType.Single, size, r => r.Select(c => (float)c.Score).ToArray()),
        ])
    {
        _options = o;
    }

    public static TaskMapper Create(FillMaskEstimator.Options o, PretrainedConfig config)
    {
        PipelineEstimatorChecks.Range(nameof(o.TopK), o.TopK, 1);
        if (o.Targets is { Length: 0 }) throw new ArgumentException("Targets is empty; give at least one target or leave it null.", nameof(o.Targets));
        int size = 0;   // variable: targets may share a token
        if (o.Targets is null)
        {
            int vocab = config.Get<int?>("vocab_size")
                ?? throw new ArgumentException($"'{config.Source ?? "config.json"}' has no vocab_size: FillMask needs it to declare the vector size.");
            size = Math.Min(o.TopK, vocab);
        }
        return new FillMaskMapper(o, size);
    }

    protected override IReadOnlyList<IReadOnlyList<FillMaskResult>> RunRows(Pipeline pipeline, IReadOnlyList<string[]> rows)
    {
        var pipe = (FillMaskPipeline)pipeline;
        var results = pipe.RunBatch(rows.Select(r => r[0]).ToList(), new FillMaskOptions
        {
            TopK = _options.TopK,
            Targets = _options.Targets,
            Truncation = _options.Truncation,
            BatchSize = _options.BatchSize,
        });
        for (int i = 0; i < results.Count; i++)
            if (results[i].Masks.Count != 1)
                throw new ArgumentException($"Column '{_options.InputColumnName}': the text \"{rows[i][0]}\" has {results[i].Masks.Count} mask tokens; " +
                    "the FillMask transform fills one mask per row (the pipeline's FillMaskResults.Masks gives one list per mask).");
        return results;
    }
}
