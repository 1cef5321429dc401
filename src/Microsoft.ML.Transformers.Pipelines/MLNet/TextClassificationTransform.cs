using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Pipelines;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// text-classification as an ML.NET estimator: <c>mlContext.Transforms.TextClassification(modelFolder, "Text")</c>.
/// Adds <c>Score</c> (one float per class in the config's label order, the label names as slot names, scored as the
/// pipeline's function_to_apply) and <c>PredictedLabel</c> (a key over the label names: MapKeyToValue gives the name,
/// MulticlassClassification.Evaluate reads it). A second text column makes text pairs.
/// </summary>
public sealed class TextClassificationEstimator : PipelineEstimator<TextClassificationTransformer, TextClassificationEstimator.Options>
{
    public sealed class Options : PipelineTransformerOptions
    {
        public string InputColumnName { get; set; } = "Text";
        /// <summary>A second text column: the model scores (text, text pair).</summary>
        public string? PairColumnName { get; set; }
        public string ScoreColumnName { get; set; } = "Score";
        public string PredictedLabelColumnName { get; set; } = "PredictedLabel";
        /// <summary>Hugging Face's function_to_apply; Default chooses from the config (softmax, or sigmoid for multi-label / one output).</summary>
        public ClassificationFunction FunctionToApply { get; set; } = ClassificationFunction.Default;
    }

    public TextClassificationEstimator(Options options)
        : base(options, o => new TextClassificationTransformer(o, ownsFolder: false), TextClassificationMapper.Create) { }
}

public sealed class TextClassificationTransformer : PipelineTransformer
{
    internal TextClassificationTransformer(TextClassificationEstimator.Options options, bool ownsFolder)
        : base("text-classification", options, c => TextClassificationMapper.Create(options, c), ownsFolder) { }

    /// <summary>The class names, in score-slot order.</summary>
    public IReadOnlyList<string> Labels => ((TextClassificationMapper)Mapper).Labels;
}

/// <summary>Scores of one row in label order, and the index of the best.</summary>
internal sealed record ClassScores(float[] Scores, int Best);

internal sealed class TextClassificationMapper : TaskMapper<ClassScores>
{
    private readonly TextClassificationEstimator.Options _options;
    private readonly Dictionary<string, int> _index;

    private TextClassificationMapper(TextClassificationEstimator.Options o, IReadOnlyList<string> labels)
        : base("TextClassification", o.PairColumnName is null ? [o.InputColumnName] : [o.InputColumnName, o.PairColumnName], ClassColumns(o.ScoreColumnName, o.PredictedLabelColumnName, labels))
    {
        _options = o;
        Labels = labels;
        _index = ClassIndex(labels, "the config's id2label");
    }

    public IReadOnlyList<string> Labels { get; }

    public static TaskMapper Create(TextClassificationEstimator.Options o, PretrainedConfig config) => new TextClassificationMapper(o, LabelNames(config));

    /// <summary>The config's class names in output order (LABEL_i where id2label has none).</summary>
    internal static string[] LabelNames(PretrainedConfig config)
    {
        var id2label = config.Id2Label;
        return Enumerable.Range(0, config.NumLabels).Select(i => id2label.TryGetValue(i, out var l) ? l : $"LABEL_{i}").ToArray();
    }

    protected override IReadOnlyList<ClassScores> RunRows(Pipeline pipeline, IReadOnlyList<string[]> rows)
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
        return results.Select(r => ToScores(r.Select(x => (x.Label, x.Score)), _index)).ToList();
    }

    /// <summary>Label-ordered scores from a by-score list; the best is the first of the list (ties keep the lower index, as the pipeline).</summary>
    internal static ClassScores ToScores(IEnumerable<(string Label, double Score)> byScore, Dictionary<string, int> index)
    {
        var scores = new float[index.Count];
        int best = -1;
        foreach (var (label, score) in byScore)
        {
            int i = index[label];
            scores[i] = (float)score;
            if (best < 0) best = i;
        }
        return new ClassScores(scores, best);
    }

    internal static Dictionary<string, int> ClassIndex(IReadOnlyList<string> labels, string source)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < labels.Count; i++)
            if (!index.TryAdd(labels[i], i))
                throw new ArgumentException($"Label \"{labels[i]}\" appears twice in {source}; class names must be unique to name score slots and key values.");
        return index;
    }

    internal static OutputColumn[] ClassColumns(string scoreColumn, string predictedColumn, IReadOnlyList<string> labels) =>
    [
        Columns.Vector<ClassScores, float>(scoreColumn, NumberDataViewType.Single, labels.Count, r => r.Scores, Columns.ScoreAnnotations(labels)),
        Columns.Key<ClassScores>(predictedColumn, labels, r => r.Best),
    ];
}
