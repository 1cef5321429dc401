using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Pipelines;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// question-answering (extractive) as an ML.NET estimator over a question column and a context column. With TopK 1 (the
/// default) adds scalar columns <c>Answer</c>, <c>Score</c>, <c>Start</c>, <c>End</c> (character offsets into the context);
/// with TopK above 1 the same columns are variable-length vectors, best answer first (a short context can have fewer).
/// </summary>
public sealed class QuestionAnsweringEstimator : PipelineEstimator<QuestionAnsweringTransformer, QuestionAnsweringEstimator.Options>
{
    public sealed class Options : PipelineTransformerOptions
    {
        public string QuestionColumnName { get; set; } = "Question";
        public string ContextColumnName { get; set; } = "Context";
        public int TopK { get; set; } = 1;
        /// <summary>Hugging Face's doc_stride (null: min(max_seq_len / 2, 128)).</summary>
        public int? DocStride { get; set; }
        /// <summary>Hugging Face's max_answer_len (null: 15 tokens).</summary>
        public int? MaxAnswerLength { get; set; }
        /// <summary>Hugging Face's max_seq_len (null: min(model max length, 384)).</summary>
        public int? MaxSequenceLength { get; set; }
        public bool HandleImpossibleAnswer { get; set; }
        public bool AlignToWords { get; set; } = true;
        public string AnswerColumnName { get; set; } = "Answer";
        public string ScoreColumnName { get; set; } = "Score";
        public string StartColumnName { get; set; } = "Start";
        public string EndColumnName { get; set; } = "End";
    }

    public QuestionAnsweringEstimator(Options options)
        : base(options, o => new QuestionAnsweringTransformer(o, ownsFolder: false), QuestionAnsweringMapper.Create) { }
}

public sealed class QuestionAnsweringTransformer : PipelineTransformer
{
    internal QuestionAnsweringTransformer(QuestionAnsweringEstimator.Options options, bool ownsFolder)
        : base("question-answering", options, c => QuestionAnsweringMapper.Create(options, c), ownsFolder) { }
}

internal sealed class QuestionAnsweringMapper : TaskMapper<IReadOnlyList<QuestionAnsweringResult>>
{
    private readonly QuestionAnsweringEstimator.Options _options;

    private QuestionAnsweringMapper(QuestionAnsweringEstimator.Options o, OutputColumn[] outputs)
        : base("QuestionAnswering", [o.QuestionColumnName, o.ContextColumnName], outputs)
    {
        _options = o;
    }

    public static TaskMapper Create(QuestionAnsweringEstimator.Options o, PretrainedConfig config)
    {
        PipelineEstimatorChecks.Range(nameof(o.TopK), o.TopK, 1);
        PipelineEstimatorChecks.Range(nameof(o.DocStride), o.DocStride, 0);
        PipelineEstimatorChecks.Range(nameof(o.MaxAnswerLength), o.MaxAnswerLength, 1);
        PipelineEstimatorChecks.Range(nameof(o.MaxSequenceLength), o.MaxSequenceLength, 1, config.Get<int?>("max_position_embeddings") ?? int.MaxValue);
        OutputColumn[] outputs = o.TopK == 1
            ?
            [
                Columns.Text<IReadOnlyList<QuestionAnsweringResult>>(o.AnswerColumnName, r => r[0].Answer),
                Columns.Scalar<IReadOnlyList<QuestionAnsweringResult>, float>(o.ScoreColumnName, NumberDataViewType.Single, r => (float)r[0].Score),
                Columns.Scalar<IReadOnlyList<QuestionAnsweringResult>, int>(o.StartColumnName, NumberDataViewType.Int32, r => r[0].Start),
                Columns.Scalar<IReadOnlyList<QuestionAnsweringResult>, int>(o.EndColumnName, NumberDataViewType.Int32, r => r[0].End),
            ]
            :
            [
                Columns.TextVector<IReadOnlyList<QuestionAnsweringResult>>(o.AnswerColumnName, 0, r => r.Select(a => a.Answer).ToArray()),
                Columns.Vector<IReadOnlyList<QuestionAnsweringResult>, float>(o.ScoreColumnName, NumberDataViewType.Single, 0, r => r.Select(a => (float)a.Score).ToArray()),
                Columns.Vector<IReadOnlyList<QuestionAnsweringResult>, int>(o.StartColumnName, NumberDataViewType.Int32, 0, r => r.Select(a => a.Start).ToArray()),
                Columns.Vector<IReadOnlyList<QuestionAnsweringResult>, int>(o.EndColumnName, NumberDataViewType.Int32, 0, r => r.Select(a => a.End).ToArray()),
            ];
        return new QuestionAnsweringMapper(o, outputs);
    }

    protected override IReadOnlyList<IReadOnlyList<QuestionAnsweringResult>> RunRows(Pipeline pipeline, IReadOnlyList<string[]> rows)
    {
        var pipe = (QuestionAnsweringPipeline)pipeline;
        var results = pipe.RunBatch(rows.Select(r => new QuestionAnsweringInput(r[0], r[1])).ToList(), new QuestionAnsweringOptions
        {
            TopK = _options.TopK,
            DocStride = _options.DocStride,
            MaxAnswerLen = _options.MaxAnswerLength,
            MaxSeqLen = _options.MaxSequenceLength,
            HandleImpossibleAnswer = _options.HandleImpossibleAnswer,
            AlignToWords = _options.AlignToWords,
            BatchSize = _options.BatchSize,
        });
        foreach (var r in results)
            if (r.Count == 0) throw new InvalidOperationException("The model found no answer span in the context.");
        return results;
    }
}
