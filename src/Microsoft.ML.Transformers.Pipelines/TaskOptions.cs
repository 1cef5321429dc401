namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>
/// Typed forms of each task's parameters. Each converts to <see cref="PipelineParameters"/> (only the properties that are
/// set), so it can be passed wherever parameters are taken: <c>pipe.Run(text, new TextClassificationOptions { TopK = 2 })</c>.
/// </summary>
public abstract record TaskOptions
{
    /// <summary>Model inputs per padded batch.</summary>
    public int? BatchSize { get; init; }
    /// <summary>Most padded tokens (rows x longest) per batch of text inputs (default 1,024 on the CPU, none on a GPU).</summary>
    public int? MaxBatchTokens { get; init; }

    public PipelineParameters ToParameters()
    {
        var p = new PipelineParameters();
        Add(p, Pipeline.BatchSizeParameter, BatchSize);
        Add(p, Pipeline.MaxBatchTokensParameter, MaxBatchTokens);
        AddTo(p);
        return p;
    }

    protected abstract void AddTo(PipelineParameters p);

    protected static void Add(PipelineParameters p, string name, object? value)
    {
        if (value != null) p[name] = value;
    }

    public static implicit operator PipelineParameters(TaskOptions options) => options.ToParameters();
}

public sealed record TextClassificationOptions : TaskOptions
{
    /// <summary>Every label, by score (Hugging Face's top_k=None).</summary>
    public const int All = int.MaxValue;
    public int? TopK { get; init; }
    public ClassificationFunction? FunctionToApply { get; init; }
    public bool? Truncation { get; init; }

    protected override void AddTo(PipelineParameters p)
    {
        Add(p, TextClassificationPipeline.TopK, TopK);
        Add(p, TextClassificationPipeline.FunctionToApply, FunctionToApply);
        Add(p, TextClassificationPipeline.Truncation, Truncation);
    }
}

public sealed record TokenClassificationOptions : TaskOptions
{
    public IReadOnlyList<string>? IgnoreLabels { get; init; }
    public AggregationStrategy? AggregationStrategy { get; init; }
    public int? Stride { get; init; }
    public bool? Truncation { get; init; }

    protected override void AddTo(PipelineParameters p)
    {
        Add(p, TokenClassificationPipeline.IgnoreLabels, IgnoreLabels?.ToArray());
        Add(p, TokenClassificationPipeline.Aggregation, AggregationStrategy);
        Add(p, TokenClassificationPipeline.Stride, Stride);
        Add(p, TokenClassificationPipeline.Truncation, Truncation);
    }
}

public sealed record QuestionAnsweringOptions : TaskOptions
{
    public int? TopK { get; init; }
    public int? DocStride { get; init; }
    public int? MaxAnswerLen { get; init; }
    public int? MaxSeqLen { get; init; }
    public int? MaxQuestionLen { get; init; }
    public bool? HandleImpossibleAnswer { get; init; }
    public bool? AlignToWords { get; init; }

    protected override void AddTo(PipelineParameters p)
    {
        Add(p, QuestionAnsweringPipeline.TopK, TopK);
        Add(p, QuestionAnsweringPipeline.DocStride, DocStride);
        Add(p, QuestionAnsweringPipeline.MaxAnswerLen, MaxAnswerLen);
        Add(p, QuestionAnsweringPipeline.MaxSeqLen, MaxSeqLen);
        Add(p, QuestionAnsweringPipeline.MaxQuestionLen, MaxQuestionLen);
        Add(p, QuestionAnsweringPipeline.HandleImpossibleAnswer, HandleImpossibleAnswer);
        Add(p, QuestionAnsweringPipeline.AlignToWords, AlignToWords);
    }
}

public sealed record FillMaskOptions : TaskOptions
{
    public int? TopK { get; init; }
    public IReadOnlyList<string>? Targets { get; init; }
    public bool? Truncation { get; init; }

    protected override void AddTo(PipelineParameters p)
    {
        Add(p, FillMaskPipeline.TopK, TopK);
        Add(p, FillMaskPipeline.Targets, Targets?.ToArray());
        Add(p, FillMaskPipeline.Truncation, Truncation);
    }
}

public sealed record FeatureExtractionOptions : TaskOptions
{
    public Pooling? Pooling { get; init; }
    public bool? Normalize { get; init; }
    public bool? Truncation { get; init; }

    protected override void AddTo(PipelineParameters p)
    {
        Add(p, FeatureExtractionPipeline.PoolingParameter, Pooling);
        Add(p, FeatureExtractionPipeline.Normalize, Normalize);
        Add(p, FeatureExtractionPipeline.Truncation, Truncation);
    }
}

public sealed record ZeroShotClassificationOptions : TaskOptions
{
    public IReadOnlyList<string>? CandidateLabels { get; init; }
    public string? HypothesisTemplate { get; init; }
    public bool? MultiLabel { get; init; }
    public bool? Truncation { get; init; }

    protected override void AddTo(PipelineParameters p)
    {
        Add(p, ZeroShotClassificationPipeline.CandidateLabels, CandidateLabels?.ToArray());
        Add(p, ZeroShotClassificationPipeline.HypothesisTemplate, HypothesisTemplate);
        Add(p, ZeroShotClassificationPipeline.MultiLabel, MultiLabel);
        Add(p, ZeroShotClassificationPipeline.Truncation, Truncation);
    }
}
