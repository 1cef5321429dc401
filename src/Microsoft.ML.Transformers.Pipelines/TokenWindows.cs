using Microsoft.ML.Transformers.Tokenizers;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>
/// A text too long for the model cut into overlapping windows of token ids, each with the special tokens (and the first
/// text of a pair) added: the <c>return_overflowing_tokens=True, stride=...</c> encodings Hugging Face's QA and
/// token-classification pipelines make.
/// Built here from the whole tokenized text rather than through <see cref="Tokenizer.Encode"/> with truncation because
/// tokenizers 0.23 (and so our tokenizer, which matches it) cuts the text a few words past max_length before windowing,
/// so its windows stop short of the end of a long text; windows here cover all of it.
/// </summary>
internal static class TokenWindows
{
    // Encode(..., truncation: null) would fall back to the tokenizer file's truncation: ask for a limit never reached.
    private static readonly TruncationOptions s_none = new(int.MaxValue / 2);

    /// <summary>Windows of <paramref name="text"/> (with <paramref name="first"/> before it in every window when given) of at
    /// most <paramref name="maxLength"/> tokens, special tokens included, consecutive windows sharing <paramref name="stride"/> tokens.</summary>
    public static List<Encoding> Build(Tokenizer tokenizer, string? first, string text, int maxLength, int stride)
    {
        // The whole encoding once (special tokens, type ids and offsets exactly as Encode makes them), then windows cut from
        // its text part, each between the same prefix ([CLS] question [SEP]) and suffix ([SEP]).
        var full = first is null
            ? tokenizer.Encode(text, null, addSpecialTokens: true, truncation: s_none, padding: null)
            : tokenizer.Encode(first, text, addSpecialTokens: true, truncation: s_none, padding: null);
        int seq = first is null ? 0 : 1;
        int bodyStart = Array.IndexOf(full.SequenceIds, (int?)seq), bodyEnd = Array.LastIndexOf(full.SequenceIds, (int?)seq) + 1;
        if (bodyStart < 0) throw new ArgumentException("The text has no tokens.", nameof(text));
        var prefix = full.Slice(0, bodyStart);
        var suffix = full.Slice(bodyEnd, full.Length);
        var body = full.Slice(bodyStart, bodyEnd);
        int room = maxLength - prefix.Length - suffix.Length;
        if (body.Length <= room) return [full];   // fits: the stride does not matter (as in the Rust tokenizer)
        if (room <= stride)
            throw new ArgumentException(
                $"No room for the text: max length {maxLength} minus {prefix.Length + suffix.Length} tokens around it (special tokens" +
                $"{(first != null ? ", the question" : "")}) leaves {room} tokens per window, which must be more than the stride ({stride}).");
        var windows = new List<Encoding>();
        for (int start = 0; ; start += room - stride)
        {
            int stop = Math.Min(start + room, body.Length);
            windows.Add(Encoding.MergeAll([prefix, body.Slice(start, stop), suffix]));
            if (stop == body.Length) break;
        }
        return windows;
    }
}
