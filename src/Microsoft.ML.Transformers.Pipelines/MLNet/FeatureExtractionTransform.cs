using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.SentenceTransformers;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// feature-extraction as an ML.NET estimator: adds <c>Features</c>, a fixed-size float vector per row that feeds ML.NET
/// trainers as it is. A sentence-transformers folder (modules.json, 1_Pooling/config.json, an optional Normalize module)
/// embeds each row exactly as <see cref="SentenceTransformer.Encode"/> does: its own pooling, its Normalize, its
/// max_seq_length. Any other checkpoint is mean pooled over its hidden size. An explicit <see cref="Options.Pooling"/>
/// overrides both: Mean, Cls, or None (every token's vector, flattened [tokens × hidden] into a variable-length vector).
/// A second text column makes text pairs (not with a sentence-transformers folder's own modules, which embed single texts).
/// </summary>
public sealed class FeatureExtractionEstimator : PipelineEstimator<FeatureExtractionTransformer, FeatureExtractionEstimator.Options>
{
    public sealed class Options : PipelineTransformerOptions
    {
        public string InputColumnName { get; set; } = "Text";
        public string? PairColumnName { get; set; }
        public string OutputColumnName { get; set; } = "Features";
        /// <summary>null (default): a sentence-transformers folder's own modules, else Mean. Mean, Cls or None override them
        /// (Transformers.js defaults to None).</summary>
        public Pooling? Pooling { get; set; }
        /// <summary>L2-normalize each vector (on top of a sentence-transformers folder's own Normalize module, as Encode's normalize).</summary>
        public bool Normalize { get; set; }
    }

    public FeatureExtractionEstimator(Options options)
        : base(options, o => new FeatureExtractionTransformer(o, ownsFolder: false), FeatureExtractionMapper.Create) { }
}

public sealed class FeatureExtractionTransformer : PipelineTransformer
{
    internal FeatureExtractionTransformer(FeatureExtractionEstimator.Options options, bool ownsFolder)
        : base("feature-extraction", options, o => FeatureExtractionMapper.UsesSentenceTransformer(options)
                ? OpenSentenceTransformer(o)
                : OpenTextPipeline("feature-extraction", o),
            c => FeatureExtractionMapper.Create(options, c), ownsFolder) { }

    /// <summary>The length of a vector (the model's hidden size, or a sentence-transformers folder's embedding size).</summary>
    public int HiddenSize => ((FeatureExtractionMapper)Mapper).HiddenSize;

    /// <summary>The sentence-transformers model the rows are embedded with, when the folder's own modules are used.</summary>
    public SentenceTransformer? SentenceTransformer => Runner as SentenceTransformer;

    private static OpenedPipeline OpenSentenceTransformer(PipelineTransformerOptions o)
    {
        var st = SentenceTransformer.FromPretrained(o.ModelFolder, new SentenceTransformerOptions { Engine = o.Engine, Device = o.Device });
        return new(st, st.Model.Engine, st.Model.Config);
    }

    /// <summary>A sentence-transformers folder's module files (modules.json, the Pooling module's config, ...), so a loaded
    /// model.zip pools and normalizes as the folder did.</summary>
    private protected override IEnumerable<string> ExtraModelFiles
    {
        get
        {
            if (!SentenceTransformerConfig.IsSentenceTransformerFolder(ModelFolder)) return [];
            var config = SentenceTransformerConfig.FromPretrained(ModelFolder);
            return new[] { SentenceTransformerConfig.ModulesFileName, "config_sentence_transformers.json", "sentence_bert_config.json" }
                .Concat(config.Modules.Where(m => m.Type == SentenceTransformerConfig.PoolingType).Select(m => Path.Combine(m.Path, "config.json")));
        }
    }
}

/// <summary>One vector per row, from the feature-extraction pipeline (explicit pooling) or a <see cref="SentenceTransformer"/>.</summary>
internal sealed class FeatureExtractionMapper : TaskMapper
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

    /// <summary>No pooling asked for and a sentence-transformers folder: its own modules embed the rows.</summary>
    public static bool UsesSentenceTransformer(FeatureExtractionEstimator.Options o) =>
        o.Pooling is null && SentenceTransformerConfig.IsSentenceTransformerFolder(o.ModelFolder);

    public static TaskMapper Create(FeatureExtractionEstimator.Options o, PretrainedConfig config)
    {
        if (UsesSentenceTransformer(o))
        {
            if (o.PairColumnName is not null)
                throw new ArgumentException($"'{o.ModelFolder}' is a sentence-transformers folder, whose modules embed single texts; " +
                    $"PairColumnName '{o.PairColumnName}' needs an explicit Pooling (Mean, Cls or None).", nameof(o));
            return new FeatureExtractionMapper(o, SentenceTransformerConfig.FromPretrained(o.ModelFolder).Pooling.OutputDimension);
        }
        // hidden_size (BERT, RoBERTa), dim (DistilBERT), d_model (encoder-decoder families)
        int hidden = config.Get<int?>("hidden_size") ?? config.Get<int?>("dim") ?? config.Get<int?>("d_model")
            ?? throw new ArgumentException($"'{config.Source ?? "config.json"}' has no hidden_size (nor dim, d_model): FeatureExtraction needs it to declare the vector size.");
        return new FeatureExtractionMapper(o, hidden);
    }

    public override IReadOnlyList<object> Run(object runner, IReadOnlyList<object[]> rows)
    {
        if (runner is SentenceTransformer st)
            return st.EncodeStream(rows.Select(r => (string)r[0]), _options.BatchSize, _options.Normalize).ToList();
        var inputs = rows.Select(r => new TextInput((string)r[0], r.Length > 1 ? (string)r[1] : null)).ToList();
        return ((FeatureExtractionPipeline)runner).RunBatch(inputs, new FeatureExtractionOptions
        {
            Pooling = _options.Pooling ?? Pooling.Mean,
            Normalize = _options.Normalize,
            Truncation = _options.Truncation,
            BatchSize = _options.BatchSize,
        }).Select(r => (object)r.Data).ToList();
    }
}
