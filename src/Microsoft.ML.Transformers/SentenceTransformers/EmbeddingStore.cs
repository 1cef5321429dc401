using System.IO.MemoryMappedFiles;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Transformers.SentenceTransformers;

/// <summary>One search result: a row of the store and its similarity to the query.</summary>
public readonly record struct SearchHit(long Index, float Score);

/// <summary>
/// The k best (index, score) pairs seen so far, in a bounded min-heap: O(k) memory and O(log k) per better candidate,
/// whatever the number of candidates. Ties keep the lower index (the first seen when indices increase).
/// </summary>
public sealed class TopKCollector
{
    private readonly SearchHit[] _heap; // min-heap on (score, then higher index = worse)
    private int _count;

    public TopKCollector(int k)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        _heap = new SearchHit[k];
    }

    public int K => _heap.Length;

    /// <summary>The lowest score kept, once k candidates have been seen (else -infinity).</summary>
    public float Threshold => _count == _heap.Length ? _heap[0].Score : float.NegativeInfinity;

    private static bool Worse(SearchHit a, SearchHit b) => a.Score < b.Score || (a.Score == b.Score && a.Index > b.Index);

    public void Add(long index, float score)
    {
        if (float.IsNaN(score)) return;
        var hit = new SearchHit(index, score);
        if (_count < _heap.Length)
        {
            int i = _count++;
            while (i > 0 && Worse(hit, _heap[(i - 1) / 2])) { _heap[i] = _heap[(i - 1) / 2]; i = (i - 1) / 2; }
            _heap[i] = hit;
            return;
        }
        if (!Worse(_heap[0], hit)) return;
        int p = 0;
        while (true)
        {
            int c = 2 * p + 1;
            if (c >= _count) break;
            if (c + 1 < _count && Worse(_heap[c + 1], _heap[c])) c++;
            if (!Worse(_heap[c], hit)) break;
            _heap[p] = _heap[c];
            p = c;
        }
        _heap[p] = hit;
    }

    /// <summary>The hits kept, best first.</summary>
    public SearchHit[] Results()
    {
        var r = _heap[.._count];
        Array.Sort(r, (a, b) => Worse(a, b) ? 1 : Worse(b, a) ? -1 : 0);
        return r;
    }
}

/// <summary>
/// Brute-force nearest rows: scores every row of a row-major matrix against a query and keeps the top k in a
/// <see cref="TopKCollector"/>. Cosine is torch.nn.functional.cosine_similarity's (each norm at least 1e-8).
/// </summary>
public static class EmbeddingSearch
{
    private const double Eps = 1e-8;

    /// <summary>The <paramref name="k"/> rows of <paramref name="rows"/> ([n, query.Length]) most similar to <paramref name="query"/>, best first.</summary>
    public static SearchHit[] TopK(ReadOnlySpan<float> rows, ReadOnlySpan<float> query, int k,
        SimilarityFunction function = SimilarityFunction.Cosine, bool rowsNormalized = false)
    {
        var collector = new TopKCollector(k);
        Score(rows, query, function, rowsNormalized, 0, collector);
        return collector.Results();
    }

    /// <summary>The top k over a matrix of embeddings (e.g. from <see cref="SentenceTransformer.Encode"/>).</summary>
    public static SearchHit[] TopK(float[,] rows, ReadOnlySpan<float> query, int k, SimilarityFunction function = SimilarityFunction.Cosine)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.GetLength(1) != query.Length)
            throw new ArgumentException($"The query has {query.Length} values; the embeddings have {rows.GetLength(1)}.", nameof(query));
        var flat = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, float>(ref MemoryMarshal.GetArrayDataReference(rows)), rows.Length);
        return TopK(flat, query, k, function);
    }

    /// <summary>Scores rows[i] for every i into <paramref name="collector"/> as index <paramref name="firstIndex"/> + i.</summary>
    public static void Score(ReadOnlySpan<float> rows, ReadOnlySpan<float> query, SimilarityFunction function, bool rowsNormalized,
        long firstIndex, TopKCollector collector)
    {
        ArgumentNullException.ThrowIfNull(collector);
        int dim = query.Length;
        if (dim == 0) throw new ArgumentException("The query is empty.", nameof(query));
        if (rows.Length % dim != 0)
            throw new ArgumentException($"{rows.Length} values are not whole rows of the query's length {dim}.", nameof(rows));
        bool cosine = function == SimilarityFunction.Cosine;
        double queryNorm = cosine ? Math.Max(Math.Sqrt(Dot(query, query)), Eps) : 1;
        int n = rows.Length / dim;
        for (int i = 0; i < n; i++)
        {
            var row = rows.Slice(i * dim, dim);
            double score = Dot(row, query);
            if (cosine) score /= queryNorm * (rowsNormalized ? 1 : Math.Max(Math.Sqrt(Dot(row, row)), Eps));
            collector.Add(firstIndex + i, (float)score);
        }
    }

    /// <summary>Dot product, vectorized, accumulated in float lanes.</summary>
    internal static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = Vector<float>.Zero;
        var va = MemoryMarshal.Cast<float, Vector<float>>(a);
        var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
        for (int v = 0; v < va.Length; v++) sum += va[v] * vb[v];
        float s = Vector.Sum(sum);
        for (int i = va.Length * Vector<float>.Count; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}

/// <summary>
/// An <see cref="EmbeddingFile"/> opened read-only and memory-mapped: rows are read from the page cache on demand, never
/// all loaded, so a store larger than memory can be searched. Safe to search from several threads; not while disposing.
/// </summary>
public sealed unsafe class EmbeddingStore : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;
    private readonly long _dataOffset;

    private EmbeddingStore(string path, EmbeddingFileInfo info, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePtr, long dataOffset)
    {
        Path = path;
        Info = info;
        _map = map;
        _view = view;
        _base = basePtr;
        _dataOffset = dataOffset;
    }

    public string Path { get; }
    public EmbeddingFileInfo Info { get; }
    public int Dimension => Info.Dimension;
    public long Count => Info.Count;

    /// <summary>Opens and checks <paramref name="path"/>; a malformed file gives a <see cref="FormatException"/> naming it, the field, what was expected and found.</summary>
    public static EmbeddingStore Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"Embedding file not found: '{full}'.", full);
        var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            var info = EmbeddingFile.ReadInfo(stream, full, out long dataOffset);
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* ptr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref ptr);
            ptr += view.PointerOffset;
            return new EmbeddingStore(full, info, map, view, ptr, dataOffset);
        }
        catch
        {
            view?.Dispose();
            if (map is not null) map.Dispose();
            else stream.Dispose();
            throw;
        }
    }

    /// <summary>Row <paramref name="index"/>, pointing into the mapping (valid until <see cref="Dispose"/>).</summary>
    public ReadOnlySpan<float> this[long index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return Rows(index, 1);
        }
    }

    private ReadOnlySpan<float> Rows(long first, int count)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        return new ReadOnlySpan<float>(_base + _dataOffset + first * Dimension * 4L, count * Dimension);
    }

    /// <summary>
    /// The <paramref name="k"/> rows most similar to <paramref name="query"/>, best first (cosine by default; rows written
    /// normalized are not re-normalized). Scans the mapping in chunks, holding only k hits.
    /// </summary>
    public SearchHit[] Search(ReadOnlySpan<float> query, int k, SimilarityFunction function = SimilarityFunction.Cosine)
    {
        if (query.Length != Dimension)
            throw new ArgumentException($"The query has {query.Length} values; the embeddings in '{Path}' have {Dimension}.", nameof(query));
        var collector = new TopKCollector(k);
        int chunk = Math.Max(1, (1 << 24) / Dimension);
        for (long first = 0; first < Count; first += chunk)
        {
            int n = (int)Math.Min(chunk, Count - first);
            EmbeddingSearch.Score(Rows(first, n), query, function, Info.Normalized, first, collector);
        }
        return collector.Results();
    }

    public void Dispose()
    {
        if (_base == null) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
