namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>WordPiece: greedy longest-match-first with a continuing-subword prefix; a word that cannot be covered becomes unk.</summary>
public sealed class WordPieceModel : TokenizerModel
{
    internal readonly Vocab Vocab;
    public string UnkToken { get; }
    public string ContinuingSubwordPrefix { get; }
    public int MaxInputCharsPerWord { get; }
    private readonly int _unkId;
    private readonly int _maxTokenLength;

    public WordPieceModel(Dictionary<string, int> vocab, string unkToken = "[UNK]", string continuingSubwordPrefix = "##", int maxInputCharsPerWord = 100)
    {
        Vocab = new Vocab(vocab);
        UnkToken = unkToken;
        ContinuingSubwordPrefix = continuingSubwordPrefix;
        MaxInputCharsPerWord = maxInputCharsPerWord;
        _unkId = vocab.TryGetValue(unkToken, out int u) ? u : -1;
        foreach (var k in vocab.Keys) _maxTokenLength = Math.Max(_maxTokenLength, k.Length);
    }

    public override int VocabSize => Vocab.ToId.Count;
    public override int? TokenToId(string token) => Vocab.ToId.TryGetValue(token, out int id) ? id : null;
    public override string? IdToToken(int id) => Vocab.Token(id);

    internal override void Tokenize(ReadOnlySpan<char> word, TokenSink sink)
    {
        if (word.Length > MaxInputCharsPerWord && ReplaceNormalizer.CountRunes(word) > MaxInputCharsPerWord)
        {
            AddUnk(word, sink);
            return;
        }
        int prefixLen = ContinuingSubwordPrefix.Length;
        Span<char> buf = stackalloc char[Math.Min(prefixLen + word.Length, 512)];
        char[]? rented = null;
        if (prefixLen + word.Length > 512) buf = rented = new char[prefixLen + word.Length];
        ContinuingSubwordPrefix.AsSpan().CopyTo(buf);
        int mark = sink.Count;
        int start = 0;
        while (start < word.Length)
        {
            int end = Math.Min(word.Length, start + _maxTokenLength);
            if (end < word.Length && char.IsLowSurrogate(word[end])) end--;
            int found = -1;
            while (start < end)
            {
                var sub = word[start..end];
                int id;
                bool ok;
                if (start == 0) ok = Vocab.TryGet(sub, out id);
                else
                {
                    sub.CopyTo(buf[prefixLen..]);
                    ok = Vocab.TryGet(buf[..(prefixLen + sub.Length)], out id);
                }
                if (ok) { found = id; break; }
                end -= end >= 2 && char.IsLowSurrogate(word[end - 1]) && char.IsHighSurrogate(word[end - 2]) ? 2 : 1;
            }
            if (found < 0)
            {
                sink.Count = mark;
                AddUnk(word, sink);
                return;
            }
            sink.Add(found, start, end);
            start = end;
        }
    }

    private void AddUnk(ReadOnlySpan<char> word, TokenSink sink)
    {
        if (_unkId < 0) throw new InvalidOperationException($"WordPiece: unk_token '{UnkToken}' is not in the vocabulary");
        sink.Add(_unkId, 0, word.Length);
    }
}

/// <summary>WordLevel: the whole word is one vocabulary entry, else unk.</summary>
public sealed class WordLevelModel : TokenizerModel
{
    internal readonly Vocab Vocab;
    public string UnkToken { get; }
    private readonly int _unkId;

    public WordLevelModel(Dictionary<string, int> vocab, string unkToken)
    {
        Vocab = new Vocab(vocab);
        UnkToken = unkToken;
        _unkId = vocab.TryGetValue(unkToken, out int u) ? u : -1;
    }

    public override int VocabSize => Vocab.ToId.Count;
    public override int? TokenToId(string token) => Vocab.ToId.TryGetValue(token, out int id) ? id : null;
    public override string? IdToToken(int id) => Vocab.Token(id);

    internal override void Tokenize(ReadOnlySpan<char> word, TokenSink sink)
    {
        if (Vocab.TryGet(word, out int id)) { sink.Add(id, 0, word.Length); return; }
        if (_unkId < 0) throw new InvalidOperationException($"WordLevel: '{word.ToString()}' is not in the vocabulary and unk_token '{UnkToken}' is missing");
        sink.Add(_unkId, 0, word.Length);
    }
}
