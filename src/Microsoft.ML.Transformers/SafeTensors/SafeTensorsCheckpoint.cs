using System.Text.Json;

namespace Microsoft.ML.Transformers.SafeTensors;

/// <summary>
/// The weights of a checkpoint folder, whether one <c>model.safetensors</c> or shards listed by
/// <c>model.safetensors.index.json</c> (<c>{"metadata": {...}, "weight_map": {name: shard file}}</c>), behind one
/// lookup API. Every shard stays memory-mapped until <see cref="Dispose"/>; spans and pointers share that lifetime.
/// </summary>
public sealed unsafe class SafeTensorsCheckpoint : IDisposable
{
    private readonly List<SafeTensorsFile> _files;
    private readonly Dictionary<string, SafeTensorsFile> _owner;
    private readonly List<string> _keys;

    private SafeTensorsCheckpoint(string folder, string? indexPath, List<SafeTensorsFile> files,
        Dictionary<string, SafeTensorsFile> owner, List<string> keys, IReadOnlyDictionary<string, JsonElement> indexMetadata)
    {
        Folder = folder;
        IndexPath = indexPath;
        _files = files;
        _owner = owner;
        _keys = keys;
        IndexMetadata = indexMetadata;
    }

    /// <summary>The checkpoint folder (full path).</summary>
    public string Folder { get; }

    /// <summary>The index file when the checkpoint is sharded, else null.</summary>
    public string? IndexPath { get; }

    /// <summary>The index's <c>metadata</c> object (e.g. <c>total_size</c>); empty for a single file.</summary>
    public IReadOnlyDictionary<string, JsonElement> IndexMetadata { get; }

    /// <summary>The opened weight files, in shard order.</summary>
    public IReadOnlyList<SafeTensorsFile> Files => _files;

    /// <summary>All tensor names: file order for a single file, shard then file order for shards.</summary>
    public IEnumerable<string> Keys => _keys;

    /// <summary>
    /// Opens <c>model.safetensors</c> in <paramref name="folder"/>, or else the index and all its shards.
    /// <paramref name="folder"/> may also be a path to a single .safetensors file.
    /// </summary>
    /// <exception cref="FileNotFoundException">neither file exists (names the folder and both names), or a shard is missing.</exception>
    /// <exception cref="SafeTensorsFormatException">a malformed index or shard, or an index entry its shard lacks.</exception>
    public static SafeTensorsCheckpoint Open(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var full = Path.GetFullPath(folder);
        if (File.Exists(full))
        {
            return FromSingle(Path.GetDirectoryName(full)!, full);
        }

        var single = Path.Combine(full, SafeTensorsWriter.SingleFileName);
        if (File.Exists(single))
        {
            return FromSingle(full, single);
        }
        var index = Path.Combine(full, SafeTensorsWriter.IndexFileName);
        if (File.Exists(index))
        {
            return FromIndex(full, index);
        }
        throw new FileNotFoundException(
            $"No safetensors weights in '{full}': expected '{SafeTensorsWriter.SingleFileName}' or " +
            $"'{SafeTensorsWriter.IndexFileName}'" + (Directory.Exists(full) ? "." : " (the folder does not exist)."),
            single);
    }

    private static SafeTensorsCheckpoint FromSingle(string folder, string path)
    {
        var file = SafeTensorsFile.Open(path);
        var owner = file.Tensors.ToDictionary(t => t.Name, _ => file, StringComparer.Ordinal);
        return new SafeTensorsCheckpoint(folder, null, [file], owner, file.Keys.ToList(),
            new Dictionary<string, JsonElement>());
    }

    private static SafeTensorsCheckpoint FromIndex(string folder, string indexPath)
    {
        var (metadata, weightMap) = ReadIndex(indexPath);
        var files = new List<SafeTensorsFile>();
        try
        {
            var byShard = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
            // Open shards in the order their names sort (model-00001-..., model-00002-...).
            foreach (var shard in weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                string shardPath;
                try { shardPath = Path.GetFullPath(Path.Combine(folder, shard)); }
                catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
                {
                    throw new SafeTensorsFormatException(indexPath, null, $"shard file name '{shard}' is not a usable path: {e.Message}", e);
                }
                if (!File.Exists(shardPath))
                {
                    throw new FileNotFoundException(
                        $"Shard '{shard}' listed in '{indexPath}' is missing (looked for '{shardPath}').", shardPath);
                }
                var file = SafeTensorsFile.Open(shardPath);
                files.Add(file);
                byShard[shard] = file;
            }

            var owner = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
            foreach (var (name, shard) in weightMap)
            {
                var file = byShard[shard];
                if (!file.Contains(name))
                {
                    throw new SafeTensorsFormatException(indexPath, name,
                        $"the weight_map puts this tensor in '{shard}', but that shard does not contain it.");
                }
                owner[name] = file;
            }
            var keys = files.SelectMany(f => f.Keys).Where(owner.ContainsKey).ToList();
            return new SafeTensorsCheckpoint(folder, indexPath, files, owner, keys, metadata);
        }
        catch
        {
            foreach (var f in files)
            {
                f.Dispose();
            }
            throw;
        }
    }

    private static (Dictionary<string, JsonElement> Metadata, Dictionary<string, string> WeightMap) ReadIndex(string indexPath)
    {
        JsonDocument doc;
        var bytes = File.ReadAllBytes(indexPath);
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            throw new SafeTensorsFormatException(indexPath, null, "the index is not valid UTF-8 text.");
        }
        try
        {
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(indexPath, null,
                $"the index is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1} of that line): {e.Message}", e);
        }
        using (doc)
        {
            try
            {
                return ReadIndex(doc.RootElement, indexPath);
            }
            catch (InvalidOperationException e)
            {
                throw new SafeTensorsFormatException(indexPath, null, $"the index holds a string that is not valid Unicode: {e.Message}", e);
            }
        }
    }

    private static (Dictionary<string, JsonElement> Metadata, Dictionary<string, string> WeightMap) ReadIndex(JsonElement root, string indexPath)
    {
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SafeTensorsFormatException(indexPath, null,
                    $"the index must be a JSON object, found {SafeTensorsHeader.Describe(root.ValueKind)}.");
            }
            if (!root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new SafeTensorsFormatException(indexPath, "weight_map",
                    "expected an object {tensor name: shard file}, found " +
                    (map.ValueKind == JsonValueKind.Undefined ? "no such key." : SafeTensorsHeader.Describe(map.ValueKind) + "."));
            }
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                {
                    throw new SafeTensorsFormatException(indexPath, $"weight_map.{p.Name}",
                        $"expected a shard file name (string), found {SafeTensorsHeader.Describe(p.Value.ValueKind)}.");
                }
                var shard = p.Value.GetString()!;
                if (shard.Length == 0 || Path.IsPathRooted(shard) || shard.Contains("..", StringComparison.Ordinal) || shard.Any(char.IsControl)
                    || shard.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
                {
                    throw new SafeTensorsFormatException(indexPath, $"weight_map.{p.Name}",
                        $"expected a file name inside the checkpoint folder, found '{shard}'.");
                }
                weightMap[p.Name] = shard;
            }
            var metadata = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in meta.EnumerateObject())
                {
                    metadata[p.Name] = p.Value.Clone();
                }
            }
            return (metadata, weightMap);
        }
    }

    /// <summary>Whether the checkpoint has a tensor named <paramref name="name"/>.</summary>
    public bool Contains(string name) => _owner.ContainsKey(name);

    /// <summary>The header entry of <paramref name="name"/> (offsets relative to its own file's data section).</summary>
    public SafeTensorInfo Get(string name) => FileOf(name).Get(name);

    /// <summary>The file that holds <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">naming the folder and the key.</exception>
    public SafeTensorsFile FileOf(string name) =>
        _owner.TryGetValue(name, out var file) ? file
            : throw new KeyNotFoundException(
                $"Tensor '{name}' is not in checkpoint '{IndexPath ?? _files[0].Path}' ({_keys.Count} tensors).");

    /// <summary>Raw bytes of <paramref name="name"/>; valid until this checkpoint is disposed.</summary>
    public ReadOnlySpan<byte> GetBytes(string name) => FileOf(name).GetBytes(name);

    /// <summary>Elements of <paramref name="name"/> as <typeparamref name="T"/>; valid until this checkpoint is disposed.</summary>
    public ReadOnlySpan<T> GetSpan<T>(string name) where T : unmanaged => FileOf(name).GetSpan<T>(name);

    /// <summary>Address of <paramref name="name"/>'s first byte; valid until this checkpoint is disposed.</summary>
    public byte* GetPointer(string name) => FileOf(name).GetPointer(name);

    public void Dispose()
    {
        foreach (var f in _files)
        {
            f.Dispose();
        }
    }
}
