namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>A normalizer from tokenizer.json's <c>normalizer</c> block. Rewrites text while keeping alignments.</summary>
public abstract class Normalizer
{
    /// <summary>Normalizes <paramref name="text"/> in place; <paramref name="scratch"/> is a reusable buffer.</summary>
    internal abstract void Normalize(NormalizedText text, NormalizedText scratch);

    /// <summary>Convenience for callers and tests: the normalized string.</summary>
    public string Normalize(string input)
    {
        var t = new NormalizedText();
        t.SetOriginal(input, 0);
        Normalize(t, new NormalizedText());
        return t.ToString();
    }
}

public sealed class SequenceNormalizer(IReadOnlyList<Normalizer> normalizers) : Normalizer
{
    public IReadOnlyList<Normalizer> Normalizers { get; } = normalizers;
    internal override void Normalize(NormalizedText text, NormalizedText scratch)
    {
        foreach (var n in Normalizers) n.Normalize(text, scratch);
    }
}

/// <summary>BERT's normalizer: clean control characters, pad CJK ideographs, strip accents, lowercase.</summary>
public sealed class BertNormalizer(bool cleanText, bool handleChineseChars, bool? stripAccents, bool lowercase) : Normalizer
{
    public bool CleanText { get; } = cleanText;
    public bool HandleChineseChars { get; } = handleChineseChars;
    public bool StripAccents { get; } = stripAccents ?? lowercase; // Hugging Face: null follows lowercase
    public bool Lowercase { get; } = lowercase;

    internal override void Normalize(NormalizedText text, NormalizedText scratch)
    {
        // Hugging Face chains four transforms: clean, Chinese padding, NFD + drop nonspacing marks, lowercase. Every
        // output character of clean, padding and lowercase derives from one input code point and takes its alignment,
        // so those run as one pass. Stripping accents decomposes and reorders (its alignments follow output positions),
        // so when the text has anything to decompose or reorder it runs as the exact chain.
        bool exact = StripAccents && NeedsDecomposition(text.Span);
        OnePass(text, scratch, stripMarks: StripAccents && !exact, lower: Lowercase && !exact);
        if (!exact) return;
        var changes = t_changes ??= new List<(int Cp, int Change)>(64);
        UnicodeNormalization.Normalize(text.Span, compat: false, compose: false, changes);
        var w = new TransformWriter(text, scratch);
        foreach (var (cp, change) in changes)
        {
            if (UnicodeInfo.IsNonSpacingMark(cp)) w.Skip(1 - change); // dropped (as Hugging Face's filter): consumes what it stood for
            else w.Apply(cp, change);
        }
        text.Swap(scratch);
        if (Lowercase) LowercaseNormalizer.Lower(text, scratch);
    }

    [ThreadStatic] private static List<(int Cp, int Change)>? t_changes;

    private static bool NeedsDecomposition(ReadOnlySpan<char> s)
    {
        int i = 0;
        while (i < s.Length)
        {
            if (s[i] < 0xC0) { i++; continue; }
            int cp = NormalizedText.RuneAt(s, i, out int w);
            i += w;
            if ((UnicodeTables.Info(cp) & UnicodeTables.NfdUnstable) != 0) return true;
        }
        return false;
    }

    private void OnePass(NormalizedText text, NormalizedText scratch, bool stripMarks, bool lower)
    {
        scratch.Clear(text.OriginStart);
        scratch.Ensure(text.Length + 8);
        var chars = text.Chars;
        int n = text.Length;
        Span<int> low = stackalloc int[3];
        int i = 0;
        while (i < n)
        {
            char ch = chars[i];
            int s = text.Starts[i], e = text.Ends[i];
            if (ch < 0x80)
            {
                if (ch >= 0x20 && ch != 0x7F)
                {
                    scratch.Append(lower && (uint)(ch - 'A') <= 'Z' - 'A' ? (char)(ch + 32) : ch, s, e);
                }
                else if (!CleanText) scratch.Append(ch, s, e);
                else if (ch is '\t' or '\n' or '\r') scratch.Append(' ', s, e);
                // other ASCII controls (and NUL) are dropped when cleaning
                i++;
                continue;
            }
            int cp = NormalizedText.RuneAt(text.Span, i, out int w);
            i += w;
            if (CleanText)
            {
                if (UnicodeInfo.IsBertRemoved(cp)) continue;
                if (UnicodeInfo.IsWhitespace(cp)) { scratch.Append(' ', s, e); continue; }
            }
            if (HandleChineseChars && UnicodeInfo.IsChineseChar(cp))
            {
                scratch.Append(' ', s, e);
                EmitLower(scratch, cp, s, e, low, lower);
                scratch.Append(' ', s, e);
                continue;
            }
            if (stripMarks && UnicodeInfo.IsNonSpacingMark(cp)) continue;
            EmitLower(scratch, cp, s, e, low, lower);
        }
        text.Swap(scratch);
    }

    private static void EmitLower(NormalizedText dst, int cp, int s, int e, Span<int> low, bool lower)
    {
        if (!lower) { dst.AppendRune(cp, s, e); return; }
        int k = UnicodeInfo.ToLower(cp, low);
        for (int j = 0; j < k; j++) dst.AppendRune(low[j], s, e);
    }
}

public sealed class LowercaseNormalizer : Normalizer
{
    internal override void Normalize(NormalizedText text, NormalizedText scratch) => Lower(text, scratch);

    /// <summary>Rust's <c>to_lowercase</c> per character; extra characters of a mapping are inserted.</summary>
    internal static void Lower(NormalizedText text, NormalizedText scratch)
    {
        var w = new TransformWriter(text, scratch);
        Span<int> low = stackalloc int[3];
        var span = text.Span;
        int i = 0;
        while (i < span.Length)
        {
            int cp = NormalizedText.RuneAt(span, i, out int width);
            i += width;
            int k = UnicodeInfo.ToLower(cp, low);
            w.Replace(low[0]);
            for (int j = 1; j < k; j++) w.Insert(low[j]);
        }
        text.Swap(scratch);
    }
}

/// <summary>Removes combining marks (Hugging Face's <c>is_combining_mark</c>); use after NFD/NFKD.</summary>
public sealed class StripAccentsNormalizer : Normalizer
{
    internal override void Normalize(NormalizedText text, NormalizedText scratch)
    {
        var w = new TransformWriter(text, scratch);
        var span = text.Span;
        int i = 0;
        while (i < span.Length)
        {
            int cp = NormalizedText.RuneAt(span, i, out int width);
            i += width;
            if (UnicodeInfo.IsCombiningMark(cp)) w.Skip(1); else w.Replace(cp);
        }
        text.Swap(scratch);
    }
}

public sealed class StripNormalizer(bool left, bool right) : Normalizer
{
    public bool Left { get; } = left;
    public bool Right { get; } = right;
    internal override void Normalize(NormalizedText text, NormalizedText scratch)
    {
        var span = text.Span;
        int a = 0, b = span.Length;
        if (Left) while (a < b && UnicodeInfo.IsWhitespace(span[a])) a++;
        if (Right) while (b > a && UnicodeInfo.IsWhitespace(span[b - 1])) b--;
        if (a == 0 && b == span.Length) return;
        scratch.CopyFrom(text, a, b - a);
        text.Swap(scratch);
    }
}

public sealed class PrependNormalizer(string prepend) : Normalizer
{
    public string Prepend { get; } = prepend;
    internal override void Normalize(NormalizedText text, NormalizedText scratch)
    {
        if (text.Length == 0 || Prepend.Length == 0) return;
        scratch.Clear(text.OriginStart);
        scratch.Ensure(text.Length + Prepend.Length);
        int s = text.Starts[0], e = text.Ends[0];
        foreach (char c in Prepend) scratch.Append(c, s, e);
        Array.Copy(text.Chars, 0, scratch.Chars, scratch.Length, text.Length);
        Array.Copy(text.Starts, 0, scratch.Starts, scratch.Length, text.Length);
        Array.Copy(text.Ends, 0, scratch.Ends, scratch.Length, text.Length);
        scratch.Length += text.Length;
        text.Swap(scratch);
    }
}

/// <summary>Replaces every match of a string or regex with <c>content</c>; the new text aligns with the match's last character.</summary>
public sealed class ReplaceNormalizer(SplitPattern pattern, string content) : Normalizer
{
    public SplitPattern Pattern { get; } = pattern;
    public string Content { get; } = content;
    internal override void Normalize(NormalizedText text, NormalizedText scratch)
    {
        var span = text.Span;
        var matches = Pattern.FindMatches(span);
        if (matches.Count == 0) return;
        var w = new TransformWriter(text, scratch);
        foreach (var (start, end) in matches)
        {
            if (start > w.Position) w.Copy(start - w.Position);
            if (end == start) continue;
            int cps = CountRunes(span[start..end]);
            w.Skip(cps);
            int i = 0;
            while (i < Content.Length) { int cp = NormalizedText.RuneAt(Content, i, out int cw); i += cw; w.Insert(cp); }
        }
        if (w.Position < text.Length) w.Copy(text.Length - w.Position);
        text.Swap(scratch);
    }

    internal static int CountRunes(ReadOnlySpan<char> s)
    {
        int n = 0;
        for (int i = 0; i < s.Length; i++) if (!char.IsLowSurrogate(s[i]) || i == 0 || !char.IsHighSurrogate(s[i - 1])) n++;
        return n;
    }
}

public enum UnicodeForm { NFC, NFD, NFKC, NFKD }

/// <summary>
/// Unicode normalization forms with the character data and the alignment rule of Hugging Face's tokenizers
/// (<see cref="UnicodeNormalization"/>): the i-th output character that is not an insertion takes the alignment of the
/// next input character, so marks that canonical ordering moves take the alignments of the positions they move to.
/// </summary>
public sealed class UnicodeNormalizer(UnicodeForm form) : Normalizer
{
    public UnicodeForm Form { get; } = form;

    [ThreadStatic] private static List<(int Cp, int Change)>? t_changes;

    internal override void Normalize(NormalizedText text, NormalizedText scratch)
    {
        bool compat = Form is UnicodeForm.NFKC or UnicodeForm.NFKD, compose = Form is UnicodeForm.NFC or UnicodeForm.NFKC;
        var span = text.Span;
        if (UnicodeNormalization.IsStable(span, compat, compose)) return;
        var changes = t_changes ??= new List<(int Cp, int Change)>(span.Length + 16);
        UnicodeNormalization.Normalize(span, compat, compose, changes);
        var w = new TransformWriter(text, scratch);
        foreach (var (cp, change) in changes) w.Apply(cp, change);
        text.Swap(scratch);
    }
}
