using System.Collections.Concurrent;
using System.Text;

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
        // One pass: every output character derives from one input code point and takes its alignment,
        // which is what the four chained Hugging Face transforms produce.
        scratch.Clear(text.OriginStart);
        scratch.Ensure(text.Length + 8);
        var chars = text.Chars;
        int n = text.Length;
        Span<int> low = stackalloc int[2];
        int i = 0;
        while (i < n)
        {
            char ch = chars[i];
            int s = text.Starts[i], e = text.Ends[i];
            if (ch < 0x80)
            {
                if (ch >= 0x20 && ch != 0x7F)
                {
                    scratch.Append(Lowercase && (uint)(ch - 'A') <= 'Z' - 'A' ? (char)(ch + 32) : ch, s, e);
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
                if (cp == 0xFFFD || UnicodeInfo.IsOther(cp)) continue;
                if (UnicodeInfo.IsWhitespace(cp)) { scratch.Append(' ', s, e); continue; }
            }
            if (HandleChineseChars && UnicodeInfo.IsChineseChar(cp))
            {
                scratch.Append(' ', s, e);
                scratch.AppendRune(Lowercase ? LowerOne(cp, low) : cp, s, e);
                scratch.Append(' ', s, e);
                continue;
            }
            if (StripAccents && cp >= 0xC0)
            {
                foreach (int d in Decompositions.Nfd(cp))
                {
                    if (UnicodeInfo.IsNonSpacingMark(d)) continue;
                    EmitLower(scratch, d, s, e, low);
                }
                continue;
            }
            if (StripAccents && UnicodeInfo.IsNonSpacingMark(cp)) continue;
            EmitLower(scratch, cp, s, e, low);
        }
        text.Swap(scratch);
    }

    private void EmitLower(NormalizedText dst, int cp, int s, int e, Span<int> low)
    {
        if (!Lowercase) { dst.AppendRune(cp, s, e); return; }
        int k = UnicodeInfo.ToLower(cp, low);
        for (int j = 0; j < k; j++) dst.AppendRune(low[j], s, e);
    }

    private static int LowerOne(int cp, Span<int> low) { UnicodeInfo.ToLower(cp, low); return low[0]; }
}

public sealed class LowercaseNormalizer : Normalizer
{
    internal override void Normalize(NormalizedText text, NormalizedText scratch)
    {
        var w = new TransformWriter(text, scratch);
        Span<int> low = stackalloc int[2];
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

/// <summary>Removes combining marks (Mn, Mc, Me, as Hugging Face's <c>is_combining_mark</c>); use after NFD/NFKD.</summary>
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
            if (UnicodeInfo.IsMark(cp)) w.Skip(1); else w.Replace(cp);
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

/// <summary>Unicode normalization forms, applied per segment (a starter with its following marks).</summary>
public sealed class UnicodeNormalizer(UnicodeForm form) : Normalizer
{
    public UnicodeForm Form { get; } = form;
    private NormalizationForm NetForm => Form switch
    {
        UnicodeForm.NFC => NormalizationForm.FormC,
        UnicodeForm.NFD => NormalizationForm.FormD,
        UnicodeForm.NFKC => NormalizationForm.FormKC,
        _ => NormalizationForm.FormKD,
    };

    internal override void Normalize(NormalizedText text, NormalizedText scratch)
    {
        var span = text.Span;
        int firstNonAscii = span.IndexOfAnyExceptInRange((char)0, (char)0x7F);
        if (firstNonAscii < 0) return;
        if (span.IsNormalized(NetForm)) return;
        var w = new TransformWriter(text, scratch);
        if (firstNonAscii > 0) firstNonAscii--; // the ASCII character before may be the base of a combining mark
        w.Copy(firstNonAscii);
        int i = firstNonAscii;
        var runes = new List<int>(8);
        while (i < span.Length)
        {
            int segStart = i;
            int cp = NormalizedText.RuneAt(span, i, out int width);
            i += width;
            // an ASCII letter is a segment of its own unless combining marks follow it ("e" + U+0301 composes)
            if (cp < 0x80 && (i >= span.Length || span[i] < 0x300 || !IsCombining(NormalizedText.RuneAt(span, i, out _)))) { w.Copy(width); continue; }
            while (i < span.Length)
            {
                int next = NormalizedText.RuneAt(span, i, out int nw);
                if (!IsCombining(next)) break;
                i += nw;
            }
            var seg = span[segStart..i];
            string norm = seg.ToString().Normalize(NetForm);
            if (norm.AsSpan().SequenceEqual(seg)) { w.Copy(i - segStart); continue; }
            if (!WriteByOwners(ref w, seg, norm, Form is UnicodeForm.NFKC or UnicodeForm.NFKD))
                WriteReplacement(ref w, ReplaceNormalizer.CountRunes(seg), norm);
        }
        text.Swap(scratch);
    }

    /// <summary>
    /// Aligns each output character with the input characters it came from, found by decomposing both sides: a
    /// composed character replaces its first source and drops the others (e + U+0301 gives é aligned to e), a mark
    /// that stayed separate keeps its own alignment, extra characters of a decomposition are inserted. Returns false
    /// when the decompositions do not line up (reordering), leaving the caller to apply the plain rule.
    /// </summary>
    private static bool WriteByOwners(ref TransformWriter w, ReadOnlySpan<char> seg, string norm, bool compat)
    {
        var form = compat ? NormalizationForm.FormKD : NormalizationForm.FormD;
        // decomposed input code points with the index of the input character each came from
        var flat = new List<(int Cp, int Owner)>(seg.Length * 2);
        int k = 0, owner = 0;
        while (k < seg.Length)
        {
            NormalizedText.RuneAt(seg, k, out int cw);
            string d = seg.Slice(k, cw).ToString().Normalize(form);
            int j = 0;
            while (j < d.Length) { flat.Add((NormalizedText.RuneAt(d, j, out int dw), owner)); j += dw; }
            owner++;
            k += cw;
        }
        var used = new bool[flat.Count];
        // for every output character: the input characters its decomposition is made of (matched by value, so
        // canonical reordering is followed)
        var outputs = new List<(int Cp, int MaxOwner)>();
        int i = 0;
        while (i < norm.Length)
        {
            int cp = NormalizedText.RuneAt(norm, i, out int cw);
            string d = norm.Substring(i, cw).Normalize(form);
            i += cw;
            int maxOwner = -1, j = 0;
            while (j < d.Length)
            {
                int dc = NormalizedText.RuneAt(d, j, out int dw);
                j += dw;
                int at = -1;
                for (int f = 0; f < flat.Count; f++) if (!used[f] && flat[f].Cp == dc) { at = f; break; }
                if (at < 0) return false;
                used[at] = true;
                maxOwner = Math.Max(maxOwner, flat[at].Owner);
            }
            outputs.Add((cp, maxOwner));
        }
        if (used.Any(u => !u)) return false;
        int consumed = 0;
        foreach (var (cp, maxOwner) in outputs)
        {
            if (maxOwner < consumed) { w.Insert(cp); continue; }
            w.Replace(cp);
            if (maxOwner > consumed) w.Skip(maxOwner - consumed); // the later sources this character absorbed
            consumed = maxOwner + 1;
        }
        if (consumed < owner) w.Skip(owner - consumed);
        return true;
    }

    /// <summary>Marks and Hangul medial/final jamo attach to the preceding character when (de)composing.</summary>
    private static bool IsCombining(int cp) => UnicodeInfo.IsMark(cp) || (cp >= 0x1160 && cp <= 0x11FF) || cp == 0x3099 || cp == 0x309A;

    /// <summary>Hugging Face's replace rule: k old code points become m new ones.</summary>
    internal static void WriteReplacement(ref TransformWriter w, int oldCount, ReadOnlySpan<char> replacement)
    {
        int j = 0, written = 0;
        int newCount = ReplaceNormalizer.CountRunes(replacement);
        while (j < replacement.Length)
        {
            int cp = NormalizedText.RuneAt(replacement, j, out int cw);
            j += cw;
            if (written < oldCount) w.Replace(cp); else w.Insert(cp);
            written++;
        }
        if (newCount < oldCount) w.Skip(oldCount - newCount);
    }
}

/// <summary>Per-code-point canonical decompositions, cached.</summary>
internal static class Decompositions
{
    private static readonly ConcurrentDictionary<int, int[]> s_nfd = new();

    public static int[] Nfd(int cp) => s_nfd.GetOrAdd(cp, static c =>
    {
        string s = char.ConvertFromUtf32(c).Normalize(NormalizationForm.FormD);
        var list = new List<int>(s.Length);
        int i = 0;
        while (i < s.Length) { list.Add(NormalizedText.RuneAt(s, i, out int w)); i += w; }
        return [.. list];
    });
}
