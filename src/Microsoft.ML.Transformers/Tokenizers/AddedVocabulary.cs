namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>An entry of tokenizer.json's <c>added_tokens</c>.</summary>
public sealed record AddedToken(int Id, string Content, bool Special = true, bool SingleWord = false, bool LStrip = false,
    bool RStrip = false, bool Normalized = false);

/// <summary>
/// Finds added tokens in text before the model runs: tokens with <c>normalized: false</c> on the original text,
/// the others on normalized text (matched against their normalized content). Leftmost-longest matching with
/// single_word / lstrip / rstrip handled as in Hugging Face's AddedVocabulary.
/// </summary>
internal sealed class AddedVocabulary
{
    public readonly IReadOnlyList<AddedToken> Tokens;
    public readonly Dictionary<string, int> ContentToId = new();
    public readonly Dictionary<int, AddedToken> IdToToken = new();
    public readonly HashSet<int> SpecialIds = new();
    /// <summary>
    /// The string decode uses for an added token: its content run through the normalizer when it is a normalized
    /// token (Hugging Face 0.23 stores that form, so llama's "&lt;s&gt;" decodes as "▁&lt;s&gt;" and, no longer equal to
    /// a special token's content, is not skipped by skip_special_tokens).
    /// </summary>
    public readonly Dictionary<int, string> DecodeForm = new();
    public readonly HashSet<string> SpecialContents = new(StringComparer.Ordinal);
    private readonly Matcher _raw;
    private readonly Matcher _normalized;

    public AddedVocabulary(IReadOnlyList<AddedToken> tokens, Normalizer? normalizer)
    {
        Tokens = tokens;
        var raw = new List<(string, AddedToken)>();
        var norm = new List<(string, AddedToken)>();
        foreach (var t in tokens)
        {
            ContentToId[t.Content] = t.Id;
            IdToToken[t.Id] = t;
            if (t.Special) { SpecialIds.Add(t.Id); SpecialContents.Add(t.Content); }
            DecodeForm[t.Id] = t.Normalized && normalizer != null ? normalizer.Normalize(t.Content) : t.Content;
            if (t.Normalized && normalizer != null) norm.Add((DecodeForm[t.Id], t));
            else if (t.Normalized) norm.Add((t.Content, t));
            else raw.Add((t.Content, t));
        }
        _raw = new Matcher(raw);
        _normalized = new Matcher(norm);
    }

    public bool HasRaw => _raw.Count > 0;
    public bool HasNormalized => _normalized.Count > 0;

    /// <summary>Splits <paramref name="s"/> into (start, end, tokenId or -1) covering it.</summary>
    public void Split(ReadOnlySpan<char> s, bool normalized, List<(int Start, int End, int Id)> output)
    {
        output.Clear();
        var matcher = normalized ? _normalized : _raw;
        if (matcher.Count == 0 || s.IsEmpty) { output.Add((0, s.Length, -1)); return; }
        int startOffset = 0;
        int i = 0;
        while (i < s.Length)
        {
            int next = s[i..].IndexOfAny(matcher.FirstChars); // vectorized jump to a possible match
            if (next < 0) break;
            i += next;
            if (!matcher.TryMatch(s, i, out var token, out int len)) { i++; continue; }
            int start = i, stop = i + len;
            i = stop; // the automaton resumes after the raw match
            if (token.SingleWord)
            {
                bool startSpace = start == 0 || !EndsWithWord(s[..start]);
                bool stopSpace = stop == s.Length || !StartsWithWord(s[stop..]);
                if (!startSpace || !stopSpace) continue;
            }
            if (token.LStrip)
            {
                int k = start;
                while (k > 0 && UnicodeInfo.IsWhitespace(s[k - 1])) k--;
                start = Math.Max(k, startOffset);
            }
            if (token.RStrip)
            {
                while (stop < s.Length && UnicodeInfo.IsWhitespace(s[stop])) stop++;
            }
            if (startOffset < start) output.Add((startOffset, start, -1));
            output.Add((start, stop, token.Id));
            startOffset = stop;
        }
        if (startOffset != s.Length) output.Add((startOffset, s.Length, -1));
    }

    private static bool EndsWithWord(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty) return false;
        int i = s.Length - 1;
        if (i > 0 && char.IsLowSurrogate(s[i]) && char.IsHighSurrogate(s[i - 1])) i--;
        return IsWordChar(NormalizedText.RuneAt(s, i, out _));
    }

    private static bool StartsWithWord(ReadOnlySpan<char> s) => !s.IsEmpty && IsWordChar(NormalizedText.RuneAt(s, 0, out _));

    // Hugging Face tests \w$ / ^\w with the regex crate: a word character beside a single_word token keeps it from matching.
    private static bool IsWordChar(int cp) => UnicodeInfo.IsRustWord(cp);

    /// <summary>Candidates grouped by first character, longest first (leftmost-longest).</summary>
    private sealed class Matcher
    {
        private readonly Dictionary<char, (string Pattern, AddedToken Token)[]> _byFirst = new();
        public int Count { get; }
        public System.Buffers.SearchValues<char> FirstChars { get; }

        public Matcher(List<(string Pattern, AddedToken Token)> items)
        {
            foreach (var g in items.Where(x => x.Pattern.Length > 0).GroupBy(x => x.Pattern[0]))
                _byFirst[g.Key] = g.OrderByDescending(x => x.Pattern.Length).ToArray();
            Count = _byFirst.Count;
            FirstChars = System.Buffers.SearchValues.Create(_byFirst.Keys.ToArray());
        }

        public bool TryMatch(ReadOnlySpan<char> s, int i, out AddedToken token, out int length)
        {
            if (_byFirst.TryGetValue(s[i], out var candidates))
            {
                var rest = s[i..];
                foreach (var (p, t) in candidates)
                {
                    if (rest.StartsWith(p, StringComparison.Ordinal)) { token = t; length = p.Length; return true; }
                }
            }
            token = null!; length = 0;
            return false;
        }
    }
}
