namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>Tokens produced for one piece: ids with offsets relative to the piece (UTF-16 units).</summary>
internal sealed class TokenSink
{
    public int[] Ids = new int[64];
    public int[] Starts = new int[64];
    public int[] Ends = new int[64];
    public string?[] Values = new string?[64]; // null: the vocabulary's string for the id
    public int Count;

    public void Clear() => Count = 0;

    public void Add(int id, int start, int end, string? value = null)
    {
        if (Count == Ids.Length)
        {
            int n = Count * 2;
            Array.Resize(ref Ids, n); Array.Resize(ref Starts, n); Array.Resize(ref Ends, n); Array.Resize(ref Values, n);
        }
        Ids[Count] = id; Starts[Count] = start; Ends[Count] = end; Values[Count] = value; Count++;
    }
}

/// <summary>The model from tokenizer.json's <c>model</c> block: turns one pre-tokenized word into tokens.</summary>
public abstract class TokenizerModel
{
    internal abstract void Tokenize(ReadOnlySpan<char> piece, TokenSink sink);

    /// <summary>Id of a vocabulary entry, or null.</summary>
    public abstract int? TokenToId(string token);

    /// <summary>Vocabulary entry of an id, or null.</summary>
    public abstract string? IdToToken(int id);

    public abstract int VocabSize { get; }

    /// <summary>Tokenizes one word (no normalization or pre-tokenization): ids with offsets into it.</summary>
    public IReadOnlyList<(int Id, string Token, int Start, int End)> Tokenize(string word)
    {
        var sink = new TokenSink();
        Tokenize(word, sink);
        var result = new List<(int, string, int, int)>(sink.Count);
        for (int i = 0; i < sink.Count; i++)
            result.Add((sink.Ids[i], sink.Values[i] ?? IdToToken(sink.Ids[i]) ?? "", sink.Starts[i], sink.Ends[i]));
        return result;
    }
}

/// <summary>A vocabulary: string to id with span lookups, and id to string.</summary>
internal sealed class Vocab
{
    public readonly Dictionary<string, int> ToId;
    public readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> Lookup;
    private readonly string?[] _dense;
    private readonly Dictionary<int, string>? _sparse;

    public Vocab(Dictionary<string, int> map)
    {
        ToId = map;
        Lookup = map.GetAlternateLookup<ReadOnlySpan<char>>();
        long max = -1;
        foreach (var v in map.Values) if (v > max) max = v;
        // ids index an array when they are about as many as the entries; a file may also hold sparse ids (up to 2^31-2),
        // which must not allocate by the largest one
        if (max < 2L * map.Count + 1024)
        {
            _dense = new string?[max + 1];
            foreach (var (k, v) in map) if (v >= 0) _dense[v] = k;
        }
        else
        {
            _dense = [];
            _sparse = new Dictionary<int, string>(map.Count);
            foreach (var (k, v) in map) if (v >= 0) _sparse[v] = k;
        }
    }

    public bool TryGet(ReadOnlySpan<char> key, out int id) => Lookup.TryGetValue(key, out id);
    public string? Token(int id) => (uint)id < (uint)_dense.Length ? _dense[id] : _sparse != null && _sparse.TryGetValue(id, out var t) ? t : null;
}
