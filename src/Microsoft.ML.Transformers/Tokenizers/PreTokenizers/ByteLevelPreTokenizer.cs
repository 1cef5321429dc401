namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>GPT-2's byte-level pre-tokenizer: optional prefix space, the GPT-2 split regex, bytes mapped to printable characters.</summary>
public sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex, bool trimOffsets = true) : PreTokenizer
{
    public bool AddPrefixSpace { get; } = addPrefixSpace;
    public bool UseRegex { get; } = useRegex;
    public bool TrimOffsets { get; } = trimOffsets;

    [ThreadStatic] private static NormalizedText? t_tmp;
    [ThreadStatic] private static List<(int, int)>? t_matches;

    internal override void PreTokenize(PieceList list, PieceList scratch)
    {
        scratch.Clear();
        var tmp = t_tmp ??= new NormalizedText();
        var matches = t_matches ??= new List<(int, int)>(64);
        var src = list.Text;
        var dst = scratch.Text;
        foreach (var p in list.Pieces)
        {
            if (p.TokenId >= 0) { scratch.AddCopy(src, p.Start, p.Length, p.TokenId); continue; }
            ReadOnlySpan<char> s;
            NormalizedText from;
            int offset;
            if (AddPrefixSpace && src.Chars[p.Start] != ' ')
            {
                tmp.Clear(src.OriginStart);
                tmp.Ensure(p.Length + 1);
                tmp.Append(' ', src.Starts[p.Start], src.Ends[p.Start]);
                Array.Copy(src.Chars, p.Start, tmp.Chars, 1, p.Length);
                Array.Copy(src.Starts, p.Start, tmp.Starts, 1, p.Length);
                Array.Copy(src.Ends, p.Start, tmp.Ends, 1, p.Length);
                tmp.Length = p.Length + 1;
                from = tmp; offset = 0; s = tmp.Span;
            }
            else { from = src; offset = p.Start; s = list.SpanOf(p); }

            matches.Clear();
            if (UseRegex) Gpt2Split(s, matches); else matches.Add((0, s.Length));
            foreach (var (ms, me) in matches) WriteBytes(from, offset + ms, me - ms, scratch);
        }
        (list.Text, scratch.Text) = (scratch.Text, list.Text);
        (list.Pieces, scratch.Pieces) = (scratch.Pieces, list.Pieces);
        _ = dst;
    }

    /// <summary>Maps every UTF-8 byte of the range to its printable stand-in; all bytes of one character share its alignment.</summary>
    private static void WriteBytes(NormalizedText src, int start, int length, PieceList outList)
    {
        if (length == 0) return;
        var dst = outList.Text;
        int at = dst.Length;
        dst.Ensure(length * 4);
        var chars = dst.Chars; var starts = dst.Starts; var ends = dst.Ends;
        int n = dst.Length;
        int end = start + length;
        int i = start;
        var map = ByteLevel.ByteToChar;
        while (i < end)
        {
            char c = src.Chars[i];
            int s = src.Starts[i], e = src.Ends[i];
            if (c < 0x80) { chars[n] = map[c]; starts[n] = s; ends[n] = e; n++; i++; continue; }
            int cp = NormalizedText.RuneAt(src.Chars.AsSpan(0, end), i, out int w);
            i += w;
            if (cp < 0x800)
            {
                chars[n] = map[0xC0 | (cp >> 6)]; starts[n] = s; ends[n] = e; n++;
                chars[n] = map[0x80 | (cp & 0x3F)]; starts[n] = s; ends[n] = e; n++;
            }
            else if (cp < 0x10000)
            {
                chars[n] = map[0xE0 | (cp >> 12)]; starts[n] = s; ends[n] = e; n++;
                chars[n] = map[0x80 | ((cp >> 6) & 0x3F)]; starts[n] = s; ends[n] = e; n++;
                chars[n] = map[0x80 | (cp & 0x3F)]; starts[n] = s; ends[n] = e; n++;
            }
            else
            {
                chars[n] = map[0xF0 | (cp >> 18)]; starts[n] = s; ends[n] = e; n++;
                chars[n] = map[0x80 | ((cp >> 12) & 0x3F)]; starts[n] = s; ends[n] = e; n++;
                chars[n] = map[0x80 | ((cp >> 6) & 0x3F)]; starts[n] = s; ends[n] = e; n++;
                chars[n] = map[0x80 | (cp & 0x3F)]; starts[n] = s; ends[n] = e; n++;
            }
        }
        dst.Length = n;
        outList.Pieces.Add(new Piece(at, n - at));
    }

    /// <summary>
    /// Hand-written equivalent of GPT-2's pattern
    /// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>.
    /// </summary>
    internal static void Gpt2Split(ReadOnlySpan<char> s, List<(int, int)> matches)
    {
        int n = s.Length;
        int i = 0;
        while (i < n)
        {
            char c = s[i];
            if (c == '\'' && i + 1 < n)
            {
                char d = s[i + 1];
                if (d is 's' or 't' or 'm' or 'd') { matches.Add((i, i + 2)); i += 2; continue; }
                if (i + 2 < n && ((d == 'r' && s[i + 2] == 'e') || (d == 'v' && s[i + 2] == 'e') || (d == 'l' && s[i + 2] == 'l')))
                { matches.Add((i, i + 3)); i += 3; continue; }
            }
            int j = c == ' ' ? i + 1 : i;
            if (j < n)
            {
                int cls = Class(s, j, out int w);
                if (cls == 1 || cls == 2)
                {
                    int k = j + w;
                    while (k < n && Class(s, k, out int w2) == cls) k += w2;
                    matches.Add((i, k)); i = k; continue;
                }
                if (cls == 3)
                {
                    int k = j + w;
                    while (k < n && Class(s, k, out int w2) == 3) k += w2;
                    matches.Add((i, k)); i = k; continue;
                }
            }
            // whitespace run starting at i
            int r = i;
            while (r < n && UnicodeInfo.IsWhitespace(s[r])) r++;
            if (r == i) { matches.Add((i, i + 1)); i++; continue; } // unreachable in practice
            if (r == n) { matches.Add((i, n)); i = n; continue; }
            if (r - 1 > i) { matches.Add((i, r - 1)); i = r - 1; continue; }
            matches.Add((i, i + 1)); i++;
        }
    }

    /// <summary>0 whitespace, 1 letter, 2 number, 3 other.</summary>
    private static int Class(ReadOnlySpan<char> s, int i, out int width)
    {
        char c = s[i];
        if (c < 0x80)
        {
            width = 1;
            if ((uint)((c | 0x20) - 'a') <= 'z' - 'a') return 1;
            if ((uint)(c - '0') <= 9) return 2;
            if (c == ' ' || (c >= 9 && c <= 13)) return 0;
            return 3;
        }
        int cp = NormalizedText.RuneAt(s, i, out width);
        if (UnicodeInfo.IsWhitespace(cp)) return 0;
        if (UnicodeInfo.IsLetter(cp)) return 1;
        if (UnicodeInfo.IsRegexNumber(cp)) return 2;
        return 3;
    }
}

/// <summary>The byte to printable-character table shared by the byte-level components.</summary>
public static class ByteLevel
{
    public static readonly char[] ByteToChar = BuildTable();
    public static readonly Dictionary<char, byte> CharToByte = BuildReverse();

    private static char[] BuildTable()
    {
        var table = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char)b : (char)(256 + n++);
        }
        return table;
    }

    private static Dictionary<char, byte> BuildReverse()
    {
        var d = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++) d[ByteToChar[b]] = (byte)b;
        return d;
    }
}

public enum PrependScheme { Always, First, Never }

/// <summary>SentencePiece-style: spaces become the replacement character, which is prepended and split on.</summary>
public sealed class MetaspacePreTokenizer(char replacement, PrependScheme prependScheme, bool split) : PreTokenizer
{
    public char Replacement { get; } = replacement;
    public PrependScheme PrependScheme { get; } = prependScheme;
    public bool Split { get; } = split;

    internal override void PreTokenize(PieceList list, PieceList scratch)
    {
        scratch.Clear();
        var src = list.Text;
        var dst = scratch.Text;
        foreach (var p in list.Pieces)
        {
            if (p.TokenId >= 0) { scratch.AddCopy(src, p.Start, p.Length, p.TokenId); continue; }
            int at = dst.Length;
            dst.Ensure(p.Length + 1);
            char first = src.Chars[p.Start] == ' ' ? Replacement : src.Chars[p.Start];
            bool prepend = first != Replacement && (PrependScheme == PrependScheme.Always
                || (PrependScheme == PrependScheme.First && src.Starts[p.Start] == 0));
            if (prepend) dst.Append(Replacement, src.Starts[p.Start], src.Ends[p.Start]);
            for (int i = p.Start; i < p.Start + p.Length; i++)
                dst.Append(src.Chars[i] == ' ' ? Replacement : src.Chars[i], src.Starts[i], src.Ends[i]);
            int len = dst.Length - at;
            if (!Split) { scratch.Pieces.Add(new Piece(at, len)); continue; }
            // MergedWithNext on every replacement character
            int segStart = 0;
            var span = dst.Chars.AsSpan(at, len);
            for (int i = 1; i < len; i++)
            {
                if (span[i] == Replacement)
                {
                    // a run of replacements: each one starts a new piece
                    if (i > segStart) scratch.Pieces.Add(new Piece(at + segStart, i - segStart));
                    segStart = i;
                }
            }
            if (len > segStart) scratch.Pieces.Add(new Piece(at + segStart, len - segStart));
        }
        (list.Text, scratch.Text) = (scratch.Text, list.Text);
        (list.Pieces, scratch.Pieces) = (scratch.Pieces, list.Pieces);
    }
}
