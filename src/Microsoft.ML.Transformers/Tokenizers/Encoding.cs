namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>
/// The result of encoding one text (or text pair). Offsets are UTF-16 (char) indices into the string the
/// token came from (the first text or the pair); special tokens and padding have (0, 0).
/// </summary>
public sealed class Encoding
{
    public int[] Ids { get; internal set; }
    public string[] Tokens { get; internal set; }
    public (int Start, int End)[] Offsets { get; internal set; }
    public int[] TypeIds { get; internal set; }
    public int[] AttentionMask { get; internal set; }
    public int[] SpecialTokensMask { get; internal set; }
    /// <summary>Index of the word each token belongs to (null for special tokens and padding).</summary>
    public int?[] WordIds { get; internal set; }
    /// <summary>0 for the first text, 1 for the pair, null for special tokens and padding.</summary>
    public int?[] SequenceIds { get; internal set; }
    /// <summary>The windows cut off by truncation (each post-processed and padded like this one).</summary>
    public List<Encoding> Overflowing { get; internal set; } = [];

    public int Length => Ids.Length;

    /// <summary>The text a single-sequence encoding came from (offset trimming needs its surrogate pairs).</summary>
    internal string? Source;

    internal Encoding(int[] ids, string[] tokens, (int, int)[] offsets, int[] typeIds, int[] attention, int[] special, int?[] words, int?[] seq)
    {
        Ids = ids; Tokens = tokens; Offsets = offsets; TypeIds = typeIds; AttentionMask = attention;
        SpecialTokensMask = special; WordIds = words; SequenceIds = seq;
    }

    /// <summary>Index of the token covering char <paramref name="position"/> of the given sequence, or null.</summary>
    public int? CharToToken(int position, int sequence = 0)
    {
        for (int i = 0; i < Length; i++)
            if (SequenceIds[i] == sequence && position >= Offsets[i].Start && position < Offsets[i].End) return i;
        return null;
    }

    /// <summary>Char range of a token in its own sequence's text, or null for special tokens and padding.</summary>
    public (int Start, int End)? TokenToChars(int token) => SequenceIds[token] == null ? null : Offsets[token];

    /// <summary>Word of a token, or null.</summary>
    public int? TokenToWord(int token) => WordIds[token];

    /// <summary>First and last+1 token of a word in the given sequence, or null.</summary>
    public (int Start, int End)? WordToTokens(int word, int sequence = 0)
    {
        int start = -1, end = -1;
        for (int i = 0; i < Length; i++)
            if (WordIds[i] == word && SequenceIds[i] == sequence) { if (start < 0) start = i; end = i + 1; }
        return start < 0 ? null : (start, end);
    }

    internal static Encoding Empty() => new([], [], [], [], [], [], [], []);

    internal Encoding Slice(int start, int stop)
    {
        return new Encoding(Ids[start..stop], Tokens[start..stop], Offsets[start..stop], TypeIds[start..stop],
            AttentionMask[start..stop], SpecialTokensMask[start..stop], WordIds[start..stop], SequenceIds[start..stop]) { Source = Source };
    }

    internal Encoding Clone()
    {
        var e = Slice(0, Length);
        e.Overflowing = Overflowing.Select(o => o.Clone()).ToList();
        return e;
    }

    /// <summary>Special tokens added by a post-processor.</summary>
    internal static Encoding Special(IReadOnlyList<int> ids, IReadOnlyList<string> tokens, int typeId)
    {
        int n = ids.Count;
        var type = new int[n];
        var ones = new int[n];
        Array.Fill(type, typeId);
        Array.Fill(ones, 1);
        return new Encoding([.. ids], [.. tokens], new (int, int)[n], type, ones, (int[])ones.Clone(), new int?[n], new int?[n]);
    }

    /// <summary>Hugging Face's <c>Encoding::truncate</c>: keep max_len tokens, the rest become overflowing windows.</summary>
    internal void Truncate(int maxLen, int stride, bool left)
    {
        int len = Length;
        if (maxLen >= len) return;
        if (maxLen == 0)
        {
            var all = Slice(0, len);
            all.Overflowing = Overflowing;
            SetFrom(Empty());
            Overflowing = [all];
            return;
        }
        if (stride >= maxLen) throw new TruncationException($"truncation stride ({stride}) must be smaller than max_length ({maxLen}) minus the special tokens");
        int step = maxLen - stride;
        var parts = new List<(int, int)>();
        if (!left)
        {
            for (int start = 0; start < len; start += step)
            {
                int stop = Math.Min(start + maxLen, len);
                parts.Add((start, stop));
                if (stop == len) break;
            }
        }
        else
        {
            for (int s = len - 1; s >= 0; s -= step)
            {
                int stop = s + 1;
                int start = stop < maxLen ? 0 : stop - maxLen;
                if (start < stop) { parts.Add((start, stop)); if (start == 0) break; }
            }
        }
        var first = Slice(parts[0].Item1, parts[0].Item2);
        for (int i = 1; i < parts.Count; i++) first.Overflowing.Add(Slice(parts[i].Item1, parts[i].Item2));
        SetFrom(first);
    }

    private void SetFrom(Encoding e)
    {
        Ids = e.Ids; Tokens = e.Tokens; Offsets = e.Offsets; TypeIds = e.TypeIds; AttentionMask = e.AttentionMask;
        SpecialTokensMask = e.SpecialTokensMask; WordIds = e.WordIds; SequenceIds = e.SequenceIds; Overflowing = e.Overflowing;
    }

    /// <summary>Hugging Face's <c>Encoding::merge_with</c> (growing_offsets = false), overflowing windows combined.</summary>
    internal static Encoding Merge(Encoding a, Encoding b)
    {
        var overflow = new List<Encoding>();
        foreach (var ao in a.Overflowing)
        {
            overflow.Add(Merge(ao.Clone(), b.Clone()));
            foreach (var bo in b.Overflowing) overflow.Add(Merge(ao.Clone(), bo.Clone()));
        }
        foreach (var bo in b.Overflowing) overflow.Add(Merge(a.Clone(), bo.Clone())); // self keeps its own windows (nested), as in Rust
        var r = new Encoding([.. a.Ids, .. b.Ids], [.. a.Tokens, .. b.Tokens], [.. a.Offsets, .. b.Offsets], [.. a.TypeIds, .. b.TypeIds],
            [.. a.AttentionMask, .. b.AttentionMask], [.. a.SpecialTokensMask, .. b.SpecialTokensMask], [.. a.WordIds, .. b.WordIds],
            [.. a.SequenceIds, .. b.SequenceIds]);
        r.Overflowing = overflow;
        return r;
    }

    private Encoding CloneWithout() => Slice(0, Length);

    internal static Encoding MergeAll(IReadOnlyList<Encoding> parts)
    {
        // Fast path (no overflowing windows anywhere): one concatenation instead of pairwise merges.
        bool simple = true;
        int total = 0;
        foreach (var p in parts) { if (p.Overflowing.Count > 0) { simple = false; break; } total += p.Length; }
        if (simple)
        {
            var r = new Encoding(new int[total], new string[total], new (int, int)[total], new int[total], new int[total], new int[total],
                new int?[total], new int?[total]);
            int at = 0;
            foreach (var p in parts)
            {
                int n = p.Length;
                p.Ids.CopyTo(r.Ids, at); p.Tokens.CopyTo(r.Tokens, at); p.Offsets.CopyTo(r.Offsets, at); p.TypeIds.CopyTo(r.TypeIds, at);
                p.AttentionMask.CopyTo(r.AttentionMask, at); p.SpecialTokensMask.CopyTo(r.SpecialTokensMask, at);
                p.WordIds.CopyTo(r.WordIds, at); p.SequenceIds.CopyTo(r.SequenceIds, at);
                at += n;
            }
            return r;
        }
        Encoding? acc = null;
        foreach (var p in parts) acc = acc == null ? Merge(Empty(), p) : Merge(acc, p);
        return acc ?? Empty();
    }

    /// <summary>Pads to <paramref name="target"/> tokens (overflowing windows too).</summary>
    internal void Pad(int target, int padId, int padTypeId, string padToken, bool left)
    {
        foreach (var o in Overflowing) o.Pad(target, padId, padTypeId, padToken, left);
        int n = target - Length;
        if (n <= 0) return;
        Ids = Join(Ids, Enumerable.Repeat(padId, n).ToArray(), left);
        TypeIds = Join(TypeIds, Enumerable.Repeat(padTypeId, n).ToArray(), left);
        Tokens = Join(Tokens, Enumerable.Repeat(padToken, n).ToArray(), left);
        WordIds = Join(WordIds, new int?[n], left);
        SequenceIds = Join(SequenceIds, new int?[n], left);
        AttentionMask = Join(AttentionMask, new int[n], left);
        SpecialTokensMask = Join(SpecialTokensMask, Enumerable.Repeat(1, n).ToArray(), left);
        Offsets = Join(Offsets, new (int, int)[n], left);
    }

    private static T[] Join<T>(T[] a, T[] pad, bool left) => left ? [.. pad, .. a] : [.. a, .. pad];

    internal void SetTypeIds(int typeId) { for (int i = 0; i < TypeIds.Length; i++) TypeIds[i] = typeId; }
    internal void SetSequenceId(int seq) { for (int i = 0; i < SequenceIds.Length; i++) SequenceIds[i] = seq; }
}
