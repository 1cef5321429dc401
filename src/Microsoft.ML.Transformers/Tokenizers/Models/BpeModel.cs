using System.Collections.Concurrent;

namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>
/// Byte-pair encoding: characters (with continuing_subword_prefix / end_of_word_suffix, byte_fallback, unk)
/// merged by rank, lowest first and leftmost on ties, as Hugging Face's <c>Word::merge_all</c>.
/// Results per word are cached (bounded), so repeated words cost one lookup.
/// </summary>
public sealed class BpeModel : TokenizerModel
{
    internal readonly Vocab Vocab;
    private readonly Dictionary<long, (int Rank, int NewId)> _merges;
    public IReadOnlyList<(string Left, string Right)> Merges { get; }
    public string? UnkToken { get; }
    public string? ContinuingSubwordPrefix { get; }
    public string? EndOfWordSuffix { get; }
    public bool FuseUnk { get; }
    public bool ByteFallback { get; }
    public bool IgnoreMerges { get; }
    private readonly int _unkId;
    private readonly int[] _byteIds = new int[256];
    private readonly ConcurrentDictionary<string, int[]> _cache = new();
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;
    private const int CacheCapacity = 100_000, CacheMaxWordLength = 256;
    private int _cacheCount; // ConcurrentDictionary.Count takes every lock: count insertions here instead

    public BpeModel(Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, string? unkToken = null,
        string? continuingSubwordPrefix = null, string? endOfWordSuffix = null, bool fuseUnk = false, bool byteFallback = false,
        bool ignoreMerges = false)
    {
        Vocab = new Vocab(vocab);
        Merges = merges;
        UnkToken = unkToken;
        ContinuingSubwordPrefix = string.IsNullOrEmpty(continuingSubwordPrefix) ? null : continuingSubwordPrefix;
        EndOfWordSuffix = string.IsNullOrEmpty(endOfWordSuffix) ? null : endOfWordSuffix;
        FuseUnk = fuseUnk;
        ByteFallback = byteFallback;
        IgnoreMerges = ignoreMerges;
        _unkId = unkToken != null && vocab.TryGetValue(unkToken, out int u) ? u : -1;
        for (int b = 0; b < 256; b++) _byteIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
        _merges = new Dictionary<long, (int, int)>(merges.Count);
        int prefixLen = ContinuingSubwordPrefix?.Length ?? 0;
        for (int i = 0; i < merges.Count; i++)
        {
            var (a, b) = merges[i];
            if (!vocab.TryGetValue(a, out int ia)) throw new BpeMergeException(i, a);
            if (!vocab.TryGetValue(b, out int ib)) throw new BpeMergeException(i, b);
            string merged = a + (prefixLen > 0 && b.Length >= prefixLen ? b[prefixLen..] : b);
            if (!vocab.TryGetValue(merged, out int inew)) throw new BpeMergeException(i, merged);
            _merges[((long)ia << 32) | (uint)ib] = (i, inew);
        }
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public override int VocabSize => Vocab.ToId.Count;
    public override int? TokenToId(string token) => Vocab.ToId.TryGetValue(token, out int id) ? id : null;
    public override string? IdToToken(int id) => Vocab.Token(id);

    [ThreadStatic] private static SymbolBuffer? t_symbols;

    internal override void Tokenize(ReadOnlySpan<char> word, TokenSink sink)
    {
        if (word.IsEmpty) return;
        if (IgnoreMerges && Vocab.TryGet(word, out int whole)) { sink.Add(whole, 0, word.Length); return; }
        if (_cacheLookup.TryGetValue(word, out var cached)) { Emit(cached, sink); return; }
        var sym = t_symbols ??= new SymbolBuffer();
        BuildSymbols(word, sym);
        MergeAll(sym);
        // packed (id, length) pairs of the surviving symbols
        int count = 0;
        for (int i = sym.Count > 0 ? 0 : -1; i != -1; i = sym.Next[i]) if (sym.Len[i] != 0) count++;
        var packed = new int[count * 2];
        int k = 0;
        for (int i = sym.Count > 0 ? 0 : -1; i != -1; i = sym.Next[i])
        {
            if (sym.Len[i] == 0) continue;
            packed[k++] = sym.Id[i]; packed[k++] = sym.Len[i];
        }
        Emit(packed, sink);
        if (word.Length < CacheMaxWordLength && Volatile.Read(ref _cacheCount) < CacheCapacity && _cacheLookup.TryAdd(word, packed))
            Interlocked.Increment(ref _cacheCount);
    }

    private static void Emit(int[] packed, TokenSink sink)
    {
        int offset = 0;
        for (int i = 0; i < packed.Length; i += 2)
        {
            int len = packed[i + 1];
            if (len < 0) { sink.Add(packed[i], offset + len, offset); continue; } // later byte of a byte-fallback character
            sink.Add(packed[i], offset, offset + len);
            offset += len;
        }
    }

    private void BuildSymbols(ReadOnlySpan<char> w, SymbolBuffer sym)
    {
        sym.Clear();
        int unkId = -1, unkLen = 0;
        bool haveUnk = false;
        // prefix + one character + suffix; the prefix and suffix come from the file, so only a small buffer goes on the stack
        int need = 2 + (ContinuingSubwordPrefix?.Length ?? 0) + (EndOfWordSuffix?.Length ?? 0);
        Span<char> buf = need <= 128 ? stackalloc char[128] : new char[need];
        scoped ReadOnlySpan<char> s;
        int i = 0;
        while (i < w.Length)
        {
            NormalizedText.RuneAt(w, i, out int cw);
            bool isFirst = i == 0, isLast = i + cw == w.Length;
            var ch = w.Slice(i, cw);
            i += cw;
            s = ch;
            if ((!isFirst && ContinuingSubwordPrefix != null) || (isLast && EndOfWordSuffix != null))
            {
                int len = 0;
                if (!isFirst && ContinuingSubwordPrefix != null) { ContinuingSubwordPrefix.AsSpan().CopyTo(buf); len = ContinuingSubwordPrefix.Length; }
                ch.CopyTo(buf[len..]); len += cw;
                if (isLast && EndOfWordSuffix != null) { EndOfWordSuffix.AsSpan().CopyTo(buf[len..]); len += EndOfWordSuffix.Length; }
                s = buf[..len];
            }
            if (Vocab.TryGet(s, out int id))
            {
                if (haveUnk) { sym.Add(unkId, unkLen); haveUnk = false; }
                sym.Add(id, cw);
                continue;
            }
            if (ByteFallback && TryAddBytes(s, sym, cw))
            {
                continue;
            }
            if (UnkToken != null)
            {
                if (_unkId < 0) throw new InvalidOperationException($"BPE: unk_token '{UnkToken}' is not in the vocabulary");
                if (haveUnk && FuseUnk) unkLen += cw;
                else
                {
                    if (haveUnk) sym.Add(unkId, unkLen);
                    unkId = _unkId; unkLen = cw; haveUnk = true;
                }
            }
        }
        if (haveUnk) sym.Add(unkId, unkLen);
    }

    /// <summary>
    /// Byte fallback: every UTF-8 byte of the (prefixed) symbol must exist as &lt;0xXX&gt;. Each byte token gets
    /// the character's whole length as its span so that offsets cover the character, as in Hugging Face.
    /// </summary>
    private bool TryAddBytes(ReadOnlySpan<char> s, SymbolBuffer sym, int charLength)
    {
        int need = System.Text.Encoding.UTF8.GetMaxByteCount(s.Length);
        Span<byte> bytes = need <= 256 ? stackalloc byte[256] : new byte[need];
        int n = System.Text.Encoding.UTF8.GetBytes(s, bytes);
        for (int b = 0; b < n; b++) if (_byteIds[bytes[b]] < 0) return false;
        int start = sym.Count;
        for (int b = 0; b < n; b++) sym.Add(_byteIds[bytes[b]], 0);
        // zero-length symbols would be dropped by merging; mark them as byte tokens sharing the character span
        sym.Len[start] = charLength;
        for (int b = start + 1; b < sym.Count; b++) sym.Len[b] = -charLength;
        return true;
    }

    private void MergeAll(SymbolBuffer sym)
    {
        int n = sym.Count;
        if (n < 2) return;
        var queue = sym.Queue;
        queue.Clear();
        for (int i = 0; i + 1 < n; i++)
            if (_merges.TryGetValue(((long)sym.Id[i] << 32) | (uint)sym.Id[i + 1], out var m))
                queue.Enqueue((i, m.NewId), ((long)m.Rank << 32) | (uint)i);
        while (queue.TryDequeue(out var top, out _))
        {
            int pos = top.Pos;
            if (sym.Len[pos] == 0) continue;
            int next = sym.Next[pos];
            if (next == -1) continue;
            if (!_merges.TryGetValue(((long)sym.Id[pos] << 32) | (uint)sym.Id[next], out var cur) || cur.NewId != top.NewId) continue;
            sym.Id[pos] = top.NewId;
            sym.Len[pos] = Math.Max(0, sym.Len[pos]) + Math.Max(0, sym.Len[next]) is var l && l > 0 ? l : sym.Len[pos];
            sym.Len[next] = 0;
            int after = sym.Next[next];
            sym.Next[pos] = after;
            if (after != -1) sym.Prev[after] = pos;
            int prev = sym.Prev[pos];
            if (prev != -1 && _merges.TryGetValue(((long)sym.Id[prev] << 32) | (uint)sym.Id[pos], out var mp))
                queue.Enqueue((prev, mp.NewId), ((long)mp.Rank << 32) | (uint)prev);
            if (after != -1 && _merges.TryGetValue(((long)sym.Id[pos] << 32) | (uint)sym.Id[after], out var mn))
                queue.Enqueue((pos, mn.NewId), ((long)mn.Rank << 32) | (uint)pos);
        }
    }

    private sealed class SymbolBuffer
    {
        public int[] Id = new int[64], Len = new int[64], Prev = new int[64], Next = new int[64];
        public int Count;
        public readonly PriorityQueue<(int Pos, int NewId), long> Queue = new();
        public void Clear() => Count = 0;
        public void Add(int id, int len)
        {
            if (Count == Id.Length)
            {
                int n = Count * 2;
                Array.Resize(ref Id, n); Array.Resize(ref Len, n); Array.Resize(ref Prev, n); Array.Resize(ref Next, n);
            }
            Id[Count] = id; Len[Count] = len; Prev[Count] = Count - 1; Next[Count] = -1;
            if (Count > 0) Next[Count - 1] = Count;
            Count++;
        }
    }
}

/// <summary>A merge names a token that is not in the vocabulary.</summary>
public sealed class BpeMergeException(int index, string token)
    : Exception($"merges[{index}]: token '{token}' is not in the vocabulary")
{
    public int Index { get; } = index;
}
