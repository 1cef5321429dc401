namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>
/// Text being normalized, with, for every UTF-16 unit, the range of the original string it came from
/// (Hugging Face's NormalizedString keeps the same per byte). Offsets are absolute indices into the
/// original .NET string. Buffers are reused: a normalizer reads one instance and writes another.
/// </summary>
public sealed class NormalizedText
{
    internal char[] Chars = new char[64];
    internal int[] Starts = new int[64];
    internal int[] Ends = new int[64];
    internal int Length;
    /// <summary>Original offset used when a character is inserted before anything was consumed (Rust: (0, 0) of the slice).</summary>
    internal int OriginStart;

    public ReadOnlySpan<char> Span => Chars.AsSpan(0, Length);
    public override string ToString() => new(Chars, 0, Length);

    internal void Clear(int originStart) { Length = 0; OriginStart = originStart; }

    internal void Ensure(int extra)
    {
        int need = Length + extra;
        if (need <= Chars.Length) return;
        int size = Math.Max(need, Chars.Length * 2);
        Array.Resize(ref Chars, size);
        Array.Resize(ref Starts, size);
        Array.Resize(ref Ends, size);
    }

    internal void Append(char c, int start, int end)
    {
        if (Length == Chars.Length) Ensure(1);
        Chars[Length] = c; Starts[Length] = start; Ends[Length] = end; Length++;
    }

    /// <summary>Appends a code point (one or two UTF-16 units) with one alignment.</summary>
    internal void AppendRune(int cp, int start, int end)
    {
        if (cp < 0x10000) { Append((char)cp, start, end); return; }
        cp -= 0x10000;
        Append((char)(0xD800 + (cp >> 10)), start, end);
        Append((char)(0xDC00 + (cp & 0x3FF)), start, end);
    }

    /// <summary>Loads a slice of the original string with identity alignments.</summary>
    internal void SetOriginal(ReadOnlySpan<char> text, int originOffset)
    {
        Length = 0; OriginStart = originOffset;
        Ensure(text.Length);
        text.CopyTo(Chars);
        int i = 0;
        while (i < text.Length)
        {
            int w = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            for (int k = 0; k < w; k++) { Starts[i + k] = originOffset + i; Ends[i + k] = originOffset + i + w; }
            i += w;
        }
        Length = text.Length;
    }

    internal void CopyFrom(NormalizedText src, int start, int length)
    {
        Length = 0; OriginStart = src.OriginStart;
        Ensure(length);
        Array.Copy(src.Chars, start, Chars, 0, length);
        Array.Copy(src.Starts, start, Starts, 0, length);
        Array.Copy(src.Ends, start, Ends, 0, length);
        Length = length;
    }

    internal void Swap(NormalizedText other)
    {
        (Chars, other.Chars) = (other.Chars, Chars);
        (Starts, other.Starts) = (other.Starts, Starts);
        (Ends, other.Ends) = (other.Ends, Ends);
        (Length, other.Length) = (other.Length, Length);
        (OriginStart, other.OriginStart) = (other.OriginStart, OriginStart);
    }

    internal static int RuneAt(ReadOnlySpan<char> s, int i, out int width)
    {
        char c = s[i];
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            width = 2;
            return char.ConvertToUtf32(c, s[i + 1]);
        }
        width = 1;
        return c;
    }
}

/// <summary>
/// Writes a new normalized text from an old one following Hugging Face's <c>transform</c> rules: a character
/// that replaces an old one takes its alignment; an inserted one takes the alignment of the last consumed
/// old character (or an empty range at the start).
/// </summary>
internal ref struct TransformWriter
{
    private readonly NormalizedText _src;
    private readonly NormalizedText _dst;
    private int _pos; // next unconsumed UTF-16 index in src

    public TransformWriter(NormalizedText src, NormalizedText dst)
    {
        _src = src; _dst = dst; _pos = 0;
        dst.Clear(src.OriginStart);
        dst.Ensure(src.Length + 8);
    }

    public readonly int Position => _pos;

    /// <summary>Consumes one old code point and writes <paramref name="cp"/> aligned to it (change 0).</summary>
    public void Replace(int cp)
    {
        int s = _src.Starts[_pos], e = _src.Ends[_pos];
        _pos += char.IsHighSurrogate(_src.Chars[_pos]) && _pos + 1 < _src.Length && char.IsLowSurrogate(_src.Chars[_pos + 1]) ? 2 : 1;
        _dst.AppendRune(cp, s, e);
    }

    /// <summary>Writes an inserted code point (change +1).</summary>
    public void Insert(int cp)
    {
        if (_pos == 0) _dst.AppendRune(cp, _src.OriginStart, _src.OriginStart);
        else _dst.AppendRune(cp, _src.Starts[_pos - 1], _src.Ends[_pos - 1]);
    }

    /// <summary>Consumes (drops) old code points without writing anything.</summary>
    public void Skip(int codePoints)
    {
        for (int k = 0; k < codePoints && _pos < _src.Length; k++)
            _pos += char.IsHighSurrogate(_src.Chars[_pos]) && _pos + 1 < _src.Length && char.IsLowSurrogate(_src.Chars[_pos + 1]) ? 2 : 1;
    }

    /// <summary>Copies old UTF-16 units unchanged (fast path).</summary>
    public void Copy(int units)
    {
        _dst.Ensure(units);
        Array.Copy(_src.Chars, _pos, _dst.Chars, _dst.Length, units);
        Array.Copy(_src.Starts, _pos, _dst.Starts, _dst.Length, units);
        Array.Copy(_src.Ends, _pos, _dst.Ends, _dst.Length, units);
        _dst.Length += units;
        _pos += units;
    }

    /// <summary>Hugging Face's general change list: (cp, change) with change 1 = insert, 0 = replace, -n = replace then drop n.</summary>
    public void Apply(int cp, int change)
    {
        if (change > 0) { Insert(cp); return; }
        Replace(cp);
        if (change < 0) Skip(-change);
    }
}
