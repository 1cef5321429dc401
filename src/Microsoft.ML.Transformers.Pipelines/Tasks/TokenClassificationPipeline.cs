using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Tokenizers;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>
/// One entity. Without aggregation it is one token: <see cref="Entity"/> is its label and <see cref="Index"/> its position
/// in the encoded sequence. With aggregation it is a group of tokens: <see cref="Entity"/> is Hugging Face's
/// <c>entity_group</c> (the label without its B-/I- prefix) and <see cref="Index"/> is null. <see cref="Start"/> and
/// <see cref="End"/> are character offsets into the original text.
/// </summary>
public sealed record TokenClassificationResult(string Entity, double Score, string Word, int Start, int End, int? Index = null);

/// <summary>Hugging Face's <c>AggregationStrategy</c>.</summary>
public enum AggregationStrategy { None, Simple, First, Average, Max }

/// <summary>
/// token-classification (alias ner), as Hugging Face's <c>TokenClassificationPipeline</c>.
/// Parameters: <c>ignore_labels</c> (default ["O"]), <c>aggregation_strategy</c> (none/simple/first/average/max),
/// <c>truncation</c> (default true when the model has a maximum length, as Hugging Face: a longer text is cut; false makes
/// it an error), <c>stride</c>: a text longer than the model is cut into windows overlapping by this many tokens, each one model pass
/// (chunk); entities found twice in the overlap are merged as Hugging Face does (the longer span, then the higher score wins).
/// </summary>
public sealed class TokenClassificationPipeline(PipelineContext context)
    : ChunkPipeline<string, TokenClassificationPipeline.Features, TokenClassificationPipeline.Output, IReadOnlyList<TokenClassificationResult>>(context)
{
    public const string IgnoreLabels = "ignore_labels", Aggregation = "aggregation_strategy", Truncation = "truncation", Stride = "stride";

    public sealed record Features(string Text, Encoding Encoding) : ITokenSequence
    {
        public int TokenCount => Encoding.Length;
    }
    public sealed record Output(string Text, Encoding Encoding, NamedTensors Tensors);

    protected override SanitizedParameters SanitizeParameters(PipelineParameters p)
    {
        var strategy = p.GetEnum<AggregationStrategy>(Aggregation) ?? AggregationStrategy.None; // fails early on an unknown name
        // as Hugging Face: stride < model_max_length (TokenWindows also needs room for a token past the special tokens)
        if (p.GetNullableInt(Stride, null, min: 0, max: (MaxLength ?? int.MaxValue) - 1) is not null && strategy == AggregationStrategy.None)
            throw new ArgumentException("stride was given to process the whole text, but aggregation_strategy is none, which cannot merge the " +
                "windows' tokens; choose simple, first, average or max.", Stride);
        return new(p.Pick(Truncation, Stride), PipelineParameters.Empty, p.Pick(IgnoreLabels, Aggregation));
    }

    protected override IEnumerable<Features> Preprocess(string input, PipelineParameters p)
    {
        if (p.GetNullableInt(Stride, null) is int stride && MaxLength is int max)
        {
            if (string.IsNullOrEmpty(input)) throw new ArgumentException($"The text is empty; {Task} needs a non-empty string.", nameof(input));
            return TokenWindows.Build(Tokenizer, null, input, max, stride).Select(w => new Features(input, w));
        }
        return [new Features(input, EncodeText(input, null, p.GetBool(Truncation, true)))];
    }

    protected override IReadOnlyList<Output> Forward(IReadOnlyList<Features> batch, PipelineParameters p)
    {
        var rows = RunEncodings(batch.Select(f => f.Encoding).ToList());
        return batch.Select((f, i) => new Output(f.Text, f.Encoding, rows[i])).ToList();
    }

    protected override IReadOnlyList<TokenClassificationResult> Postprocess(string input, IReadOnlyList<Output> outputs, PipelineParameters p)
    {
        var strategy = p.GetEnum<AggregationStrategy>(Aggregation) ?? AggregationStrategy.None;
        var ignore = p.GetStrings(IgnoreLabels) ?? ["O"];
        var aggregator = new TokenAggregator(Label, Tokenizer);
        var entities = outputs.SelectMany(o => aggregator.Aggregate(GatherPreEntities(o), strategy)).Where(e => !ignore.Contains(e.Entity)).ToList();
        return outputs.Count > 1 ? TokenAggregator.MergeOverlapping(entities) : entities;
    }

    /// <summary>Hugging Face's <c>gather_pre_entities</c>: per non-special token its scores, offsets and whether it continues a word.</summary>
    private List<PreEntity> GatherPreEntities(Output o)
    {
        var logits = o.Tensors["logits"];
        int labels = (int)logits.Shape[^1];
        var data = logits.GetData<float>();
        var enc = o.Encoding;
        string? prefix = Tokenizer.Model switch { WordPieceModel w => w.ContinuingSubwordPrefix, BpeModel b => b.ContinuingSubwordPrefix, _ => null };
        var result = new List<PreEntity>();
        for (int t = 0; t < enc.Length; t++)
        {
            if (enc.SpecialTokensMask[t] == 1) continue;
            var scores = Maths.Softmax(data.AsSpan(t * labels, labels));
            string word = Tokenizer.IdToToken(enc.Ids[t]) ?? "";
            var (start, end) = enc.Offsets[t];
            string wordRef = o.Text[start..end];
            bool isSubword = prefix != null
                ? word.Length != wordRef.Length
                // Hugging Face's fallback for tokenizers without a subword prefix (byte-level BPE): no space just before
                : start > 0 && !o.Text.AsSpan(start - 1, Math.Min(2, o.Text.Length - start + 1)).Contains(' ');
            if (enc.Ids[t] == Tokenizer.UnkTokenId) { word = wordRef; isSubword = false; }
            result.Add(new PreEntity(word, scores, start, end, t, isSubword));
        }
        return result;
    }
}

/// <summary>A token before aggregation (Hugging Face's pre_entity).</summary>
internal sealed record PreEntity(string Word, double[] Scores, int Start, int End, int Index, bool IsSubword);
