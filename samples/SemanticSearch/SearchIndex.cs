using System.Text;
using System.Text.Json;
using Microsoft.ML.Transformers.SentenceTransformers;

namespace SemanticSearch;

/// <summary>
/// A folder holding a corpus and its embeddings: texts.jsonl (one JSON string per line) and embeddings.emb
/// (Microsoft.ML.Transformers' embedding file: a header with dimension, count and model, then float32 rows in the
/// texts' order). Building streams the texts through the model a window at a time; searching memory-maps the
/// embeddings and reads only the texts of the hits.
/// </summary>
public sealed class SearchIndex : IDisposable
{
    public const string TextsFile = "texts.jsonl", EmbeddingsFile = "embeddings.emb";

    private readonly EmbeddingStore _store;
    private readonly long[] _lineStarts;
    private readonly string _textsPath;

    private SearchIndex(string folder, EmbeddingStore store, long[] lineStarts)
    {
        _store = store;
        _lineStarts = lineStarts;
        _textsPath = Path.Combine(folder, TextsFile);
    }

    public EmbeddingFileInfo Info => _store.Info;

    /// <summary>
    /// Embeds <paramref name="texts"/> (read once, lazily) into <paramref name="folder"/>; <paramref name="progress"/>
    /// gets the count of texts embedded. The index is built in a temporary sibling folder that replaces
    /// <paramref name="folder"/> only when complete, so a failed or interrupted build never leaves a half-written index.
    /// </summary>
    public static long Build(string folder, SentenceTransformer model, IEnumerable<string> texts, string modelName,
        int batchSize = 32, IProgress<long>? progress = null)
    {
        folder = Path.GetFullPath(folder);
        var temp = Path.Combine(Path.GetDirectoryName(folder)!, $".{Path.GetFileName(folder)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            long count;
            using (var writer = new StreamWriter(Path.Combine(temp, TextsFile), false, new UTF8Encoding(false)))
            {
                // each text is written as it goes to the model, so the texts file and the rows keep the same order
                IEnumerable<string> Tee()
                {
                    foreach (var t in texts)
                    {
                        writer.WriteLine(JsonSerializer.Serialize(t));
                        yield return t;
                    }
                }
                // the folder's Normalize module makes unit rows: marked so, search skips the row norms
                count = EmbeddingFile.Write(Path.Combine(temp, EmbeddingsFile), model.EncodeStream(Tee(), batchSize), model.Dimension,
                    modelName, model.Config.Normalize, progress);
            }
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            Directory.Move(temp, folder);
            return count;
        }
        catch
        {
            Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    /// <summary>Opens a folder <see cref="Build"/> wrote; checks the two files agree.</summary>
    public static SearchIndex Open(string folder)
    {
        var store = EmbeddingStore.Open(Path.Combine(folder, EmbeddingsFile));
        try
        {
            var starts = new List<long>();
            using (var f = new FileStream(Path.Combine(folder, TextsFile), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
            {
                long pos = 0;
                int b;
                starts.Add(0);
                while ((b = f.ReadByte()) >= 0) { pos++; if (b == '\n') starts.Add(pos); }
            }
            starts.RemoveAt(starts.Count - 1); // the position after the last newline starts no line
            if (starts.Count != store.Count)
                throw new InvalidDataException($"'{Path.Combine(folder, TextsFile)}' has {starts.Count} texts but '{store.Path}' has {store.Count} embeddings; build the index again.");
            return new SearchIndex(folder, store, starts.ToArray());
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>The <paramref name="k"/> texts most similar to <paramref name="query"/>, best first, with their scores.</summary>
    public (string Text, float Score)[] Search(SentenceTransformer model, string query, int k = 5)
    {
        var q = model.Encode([query]);
        var hits = _store.Search(SentenceTransformer.Row(q, 0), k, model.SimilarityFunction);
        using var f = new FileStream(_textsPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 12);
        var result = new (string, float)[hits.Length];
        for (int i = 0; i < hits.Length; i++)
        {
            long start = _lineStarts[hits[i].Index];
            long end = hits[i].Index + 1 < _lineStarts.Length ? _lineStarts[hits[i].Index + 1] : f.Length;
            var bytes = new byte[end - start];
            f.Position = start;
            f.ReadExactly(bytes);
            result[i] = (JsonSerializer.Deserialize<string>(bytes)!, hits[i].Score);
        }
        return result;
    }

    public void Dispose() => _store.Dispose();
}
