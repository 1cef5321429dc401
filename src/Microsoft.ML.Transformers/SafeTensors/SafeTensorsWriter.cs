using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Configuration;

namespace Microsoft.ML.Transformers.SafeTensors;

/// <summary>
/// Writes safetensors files laid out as the reference library (huggingface/safetensors) lays them out: tensors
/// ordered by dtype alignment descending then by name, compact JSON header with <c>__metadata__</c> first, padded
/// with spaces to a multiple of 8 so every tensor's data stays aligned. Files go to a temporary sibling first and
/// are renamed into place, so an exception leaves no partial file.
/// </summary>
public static class SafeTensorsWriter
{
    /// <summary>Name of an unsharded checkpoint's weights file.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>Name of a sharded checkpoint's index.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>Writes <paramref name="tensors"/> (bytes in memory) to <paramref name="path"/>.</summary>
    public static void Write(string path, IEnumerable<SafeTensorEntry> tensors,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        WritePlanned(path, Plan(tensors.Select(FromMemory)), metadata);

    /// <summary>Writes <paramref name="tensors"/> whose bytes each callback streams out.</summary>
    public static void WriteStreaming(string path, IEnumerable<SafeTensorStreamEntry> tensors,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        WritePlanned(path, Plan(tensors), metadata);

    /// <summary>
    /// Writes a checkpoint folder the way Hugging Face's <c>save_pretrained</c> does: one <c>model.safetensors</c>
    /// if everything fits in <paramref name="maxShardBytes"/>, else <c>model-00001-of-0000N.safetensors</c> shards
    /// plus <c>model.safetensors.index.json</c>. Tensors are packed in the given order; one that alone exceeds the
    /// limit gets a shard of its own. Weight files of an earlier save that the new one does not use are removed
    /// afterwards, so the folder never mixes two saves.
    /// </summary>
    /// <returns>Paths of the files written (shards, then the index if any).</returns>
    public static IReadOnlyList<string> WriteSharded(string folder, IEnumerable<SafeTensorEntry> tensors,
        long maxShardBytes, IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteShardedPlanned(folder, Plan(tensors.Select(FromMemory)), maxShardBytes, metadata);

    /// <inheritdoc cref="WriteSharded(string, IEnumerable{SafeTensorEntry}, long, IReadOnlyDictionary{string, string}?)"/>
    public static IReadOnlyList<string> WriteShardedStreaming(string folder, IEnumerable<SafeTensorStreamEntry> tensors,
        long maxShardBytes, IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteShardedPlanned(folder, Plan(tensors), maxShardBytes, metadata);

    private static SafeTensorStreamEntry FromMemory(SafeTensorEntry e)
    {
        var expected = Expected(e.Name, e.DType, e.Shape);
        if (e.Data.Length != expected)
        {
            throw new ArgumentException(
                $"Tensor '{e.Name}': shape {ShapeMath.Format(e.Shape)} x {e.DType.ToHeaderName()} needs {expected} bytes, " +
                $"but Data has {e.Data.Length}.", nameof(e.Data));
        }
        var data = e.Data;
        return new SafeTensorStreamEntry(e.Name, e.DType, e.Shape, s => s.Write(data.Span));
    }

    private static long Expected(string name, SafeTensorDType dtype, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Tensor '{name}': shape {ShapeMath.Format(shape)} has a negative dimension.");
            }
        }
        return checked(ShapeMath.ElementCount(shape) * dtype.ElementSize());
    }

    /// <summary>Validates names and sorts into the reference library's order.</summary>
    private static List<SafeTensorStreamEntry> Plan(IEnumerable<SafeTensorStreamEntry> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in list)
        {
            ArgumentNullException.ThrowIfNull(t.Name);
            if (t.Name == SafeTensorsHeader.MetadataKey)
            {
                throw new ArgumentException($"'{SafeTensorsHeader.MetadataKey}' is reserved for metadata and cannot name a tensor.");
            }
            if (!seen.Add(t.Name))
            {
                throw new ArgumentException($"Tensor '{t.Name}' appears twice.");
            }
            Expected(t.Name, t.DType, t.Shape);
        }
        return list;
    }

    private static List<SafeTensorStreamEntry> SortForFile(IEnumerable<SafeTensorStreamEntry> tensors) =>
        tensors.OrderByDescending(t => t.DType.ReferenceOrder()).ThenBy(t => t.Name, Utf8Order.Instance).ToList();

    /// <summary>The padded JSON header for tensors already in file order (internal for tests).</summary>
    internal static byte[] BuildHeader(IReadOnlyList<SafeTensorStreamEntry> ordered, IReadOnlyDictionary<string, string>? metadata)
    {
        var sb = new StringBuilder("{");
        var first = true;
        if (metadata is not null)
        {
            // The reference library writes the map in hash order; sorted keys keep our output reproducible.
            sb.Append('"').Append(SafeTensorsHeader.MetadataKey).Append("\":{");
            var firstMeta = true;
            foreach (var (k, v) in metadata.OrderBy(p => p.Key, Utf8Order.Instance))
            {
                if (!firstMeta)
                {
                    sb.Append(',');
                }
                firstMeta = false;
                AppendJsonString(sb, k);
                sb.Append(':');
                AppendJsonString(sb, v);
            }
            sb.Append('}');
            first = false;
        }
        long offset = 0;
        foreach (var t in ordered)
        {
            if (!first)
            {
                sb.Append(',');
            }
            first = false;
            var end = offset + t.ByteLength;
            AppendJsonString(sb, t.Name);
            sb.Append(":{\"dtype\":\"").Append(t.DType.ToHeaderName()).Append("\",\"shape\":[")
              .AppendJoin(',', t.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))
              .Append("],\"data_offsets\":[").Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(end.ToString(CultureInfo.InvariantCulture)).Append("]}");
            offset = end;
        }
        sb.Append('}');
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        var padded = (bytes.Length + 7) / 8 * 8;
        if (padded == bytes.Length)
        {
            return bytes;
        }
        var result = new byte[padded];
        bytes.CopyTo(result, 0);
        result.AsSpan(bytes.Length).Fill((byte)' ');
        return result;
    }

    // JSON string escaping as serde_json does it: quote, backslash and control characters only, the rest raw UTF-8.
    private static void AppendJsonString(StringBuilder sb, string s) => Configuration.HfJson.WriteString(sb, s, asciiOnly: false);

    private static void WritePlanned(string path, List<SafeTensorStreamEntry> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var ordered = SortForFile(tensors);
        var header = BuildHeader(ordered, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (var t in ordered)
            {
                var counted = new ExactLengthStream(stream, t.ByteLength, t.Name);
                t.WriteData(counted);
                counted.CheckComplete();
            }
        });
    }

    private static IReadOnlyList<string> WriteShardedPlanned(string folder, List<SafeTensorStreamEntry> tensors,
        long maxShardBytes, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        Directory.CreateDirectory(folder);

        var shards = SplitIntoShards(tensors, maxShardBytes);
        var written = new List<string>();
        if (shards.Count == 1)
        {
            var single = Path.Combine(folder, SingleFileName);
            WritePlanned(single, shards[0], metadata);
            written.Add(Path.GetFullPath(single));
        }
        else
        {
            var weightMap = new JsonObject();
            long totalSize = 0;
            for (var i = 0; i < shards.Count; i++)
            {
                var name = ShardFileName(i + 1, shards.Count);
                var shardPath = Path.Combine(folder, name);
                WritePlanned(shardPath, shards[i], metadata);
                written.Add(Path.GetFullPath(shardPath));
                foreach (var t in shards[i])
                {
                    weightMap[t.Name] = name;
                    totalSize += t.ByteLength;
                }
            }
            var index = new JsonObject
            {
                ["metadata"] = new JsonObject { ["total_size"] = totalSize },
                ["weight_map"] = weightMap,
            };
            var indexPath = Path.Combine(folder, IndexFileName);
            AtomicFile.WriteAllBytes(indexPath, Encoding.UTF8.GetBytes(HfJson.Serialize(index)));
            written.Add(Path.GetFullPath(indexPath));
        }
        RemoveStaleWeights(folder, written);
        return written;
    }

    /// <summary>Hugging Face's shard file name: <c>model-00001-of-00003.safetensors</c>.</summary>
    public static string ShardFileName(int shard, int count) =>
        string.Create(CultureInfo.InvariantCulture, $"model-{shard:00000}-of-{count:00000}.safetensors");

    /// <summary>Greedy packing in input order, as huggingface_hub's split_state_dict_into_shards does: a tensor
    /// that would tip the current shard over the limit starts a new one; one larger than the limit stands alone.</summary>
    internal static List<List<SafeTensorStreamEntry>> SplitIntoShards(List<SafeTensorStreamEntry> tensors, long maxShardBytes)
    {
        var shards = new List<List<SafeTensorStreamEntry>>();
        var current = new List<SafeTensorStreamEntry>();
        long currentSize = 0;
        foreach (var t in tensors)
        {
            var size = t.ByteLength;
            if (size > maxShardBytes)
            {
                shards.Add([t]);
                continue;
            }
            if (currentSize + size > maxShardBytes && current.Count > 0)
            {
                shards.Add(current);
                current = [];
                currentSize = 0;
            }
            current.Add(t);
            currentSize += size;
        }
        if (current.Count > 0 || shards.Count == 0)
        {
            shards.Add(current);
        }
        return shards;
    }

    private static void RemoveStaleWeights(string folder, List<string> keep)
    {
        var keepSet = new HashSet<string>(keep, StringComparer.Ordinal);
        var candidates = Directory.EnumerateFiles(folder, "model-*-of-*.safetensors")
            .Append(Path.Combine(folder, SingleFileName))
            .Append(Path.Combine(folder, IndexFileName));
        foreach (var file in candidates)
        {
            var full = Path.GetFullPath(file);
            if (!keepSet.Contains(full) && File.Exists(full))
            {
                File.Delete(full);
            }
        }
    }

    /// <summary>Orders names by their UTF-8 bytes, as Rust's String ordering does.</summary>
    private sealed class Utf8Order : IComparer<string>
    {
        public static readonly Utf8Order Instance = new();

        // UTF-8 byte order equals code point order.
        public int Compare(string? x, string? y) => HfJson.CodePointComparer.Instance.Compare(x, y);
    }
}
