using System.Buffers;
using Microsoft.ML.Tokenizers;
using MLTokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>
/// Any Hugging Face tokenizer.json as a <see cref="Microsoft.ML.Tokenizers.Tokenizer"/>, so code written against ML.NET's
/// tokenizer abstraction (EncodeToIds, EncodeToTokens, CountTokens, GetIndexByTokenCount, Decode) takes it. A thin
/// adapter: encoding is our <see cref="Tokenizer"/>'s (normalizer, pre-tokenizer, model, post-processor as in the file,
/// always applied, so the considerNormalization / considerPreTokenization flags do not change the result), and
/// <see cref="Tokenizer"/> stays available for everything the abstraction has no room for (pairs, type ids, masks,
/// word ids, truncation and padding: <see cref="Tokenizer.Encode"/>).
/// <para>Offsets refer to the text as given (NormalizedText is always null). With a token budget (maxTokenCount,
/// GetIndexByTokenCount) the text is cut only where a word ends, so the kept prefix encodes to exactly the kept tokens.</para>
/// </summary>
public sealed class MLNetTokenizer : MLTokenizer
{
    // Encode(..., truncation: null) would apply the file's truncation: a limit never reached turns it off
    private static readonly TruncationOptions s_noTruncation = new(int.MaxValue / 2);
    // padding to the longest of a batch of one never pads
    private static readonly PaddingOptions s_noPadding = new();

    /// <param name="tokenizer">The tokenizer.json tokenizer to expose.</param>
    /// <param name="addSpecialTokens">Add the post-processor's special tokens ([CLS] ... [SEP]) as a model input needs; off by
    /// default, as ML.NET's tokenizers count and cut text without them.</param>
    public MLNetTokenizer(Tokenizer tokenizer, bool addSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        Tokenizer = tokenizer;
        AddSpecialTokens = addSpecialTokens;
    }

    /// <summary>Reads a checkpoint folder's tokenizer files (tokenizer.json, tokenizer_config.json, or vocab files).</summary>
    public static MLNetTokenizer FromPretrained(string folder, bool addSpecialTokens = false) => new(AutoTokenizer.FromPretrained(folder), addSpecialTokens);

    /// <summary>Reads one tokenizer.json.</summary>
    public static MLNetTokenizer FromFile(string tokenizerJson, bool addSpecialTokens = false) => new(Tokenizer.FromFile(tokenizerJson), addSpecialTokens);

    /// <summary>The tokenizer this adapter encodes with, for everything ML.NET's abstraction has no room for.</summary>
    public Tokenizer Tokenizer { get; }
    public bool AddSpecialTokens { get; }

    private Encoding Encode(string? text, ReadOnlySpan<char> span) =>
        Tokenizer.Encode(text ?? span.ToString(), null, AddSpecialTokens, s_noTruncation, s_noPadding);

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var enc = Encode(text, textSpan);
        int length = text?.Length ?? textSpan.Length;
        int n = Fit(enc, settings.MaxTokenCount, fromEnd: false);
        var tokens = new EncodedToken[n];
        for (int i = 0; i < n; i++) tokens[i] = new EncodedToken(enc.Ids[i], enc.Tokens[i], new Range(enc.Offsets[i].Start, enc.Offsets[i].End));
        return new EncodeResults<EncodedToken> { Tokens = tokens, NormalizedText = null, CharsConsumed = n == enc.Length ? length : EndOf(enc, n) };
    }

    protected override EncodeResults<int> EncodeToIds(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var enc = Encode(text, textSpan);
        int length = text?.Length ?? textSpan.Length;
        int n = Fit(enc, settings.MaxTokenCount, fromEnd: false);
        return new EncodeResults<int> { Tokens = enc.Ids[..n], NormalizedText = null, CharsConsumed = n == enc.Length ? length : EndOf(enc, n) };
    }

    protected override int CountTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings) =>
        Fit(Encode(text, textSpan), settings.MaxTokenCount, fromEnd: false);

    protected override int GetIndexByTokenCount(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings, bool fromEnd,
        out string? normalizedText, out int tokenCount)
    {
        normalizedText = null;
        var enc = Encode(text, textSpan);
        int length = text?.Length ?? textSpan.Length;
        tokenCount = Fit(enc, settings.MaxTokenCount, fromEnd);
        if (tokenCount == enc.Length) return fromEnd ? 0 : length;
        if (!fromEnd) return EndOf(enc, tokenCount);
        // the first content token kept from the end
        for (int i = enc.Length - tokenCount; i < enc.Length; i++)
            if (enc.SpecialTokensMask[i] == 0) return enc.Offsets[i].Start;
        return length;
    }

    /// <summary>How many tokens fit in <paramref name="max"/>, from the start (or the end), cut back to a word boundary.</summary>
    private static int Fit(Encoding enc, int max, bool fromEnd)
    {
        int n = enc.Length;
        if (max >= n) return n;
        int k = Math.Max(0, max);
        var words = enc.WordIds;
        if (!fromEnd)
        {
            // keep tokens [0, k): the token at k must not continue the word of the token at k-1
            while (k > 0 && words[k] is int w && words[k - 1] == w) k--;
        }
        else
        {
            // keep tokens [n-k, n): the token at n-k-1 must not share the word of the token at n-k
            while (k > 0 && words[n - k] is int w && words[n - k - 1] == w) k--;
        }
        return k;
    }

    /// <summary>The end of the text covered by the first <paramref name="n"/> tokens (special tokens have no span).</summary>
    private static int EndOf(Encoding enc, int n)
    {
        for (int i = n - 1; i >= 0; i--)
            if (enc.SpecialTokensMask[i] == 0) return enc.Offsets[i].End;
        return 0;
    }

    /// <summary>Hugging Face's decode (special tokens kept, as its default).</summary>
    public override string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return Tokenizer.Decode(ids);
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens) => Tokenizer.Decode(ids, skipSpecialTokens);

    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var list = ids as IReadOnlyCollection<int> ?? ids.ToList();
        var text = Tokenizer.Decode(list);
        if (text.Length > destination.Length)
        {
            // decoding is not prefix-stable (decoders join and clean up across tokens): all or nothing
            idsConsumed = 0;
            charsWritten = 0;
            return OperationStatus.DestinationTooSmall;
        }
        text.AsSpan().CopyTo(destination);
        idsConsumed = list.Count;
        charsWritten = text.Length;
        return OperationStatus.Done;
    }
}
