namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>
/// Unigram language model (SentencePiece): best segmentation by Viterbi over a trie of pieces; unknown
/// characters score min_score - 10 and consecutive unknowns are fused, as in Hugging Face's <c>encode_optimized</c>.
/// </summary>
public sealed class UnigramModel : TokenizerModel
{
    public IReadOnlyList<(string Piece, double Score)> Pieces { get; }
    public int? UnkId { get; }
    public bool ByteFallback { get; }
    private readonly Dictionary<string, int> _toId;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly double[] _scores;
    private readonly double _unkScore;
    private readonly int[] _byteIds = new int[256];
    // trie: node -> (char -> child) in one hash table; node value = piece id or -1
    private readonly Dictionary<long, int> _children = new();
    private readonly List<int> _nodeValue = new() { -1 };

    public UnigramModel(IReadOnlyList<(string Piece, double Score)> pieces, int? unkId, bool byteFallback = false)
    {
        Pieces = pieces;
        UnkId = unkId;
        ByteFallback = byteFallback;
        _toId = new Dictionary<string, int>(pieces.Count);
        _scores = new double[pieces.Count];
        double min = double.MaxValue;
        for (int i = 0; i < pieces.Count; i++)
        {
            var (p, score) = pieces[i];
            _toId.TryAdd(p, i);
            _scores[i] = score;
            if (score < min) min = score;
            Insert(p, i);
        }
        _unkScore = (pieces.Count == 0 ? 0 : min) - 10.0;
        _lookup = _toId.GetAlternateLookup<ReadOnlySpan<char>>();
        for (int b = 0; b < 256; b++) _byteIds[b] = _toId.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
    }

    private void Insert(string piece, int id)
    {
        int node = 0;
        foreach (char c in piece)
        {
            long key = ((long)node << 16) | c;
            if (!_children.TryGetValue(key, out int child))
            {
                child = _nodeValue.Count;
                _nodeValue.Add(-1);
                _children[key] = child;
            }
            node = child;
        }
        if (_nodeValue[node] < 0) _nodeValue[node] = id;
    }

    public override int VocabSize => Pieces.Count;
    public override int? TokenToId(string token) => _toId.TryGetValue(token, out int id) ? id : null;
    public override string? IdToToken(int id) => (uint)id < (uint)Pieces.Count ? Pieces[id].Piece : null;

    [ThreadStatic] private static (double Score, int Start, int Id)[]? t_best;
    [ThreadStatic] private static List<(int Start, int End, bool Unk)>? t_spans;

    internal override void Tokenize(ReadOnlySpan<char> s, TokenSink sink)
    {
        int size = s.Length;
        if (size == 0) return;
        var best = t_best;
        if (best == null || best.Length < size + 1) best = t_best = new (double, int, int)[Math.Max(size + 1, 256)];
        for (int i = 0; i <= size; i++) best[i] = (0, -1, 0);
        var values = _nodeValue;
        int pos = 0;
        while (pos < size)
        {
            double here = best[pos].Score;
            int mblen = char.IsHighSurrogate(s[pos]) && pos + 1 < size && char.IsLowSurrogate(s[pos + 1]) ? 2 : 1;
            bool single = false;
            int node = 0;
            for (int k = pos; k < size; k++)
            {
                if (!_children.TryGetValue(((long)node << 16) | s[k], out node)) break;
                int id = values[node];
                if (id < 0) continue;
                int end = k + 1;
                double cand = _scores[id] + here;
                ref var target = ref best[end];
                if (target.Start < 0 || cand > target.Score) target = (cand, pos, id);
                if (end - pos == mblen) single = true;
            }
            if (!single)
            {
                ref var target = ref best[pos + mblen];
                double cand = _unkScore + here;
                if (target.Start < 0 || cand > target.Score) target = (cand, pos, UnkId ?? -1);
            }
            pos += mblen;
        }

        // Backtrack; fuse consecutive unknowns.
        var spans = t_spans ??= new List<(int Start, int End, bool Unk)>(64);
        spans.Clear();
        int e = size;
        while (e > 0)
        {
            var node = best[e];
            bool isUnk = UnkId.HasValue && node.Id == UnkId.Value;
            if (isUnk && spans.Count > 0 && spans[^1].Unk) spans[^1] = (node.Start, spans[^1].End, true);
            else spans.Add((node.Start, e, isUnk));
            e = node.Start;
        }
        for (int i = spans.Count - 1; i >= 0; i--)
        {
            var (a, b, _) = spans[i];
            var piece = s[a..b];
            if (_lookup.TryGetValue(piece, out int id)) { sink.Add(id, a, b); continue; }
            if (ByteFallback && TryBytes(piece, a, b, sink)) continue;
            if (UnkId is not int unk)
                throw new TokenizerFormatException($"Unigram: '{piece.ToString()}' is not in the vocabulary and the model has no unk_id (model.unk_id), so it cannot be encoded");
            sink.Add(unk, a, b, piece.ToString());
        }
    }

    private bool TryBytes(ReadOnlySpan<char> piece, int a, int b, TokenSink sink)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(piece.ToString());
        foreach (byte x in bytes) if (_byteIds[x] < 0) return false;
        foreach (byte x in bytes) sink.Add(_byteIds[x], a, b);
        return true;
    }
}
