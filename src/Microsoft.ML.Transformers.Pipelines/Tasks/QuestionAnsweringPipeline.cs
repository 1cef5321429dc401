using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Tokenizers;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>A question about a context.</summary>
public sealed record QuestionAnsweringInput(string Question, string Context);

/// <summary>An answer: its probability and its character span [Start, End) in the context (empty for "no answer").</summary>
public sealed record QuestionAnsweringResult(double Score, int Start, int End, string Answer);

/// <summary>
/// question-answering (extractive), as Hugging Face's <c>QuestionAnsweringPipeline</c>: a context longer than <c>max_seq_len</c>
/// is cut into overlapping windows (<c>doc_stride</c> tokens of overlap), each window one model pass (chunk); the best spans
/// of all windows compete. Parameters: <c>top_k</c> (1), <c>doc_stride</c> (min(max_seq_len/2, 128)), <c>max_answer_len</c> (15),
/// <c>max_seq_len</c> (min(model_max_length, 384)), <c>max_question_len</c> (64; accepted, used by Hugging Face's slow
/// tokenizers only), <c>handle_impossible_answer</c> (false), <c>align_to_words</c> (true).
/// </summary>
public sealed class QuestionAnsweringPipeline(PipelineContext context)
    : ChunkPipeline<QuestionAnsweringInput, QuestionAnsweringPipeline.Span, QuestionAnsweringPipeline.SpanOutput, IReadOnlyList<QuestionAnsweringResult>>(context)
{
    public const string TopK = "top_k", DocStride = "doc_stride", MaxAnswerLen = "max_answer_len", MaxSeqLen = "max_seq_len",
        MaxQuestionLen = "max_question_len", HandleImpossibleAnswer = "handle_impossible_answer", AlignToWords = "align_to_words";

    /// <summary>One window: question + a part of the context.</summary>
    public sealed record Span(Encoding Encoding) : ITokenSequence
    {
        public int TokenCount => Encoding.Length;
    }
    public sealed record SpanOutput(Encoding Encoding, float[] StartLogits, float[] EndLogits);

    /// <summary>Answers to many questions about one context.</summary>
    public IReadOnlyList<IReadOnlyList<QuestionAnsweringResult>> Run(IReadOnlyList<string> questions, string context, PipelineParameters? parameters = null) =>
        RunBatch(questions.Select(q => new QuestionAnsweringInput(q, context)).ToList(), parameters);

    protected override SanitizedParameters SanitizeParameters(PipelineParameters p)
    {
        var (maxSeq, stride) = Lengths(p);
        if (stride > maxSeq) throw new ArgumentException($"doc_stride ({stride}) is larger than max_seq_len ({maxSeq}).", DocStride);
        p.GetInt(MaxAnswerLen, 15, min: 1);
        p.GetInt(TopK, 1, min: 1);
        p.GetInt(MaxQuestionLen, 64, min: 1);
        return new(p.Pick(DocStride, MaxSeqLen, MaxQuestionLen), PipelineParameters.Empty,
            p.Pick(TopK, MaxAnswerLen, HandleImpossibleAnswer, AlignToWords));
    }

    private (int MaxSeqLen, int DocStride) Lengths(PipelineParameters p)
    {
        // longer windows than the model takes would fail in the model: refused here, naming the parameter
        int maxSeq = p.GetNullableInt(MaxSeqLen, null, min: 1, max: MaxLength ?? int.MaxValue) ?? Math.Min(MaxLength ?? 384, 384);
        int stride = p.GetNullableInt(DocStride, null, min: 0) ?? Math.Min(maxSeq / 2, 128);
        return (maxSeq, stride);
    }

    protected override IEnumerable<Span> Preprocess(QuestionAnsweringInput input, PipelineParameters p)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (string.IsNullOrWhiteSpace(input.Question)) throw new ArgumentException("The question is empty.", nameof(input));
        if (string.IsNullOrWhiteSpace(input.Context)) throw new ArgumentException("The context is empty.", nameof(input));
        var (maxSeq, stride) = Lengths(p);
        List<Encoding> windows;
        try
        {
            // question first; only the context is cut into windows
            windows = TokenWindows.Build(Tokenizer, input.Question, input.Context, maxSeq, stride);
        }
        catch (Exception e) when (e is ArgumentException or TruncationException)
        {
            throw new ArgumentException($"The question leaves no room for the context with max_seq_len={maxSeq}, doc_stride={stride}: {e.Message}", nameof(input), e);
        }
        foreach (var w in windows) yield return new Span(w);
    }

    protected override IReadOnlyList<SpanOutput> Forward(IReadOnlyList<Span> batch, PipelineParameters p)
    {
        var rows = RunEncodings(batch.Select(s => s.Encoding).ToList());
        return batch.Select((s, i) => new SpanOutput(s.Encoding, rows[i]["start_logits"].GetData<float>(), rows[i]["end_logits"].GetData<float>())).ToList();
    }

    protected override IReadOnlyList<QuestionAnsweringResult> Postprocess(QuestionAnsweringInput input, IReadOnlyList<SpanOutput> outputs, PipelineParameters p)
    {
        int topK = p.GetInt(TopK, 1), maxAnswerLen = p.GetInt(MaxAnswerLen, 15);
        bool impossible = p.GetBool(HandleImpossibleAnswer, false), align = p.GetBool(AlignToWords, true);
        double minNull = double.MaxValue;
        var answers = new List<QuestionAnsweringResult>();
        foreach (var o in outputs)
        {
            var enc = o.Encoding;
            int n = enc.Length;
            // only context tokens (sequence 1) can be in an answer; the CLS token stays in the softmax ("no answer")
            var desired = new bool[n];
            for (int i = 0; i < n; i++)
                desired[i] = enc.AttentionMask[i] == 1 && (enc.SequenceIds[i] == 1 || enc.Ids[i] == Tokenizer.ClsTokenId);
            var start = MaskedSoftmax(o.StartLogits, desired);
            var end = MaskedSoftmax(o.EndLogits, desired);
            if (impossible) minNull = Math.Min(minNull, start[0] * end[0]);
            start[0] = end[0] = 0;
            var spans = new List<(int S, int E, double Score)>();
            for (int s = 0; s < n; s++)
            {
                if (!desired[s] || start[s] == 0) continue;
                for (int e = s; e < (int)Math.Min(n, (long)s + maxAnswerLen); e++) // long: max_answer_len may be int.MaxValue
                    if (desired[e]) spans.Add((s, e, start[s] * end[e]));
            }
            foreach (var (s, e, score) in spans.OrderByDescending(x => x.Score).Take(topK))
            {
                var (cs, ce) = CharSpan(enc, s, e, align);
                answers.Add(new QuestionAnsweringResult(score, cs, ce, input.Context[cs..ce]));
            }
        }
        if (impossible) answers.Add(new QuestionAnsweringResult(minNull, 0, 0, ""));
        return answers.OrderByDescending(a => a.Score).Take(topK).ToList();
    }

    /// <summary>Softmax over the desired positions; the others get probability 0 (Hugging Face sets their logits to -10000).</summary>
    private static double[] MaskedSoftmax(float[] logits, bool[] desired)
    {
        var masked = new double[logits.Length];
        for (int i = 0; i < logits.Length; i++) masked[i] = desired[i] ? logits[i] : double.NegativeInfinity;
        return Maths.Softmax(masked);
    }

    /// <summary>Character span of tokens s..e in the context; with align_to_words widened to whole words (Hugging Face's get_indices).</summary>
    private static (int Start, int End) CharSpan(Encoding enc, int s, int e, bool align)
    {
        if (align && enc.WordIds[s] is int ws && enc.WordIds[e] is int we)
        {
            int first = s, last = e;
            while (first > 0 && enc.SequenceIds[first - 1] == 1 && enc.WordIds[first - 1] == ws) first--;
            while (last + 1 < enc.Length && enc.SequenceIds[last + 1] == 1 && enc.WordIds[last + 1] == we) last++;
            return (enc.Offsets[first].Start, enc.Offsets[last].End);
        }
        return (enc.Offsets[s].Start, enc.Offsets[e].End);
    }
}
