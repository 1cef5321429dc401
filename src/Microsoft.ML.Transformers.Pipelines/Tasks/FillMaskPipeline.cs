using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Tokenizers;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>One candidate for the mask: its probability, token id, token text and the whole filled-in sequence.</summary>
public sealed record FillMaskResult(double Score, int Token, string TokenStr, string Sequence);

/// <summary>
/// fill-mask, as Hugging Face's <c>FillMaskPipeline</c>, for inputs with one mask token.
/// Parameters: <c>top_k</c> (default 5), <c>targets</c> (restrict candidates to these vocabulary tokens), <c>truncation</c>.
/// Unlike Hugging Face, a target that is not one vocabulary token (as written, or once encoded) is an error, not a warning
/// and its first sub-token.
/// </summary>
public sealed class FillMaskPipeline(PipelineContext context)
    : Pipeline<string, TextFeatures, FillMaskPipeline.Output, IReadOnlyList<FillMaskResult>>(context)
{
    public const string TopK = "top_k", Targets = "targets", Truncation = "truncation";

    public sealed record Output(Encoding Encoding, NamedTensors Tensors);

    protected override SanitizedParameters SanitizeParameters(PipelineParameters p)
    {
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
        if (masks > 1)
            throw new ArgumentException($"The input has {masks} mask tokens ({Tokenizer.MaskToken}); this pipeline fills one per input.", nameof(input));
        return new(enc);
    }

    protected override IReadOnlyList<Output> Forward(IReadOnlyList<TextFeatures> batch, PipelineParameters p)
    {
        var rows = RunEncodings(batch.Select(f => f.Encoding).ToList());
        return batch.Select((f, i) => new Output(f.Encoding, rows[i])).ToList();
    }

    protected override IReadOnlyList<FillMaskResult> Postprocess(Output output, PipelineParameters p)
    {
        var enc = output.Encoding;
        var logits = output.Tensors["logits"];
        int vocab = (int)logits.Shape[^1];
        int at = Array.IndexOf(enc.Ids, Tokenizer.MaskTokenId!.Value);
        var probs = Maths.Softmax(logits.GetData<float>().AsSpan(at * vocab, vocab));
        int[]? targets = p.Contains(Targets) ? TargetIds(p) : null;
        int k = p.GetInt(TopK, 5);
        if (k < 1) throw new ArgumentException($"top_k must be at least 1; found {k}.", TopK);
        int[] candidates = targets != null
            ? targets.OrderByDescending(t => probs[t]).ThenBy(t => t).Take(k).ToArray()
            : Maths.TopK(probs, k);
        bool cleanUp = Tokenizer.Config.CleanUpTokenizationSpaces ?? false;
        var ids = enc.Ids.ToArray();
        var results = new List<FillMaskResult>(candidates.Length);
        foreach (int c in candidates)
        {
            ids[at] = c;
            results.Add(new FillMaskResult(probs[c], c, Tokenizer.Decode([c], false, cleanUp), Tokenizer.Decode(ids, skipSpecialTokens: true, cleanUp)));
        }
        return results;
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
