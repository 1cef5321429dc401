using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Pipelines;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// feature-extraction as an ML.NET estimator: adds <c>Features</c>, a fixed-size float vector of the model's hidden size
/// (mean pooling by default, so it feeds ML.NET trainers as it is). Pooling None gives every token's vector, flattened
/// [tokens × hidden] into a variable-length vector. A second text column makes text pairs.
/// </summary>
public sealed class FeatureExtractionEstimator : PipelineEstimator<FeatureExtractionTransformer, FeatureExtractionEstimator.Options>
{
    public sealed class Options : PipelineTransformerOptions
    {
        public string InputColumnName { get; set; } = "Text";
        public string? PairColumnName { get; set; }
        public string OutputColumnName { get; set; } = "Features";
        /// <summary>Mean (default here; Transformers.js defaults to None), Cls, or None.</summary>
        public Pooling Pooling { get; set; } = Pooling.Mean;
        /// <summary>L2-normalize each vector.</summary>
        public bool Normalize { get; set; }
    }

    public FeatureExtractionEstimator(Options options)
        : base(options, o => new FeatureExtractionTransformer(o, ownsFolder: false), FeatureExtractionMapper.Create) { }
}

public sealed class FeatureExtractionTransformer : PipelineTransformer
{
    internal FeatureExtractionTransformer(FeatureExtractionEstimator.Options options, bool ownsFolder)
        : base("feature-extraction", options, c => FeatureExtractionMapper.Create(options, c), ownsFolder) { }

    /// <summary>The length of a pooled vector (the model's hidden size).</summary>
    public int HiddenSize => ((FeatureExtractionMapper)Mapper).HiddenSize;
}

internal sealed class FeatureExtractionMapper : TaskMapper<float[]>
{
    private readonly FeatureExtractionEstimator.Options _options;

    private FeatureExtractionMapper(FeatureExtractionEstimator.Options o, int hidden)
        : base("FeatureExtraction", o.PairColumnName is null ? [o.InputColumnName] : [o.InputColumnName, o.PairColumnName],
            [Columns.Vector<float[], float>(o.OutputColumnName, NumberDataViewType.Single, o.Pooling == Pooling.None ? 0 : hidden, r => r)])
    {
        _options = o;
        HiddenSize = hidden;
    }

    public int HiddenSize { get; }

    public static TaskMapper Create(FeatureExtractionEstimator.Options o, PretrainedConfig config)
    {
        // hidden_size (BERT, RoBERTa), dim (DistilBERT), d_model (encoder-decoder families)
        int hidden = config.Get<int?>("hidden_size") ?? config.Get<int?>("dim") ?? config.Get<int?>("d_model")
            ?? throw new ArgumentException($"'{config.Source ?? "config.json"}' has no hidden_size (nor dim, d_model): FeatureExtraction needs it to declare the vector size.");
        return new FeatureExtractionMapper(o, hidden);
    }

    protected override IReadOnlyList<float[]> RunRows(Pipeline pipeline, IReadOnlyList<string[]> rows)
    {
        var pipe = (FeatureExtractionPipeline)pipeline;
        var inputs = rows.Select(r => new TextInput(r[0], r.Length > 1 ? r[1] : null)).ToList();
        return pipe.RunBatch(inputs, new FeatureExtractionOptions
        {
            Pooling = _options.Pooling,
            Normalize = _options.Normalize,
            Truncation = _options.Truncation,
            BatchSize = _options.BatchSize,
        }).Select(r => r.Data).ToList();
    }
}
