namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>How a split pattern's matches are kept (Hugging Face's SplitDelimiterBehavior).</summary>
public enum SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

/// <summary>A pre-tokenizer from tokenizer.json's <c>pre_tokenizer</c> block: splits text into words.</summary>
public abstract class PreTokenizer
{
    /// <summary>Splits every piece that is not yet a token; results replace <paramref name="list"/>'s pieces.</summary>
    internal abstract void PreTokenize(PieceList list, PieceList scratch);

    /// <summary>Convenience for tests: the words and their offsets in <paramref name="text"/>.</summary>
    public IReadOnlyList<(string Word, int Start, int End)> PreTokenize(string text)
    {
        var list = new PieceList();
        list.Text.SetOriginal(text, 0);
        if (text.Length > 0) list.Pieces.Add(new Piece(0, text.Length));
        PreTokenize(list, new PieceList());
        var result = new List<(string, int, int)>();
        foreach (var p in list.Pieces)
            result.Add((list.SpanOf(p).ToString(), list.Text.Starts[p.Start], list.Text.Ends[p.Start + p.Length - 1]));
        return result;
    }

    /// <summary>
    /// Hugging Face's <c>NormalizedString::split</c>: turns pattern matches inside one piece into kept
    /// sub-ranges according to <paramref name="behavior"/> (after an optional inversion).
    /// </summary>
    internal static void SplitByMatches(List<(int Start, int End)> matches, int length, SplitBehavior behavior, bool invert,
        List<Piece> output, int baseOffset)
    {
        // Full coverage of the piece: (start, end, isMatch)
        var cover = new List<(int S, int E, bool M)>(matches.Count * 2 + 1);
        int prev = 0;
        foreach (var (s, e) in matches)
        {
            if (prev != s) cover.Add((prev, s, invert));
            cover.Add((s, e, !invert));
            prev = e;
        }
        if (prev != length) cover.Add((prev, length, invert));

        switch (behavior)
        {
            case SplitBehavior.Isolated:
                foreach (var c in cover) Emit(output, baseOffset, c.S, c.E);
                break;
            case SplitBehavior.Removed:
                foreach (var c in cover) if (!c.M) Emit(output, baseOffset, c.S, c.E);
                break;
            case SplitBehavior.Contiguous:
            {
                var acc = new List<(int S, int E)>();
                bool previous = false;
                foreach (var c in cover)
                {
                    if (c.M == previous && acc.Count > 0) acc[^1] = (acc[^1].S, c.E);
                    else acc.Add((c.S, c.E));
                    previous = c.M;
                }
                foreach (var a in acc) Emit(output, baseOffset, a.S, a.E);
                break;
            }
            case SplitBehavior.MergedWithPrevious:
            {
                var acc = new List<(int S, int E)>();
                bool previous = false;
                foreach (var c in cover)
                {
                    if (c.M && !previous && acc.Count > 0) acc[^1] = (acc[^1].S, c.E);
                    else acc.Add((c.S, c.E));
                    previous = c.M;
                }
                foreach (var a in acc) Emit(output, baseOffset, a.S, a.E);
                break;
            }
            case SplitBehavior.MergedWithNext:
            {
                var acc = new List<(int S, int E)>();
                bool previous = false;
                for (int i = cover.Count - 1; i >= 0; i--)
                {
                    var c = cover[i];
                    if (c.M && !previous && acc.Count > 0) acc[^1] = (c.S, acc[^1].E);
                    else acc.Add((c.S, c.E));
                    previous = c.M;
                }
                for (int i = acc.Count - 1; i >= 0; i--) Emit(output, baseOffset, acc[i].S, acc[i].E);
                break;
            }
        }
    }

    private static void Emit(List<Piece> output, int baseOffset, int s, int e)
    {
        if (e > s) output.Add(new Piece(baseOffset + s, e - s));
    }
}

/// <summary>Base for pre-tokenizers that only split (never change characters): pieces keep pointing at the same text.</summary>
public abstract class SplittingPreTokenizer : PreTokenizer
{
    internal abstract void SplitPiece(ReadOnlySpan<char> piece, int baseOffset, List<Piece> output);

    internal override void PreTokenize(PieceList list, PieceList scratch)
    {
        var output = scratch.Pieces;
        output.Clear();
        foreach (var p in list.Pieces)
        {
            if (p.TokenId >= 0) { output.Add(p); continue; }
            SplitPiece(list.SpanOf(p), p.Start, output);
        }
        (list.Pieces, scratch.Pieces) = (scratch.Pieces, list.Pieces);
    }
}

public sealed class SequencePreTokenizer(IReadOnlyList<PreTokenizer> preTokenizers) : PreTokenizer
{
    public IReadOnlyList<PreTokenizer> PreTokenizers { get; } = preTokenizers;
    internal override void PreTokenize(PieceList list, PieceList scratch)
    {
        foreach (var p in PreTokenizers) p.PreTokenize(list, scratch);
    }
}

/// <summary>BERT: split on whitespace (removed) and on punctuation (isolated).</summary>
public sealed class BertPreTokenizer : SplittingPreTokenizer
{
    internal override void SplitPiece(ReadOnlySpan<char> s, int baseOffset, List<Piece> output)
    {
        int start = -1;
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            int cp, w;
            if (c < 0x80) { cp = c; w = 1; } else cp = NormalizedText.RuneAt(s, i, out w);
            if (UnicodeInfo.IsWhitespace(cp))
            {
                if (start >= 0) { output.Add(new Piece(baseOffset + start, i - start)); start = -1; }
            }
            else if (UnicodeInfo.IsPunctuation(cp))
            {
                if (start >= 0) { output.Add(new Piece(baseOffset + start, i - start)); start = -1; }
                output.Add(new Piece(baseOffset + i, w));
            }
            else if (start < 0) start = i;
            i += w;
        }
        if (start >= 0) output.Add(new Piece(baseOffset + start, s.Length - start));
    }
}

/// <summary>Splits on whitespace, removing it.</summary>
public sealed class WhitespaceSplitPreTokenizer : SplittingPreTokenizer
{
    internal override void SplitPiece(ReadOnlySpan<char> s, int baseOffset, List<Piece> output)
    {
        int start = -1;
        for (int i = 0; i < s.Length; i++)
        {
            if (UnicodeInfo.IsWhitespace(s[i]))
            {
                if (start >= 0) { output.Add(new Piece(baseOffset + start, i - start)); start = -1; }
            }
            else if (start < 0) start = i;
        }
        if (start >= 0) output.Add(new Piece(baseOffset + start, s.Length - start));
    }
}

/// <summary>Pattern-based split (Split, Whitespace, Punctuation, Digits).</summary>
public sealed class SplitPreTokenizer(SplitPattern pattern, SplitBehavior behavior, bool invert) : SplittingPreTokenizer
{
    public SplitPattern Pattern { get; } = pattern;
    public SplitBehavior Behavior { get; } = behavior;
    public bool Invert { get; } = invert;

    internal override void SplitPiece(ReadOnlySpan<char> s, int baseOffset, List<Piece> output) =>
        SplitByMatches(Pattern.FindMatches(s), s.Length, Behavior, Invert, output, baseOffset);

    /// <summary><c>\w+|[^\w\s]+</c> kept, the rest removed (\w as Oniguruma's Unicode word class).</summary>
    public static SplitPreTokenizer Whitespace() => new(new WordOrSymbolPattern(), SplitBehavior.Removed, invert: true);
    public static SplitPreTokenizer Punctuation(SplitBehavior behavior) => new(new CharPredicatePattern(UnicodeInfo.IsPunctuation), behavior, false);
    public static SplitPreTokenizer Digits(bool individual) =>
        new(new CharPredicatePattern(UnicodeInfo.IsNumeric), individual ? SplitBehavior.Isolated : SplitBehavior.Contiguous, false);
}

/// <summary>
/// <c>\w+|[^\w\s]+</c> as Hugging Face's Whitespace pre-tokenizer runs it with the regex crate: \w = Alphabetic, marks,
/// decimal numbers, connector punctuation, join controls (that crate's table); \s = White_Space.
/// </summary>
internal sealed class WordOrSymbolPattern : SplitPattern
{
    private static bool IsWord(int cp) => UnicodeInfo.IsRustWord(cp);

    public override List<(int Start, int End)> FindMatches(ReadOnlySpan<char> text)
    {
        var list = new List<(int, int)>();
        int i = 0;
        while (i < text.Length)
        {
            int cp = NormalizedText.RuneAt(text, i, out int w);
            if (UnicodeInfo.IsWhitespace(cp)) { i += w; continue; }
            bool word = IsWord(cp);
            int start = i;
            i += w;
            while (i < text.Length)
            {
                int c2 = NormalizedText.RuneAt(text, i, out int w2);
                if (UnicodeInfo.IsWhitespace(c2) || IsWord(c2) != word) break;
                i += w2;
            }
            list.Add((start, i));
        }
        return list;
    }
}
