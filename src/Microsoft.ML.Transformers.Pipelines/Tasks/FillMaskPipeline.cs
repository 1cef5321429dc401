using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Tokenizers;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>One candidate for a mask: its probability, token id, token text and the whole filled-in sequence.</summary>
public sealed record FillMaskResult(double Score, int Token, string TokenStr, string Sequence);

/// <summary>
/// The candidates of one input. With one mask token (the common case) this list is that mask's candidates, best first.
/// With several, <see cref="Masks"/> holds one candidate list per mask in text order (Hugging Face returns a list per mask);
/// reading this object as one list then fails rather than silently giving the first mask's.
/// </summary>
public sealed class FillMaskResults(IReadOnlyList<IReadOnlyList<FillMaskResult>> masks) : IReadOnlyList<FillMaskResult>
{
    /// <summary>One candidate list per mask token, in the order the masks appear in the text.</summary>
    public IReadOnlyList<IReadOnlyList<FillMaskResult>> Masks { get; } = masks;

    private IReadOnlyList<FillMaskResult> Only => Masks.Count == 1 ? Masks[0] : throw new InvalidOperationException(
        $"The input has {Masks.Count} mask tokens: read Masks, which holds one candidate list per mask.");

    public int Count => Only.Count;
    public FillMaskResult this[int index] => Only[index];
    public IEnumerator<FillMaskResult> GetEnumerator() => Only.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// fill-mask, as Hugging Face's <c>FillMaskPipeline</c>. Each mask token of an input gets its own candidates, from that
/// position's distribution alone (as Hugging Face: not a joint prediction); with several masks each candidate's sequence
/// fills that one mask and keeps the others and the special tokens, as Hugging Face decodes it. Parameters: <c>top_k</c> (default 5), <c>targets</c> (restrict candidates to these vocabulary tokens), <c>truncation</c>.
/// Unlike Hugging Face, a target that is not one vocabulary token (as written, or once encoded) is an error, not a warning
/// and its first sub-token.
/// </summary>
public sealed class FillMaskPipeline(PipelineContext context)
    : Pipeline<string, TextFeatures, FillMaskPipeline.Output, FillMaskResults>(context)
{
    public const string TopK = "top_k", Targets = "targets", Truncation = "truncation";

    public sealed record Output(Encoding Encoding, NamedTensors Tensors);

    protected override SanitizedParameters SanitizeParameters(PipelineParameters p)
    {
        p.GetInt(TopK, 5, min: 1);
        if (p.Contains(Targets)) TargetIds(p);
        return new(p.Pick(Truncation), PipelineParameters.Empty, p.Pick(TopK, Targets));
    }

    protected override TextFeatures Preprocess(string input, PipelineParameters p)
    {
        var enc = EncodeText(input, null, p.GetBool(Truncation, false));
        int maskId = Tokenizer.MaskTokenId ?? throw new InvalidOperationException(
            $"The tokenizer in '{ModelFolder}' has no mask token; fill-mask needs one.");
        int masks = enc.Ids.Count(id => id == maskId);
        if (masks == 0)
            throw new ArgumentException($"No mask token ({Tokenizer.MaskToken}) found in the input \"{input}\".", nameof(input));
        return new(enc);
    }

    protected override IReadOnlyList<Output> Forward(IReadOnlyList<TextFeatures> batch, PipelineParameters p)
    {
        var rows = RunEncodings(batch.Select(f => f.Encoding).ToList());
        return batch.Select((f, i) => new Output(f.Encoding, rows[i])).ToList();
    }

    protected override FillMaskResults Postprocess(Output output, PipelineParameters p)
    {
        var enc = output.Encoding;
        var logits = output.Tensors["logits"];
        int vocab = (int)logits.Shape[^1];
        int maskId = Tokenizer.MaskTokenId!.Value;
        int[] positions = Enumerable.Range(0, enc.Length).Where(i => enc.Ids[i] == maskId).ToArray();
        int[]? targets = p.Contains(Targets) ? TargetIds(p) : null;
        int k = p.GetInt(TopK, 5, min: 1);
        bool cleanUp = Tokenizer.Config.CleanUpTokenizationSpaces ?? false;
        // one mask: the sequence is readable text; several: the other masks (and so the special tokens) stay, as Hugging Face does
        bool skipSpecial = positions.Length == 1;
        var masks = new List<IReadOnlyList<FillMaskResult>>(positions.Length);
        foreach (int at in positions)
        {
            var probs = Maths.Softmax(logits.GetData<float>().AsSpan(at * vocab, vocab));
            int[] candidates = targets != null
                ? targets.OrderByDescending(t => probs[t]).ThenBy(t => t).Take(k).ToArray()
                : Maths.TopK(probs, k);
            var ids = enc.Ids.ToArray();
            var results = new List<FillMaskResult>(candidates.Length);
            foreach (int c in candidates)
            {
                ids[at] = c;
                results.Add(new FillMaskResult(probs[c], c, Tokenizer.Decode([c], false, cleanUp), Tokenizer.Decode(ids, skipSpecial, cleanUp)));
            }
            masks.Add(results);
        }
        return new FillMaskResults(masks);
    }

    /// <summary>The vocabulary ids of the <c>targets</c> parameter; each must be one token of the vocabulary.</summary>
    private int[] TargetIds(PipelineParameters p)
    {
        var targets = p.GetStrings(Targets) ?? [];
        if (targets.Count == 0) throw new ArgumentException("targets is empty; pass at least one target or leave it out.", Targets);
        var ids = new List<int>();
        foreach (var t in targets)
        {
            int? id = Tokenizer.TokenToId(t);
            // " love" is "Ġlove" in a byte-level vocabulary: accept a target that encodes to exactly one token
            var pieces = Tokenizer.Encode(t, addSpecialTokens: false, truncation: null, padding: null);
            if (id is null && pieces.Ids.Length == 1 && pieces.Ids[0] != Tokenizer.UnkTokenId) id = pieces.Ids[0];
            if (id is int found) { if (!ids.Contains(found)) ids.Add(found); continue; }
            throw new ArgumentException(
                $"Target \"{t}\" is not in the vocabulary of '{ModelFolder}' (it would be tokenized as [{string.Join(", ", pieces.Tokens)}]); " +
                "targets must be single vocabulary tokens.", Targets);
        }
        return ids.ToArray();
    }
}
