using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>
/// SentencePiece's precompiled character map: a darts-clone double-array trie over UTF-8 bytes whose values
/// index NUL-terminated replacement strings. Applied per grapheme cluster (whole cluster first when shorter
/// than 6 bytes, else per character), as Hugging Face's <c>Precompiled</c> normalizer does.
/// </summary>
public sealed class PrecompiledNormalizer : Normalizer
{
    private readonly uint[] _trie;
    private readonly byte[] _normalized;
    public byte[] CharsMap { get; }

    private readonly bool[] _asciiMapped = new bool[128];
    [ThreadStatic] private static List<(int Cp, int Change)>? t_changes;

    public PrecompiledNormalizer(byte[] charsMap)
    {
        CharsMap = charsMap;
        if (charsMap.Length < 4) throw new FormatException("precompiled_charsmap is shorter than its 4-byte header");
        uint trieSize = BinaryPrimitives.ReadUInt32LittleEndian(charsMap);
        if (trieSize > charsMap.Length - 4 || trieSize % 4 != 0)
            throw new FormatException($"precompiled_charsmap declares a trie of {trieSize} bytes but holds {charsMap.Length - 4}");
        _trie = new uint[trieSize / 4];
        for (int i = 0; i < _trie.Length; i++) _trie[i] = BinaryPrimitives.ReadUInt32LittleEndian(charsMap.AsSpan(4 + i * 4));
        _normalized = charsMap.AsSpan(4 + (int)trieSize).ToArray();
        Span<char> one = stackalloc char[1];
        for (int c = 0; c < 128; c++) { one[0] = (char)c; _asciiMapped[c] = Transform(one, out _); }
    }

    /// <summary>First (shortest) prefix match of <paramref name="key"/>, or -1.</summary>
    private int FirstPrefixValue(ReadOnlySpan<byte> key)
    {
        if (_trie.Length == 0) return -1;
        uint nodePos = 0;
        uint unit = _trie[nodePos];
        nodePos ^= Offset(unit);
        foreach (byte c in key)
        {
            if (c == 0) break;
            nodePos ^= c;
            if (nodePos >= _trie.Length) return -1;
            unit = _trie[nodePos];
            if ((unit & ((1u << 31) | 0xFF)) != c) return -1;
            nodePos ^= Offset(unit);
            if (((unit >> 8) & 1) == 1) return (int)(_trie[nodePos] & ((1u << 31) - 1));
        }
        return -1;
    }

    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);

    private bool Transform(ReadOnlySpan<char> chunk, out string result)
    {
        Span<byte> buf = stackalloc byte[64];
        int len = System.Text.Encoding.UTF8.GetByteCount(chunk);
        var bytes = len <= buf.Length ? buf[..len] : new byte[len];
        System.Text.Encoding.UTF8.GetBytes(chunk, bytes);
        int index = FirstPrefixValue(bytes);
        if (index < 0 || index > _normalized.Length) { result = ""; return false; }
        int end = Array.IndexOf(_normalized, (byte)0, index);
        if (end < 0) end = _normalized.Length;
        result = System.Text.Encoding.UTF8.GetString(_normalized, index, end - index);
        return true;
    }

    internal override void Normalize(NormalizedText text, NormalizedText scratch)
    {
        var span = text.Span;
        // (code point, change) list exactly as Hugging Face builds it, then applied in one transform.
        var changes = t_changes ??= new List<(int Cp, int Change)>(256);
        changes.Clear();
        bool modified = false;
        int i = 0;
        while (i < span.Length)
        {
            // Fast path: an unmapped ASCII character followed by ASCII is a grapheme of its own ("\r\n" excepted).
            char ch = span[i];
            if (ch < 0x80 && ch != '\r' && !_asciiMapped[ch] && (i + 1 == span.Length || span[i + 1] < 0x80))
            {
                changes.Add((ch, 0));
                i++;
                continue;
            }
            int glen = StringInfo.GetNextTextElementLength(span[i..]);
            if (glen <= 0) glen = 1;
            var g = span.Slice(i, glen);
            i += glen;
            if (System.Text.Encoding.UTF8.GetByteCount(g) < 6 && Transform(g, out var norm))
            {
                modified = true;
                Replace(changes, g, norm);
                continue;
            }
            int k = 0;
            while (k < g.Length)
            {
                int cp = NormalizedText.RuneAt(g, k, out int w);
                var part = g.Slice(k, w);
                k += w;
                if (Transform(part, out var pn)) { modified = true; Replace(changes, part, pn); }
                else changes.Add((cp, 0));
            }
        }
        if (!modified) return;
        var writer = new TransformWriter(text, scratch);
        foreach (var (cp, change) in changes) writer.Apply(cp, change);
        text.Swap(scratch);
    }

    private static void Replace(List<(int Cp, int Change)> changes, ReadOnlySpan<char> oldPart, string newPart)
    {
        int oldCount = ReplaceNormalizer.CountRunes(oldPart);
        int newCount = ReplaceNormalizer.CountRunes(newPart);
        int i = 0;
        while (i < newPart.Length) { changes.Add((NormalizedText.RuneAt(newPart, i, out int w), 0)); i += w; }
        int diff = newCount - oldCount;
        if (diff > 0)
        {
            for (int k = 0; k < diff; k++) changes[changes.Count - 1 - k] = (changes[changes.Count - 1 - k].Cp, 1);
        }
        else if (diff < 0 && changes.Count > 0)
        {
            var last = changes[^1];
            changes[^1] = (last.Cp, last.Change + diff);
        }
    }
}
