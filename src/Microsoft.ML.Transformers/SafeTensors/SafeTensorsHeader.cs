using System.Text.Json;

namespace Microsoft.ML.Transformers.SafeTensors;

/// <summary>Parses and validates a safetensors JSON header against the size of the data section.</summary>
internal static class SafeTensorsHeader
{
    /// <summary>The reference implementation refuses headers above 100 MB; so do we, before mapping anything.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    public static (Dictionary<string, string> Metadata, List<SafeTensorInfo> Tensors) Parse(
        ReadOnlySpan<byte> json, long dataLength, string path)
    {
        // The reference implementation reads the header as a UTF-8 str first; System.Text.Json would only fail (with an
        // untyped InvalidOperationException) when a malformed name is read.
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            var scratch = new char[json.Length];
            System.Text.Unicode.Utf8.ToUtf16(json, scratch, out int valid, out _, replaceInvalidSequences: false);
            throw new SafeTensorsFormatException(path, null, $"header is not valid UTF-8 (at byte {valid} of the header).");
        }
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            doc = JsonDocument.ParseValue(ref reader);
            // ParseValue stops after the first value; only padding whitespace may follow it.
            if (reader.Read())
            {
                throw new SafeTensorsFormatException(path, null,
                    $"header has content after its JSON object at byte {reader.TokenStartIndex} of the header " +
                    "(expected only space padding).");
            }
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(path, null,
                $"header is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1} of that line): {e.Message}", e);
        }

        using (doc)
        {
            try
            {
                return Read(doc, dataLength, path);
            }
            catch (InvalidOperationException e)
            {
                // e.g. a \ud800 escape: a string that is not valid UTF-16 (the reference implementation refuses it too)
                throw new SafeTensorsFormatException(path, null, $"header holds a string that is not valid Unicode: {e.Message}", e);
            }
        }
    }

    private static (Dictionary<string, string> Metadata, List<SafeTensorInfo> Tensors) Read(JsonDocument doc, long dataLength, string path)
    {
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SafeTensorsFormatException(path, null,
                    $"header must be a JSON object, found {Describe(root.ValueKind)}.");
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<SafeTensorInfo>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in root.EnumerateObject())
            {
                if (!seen.Add(prop.Name))
                {
                    throw new SafeTensorsFormatException(path, prop.Name, "the key appears twice in the header.");
                }
                if (prop.Name == MetadataKey)
                {
                    ReadMetadata(prop.Value, metadata, path);
                    continue;
                }
                var info = ReadTensor(prop.Name, prop.Value, path);
                CheckExtent(info, dataLength, path);
                tensors.Add(info);
            }

            CheckCoverage(tensors, dataLength, path);
            return (metadata, tensors);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SafeTensorsFormatException(path, MetadataKey,
                $"expected an object of string values, found {Describe(value.ValueKind)}.");
        }
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
            {
                throw new SafeTensorsFormatException(path, $"{MetadataKey}.{m.Name}",
                    $"metadata values must be strings, found {Describe(m.Value.ValueKind)}.");
            }
            metadata[m.Name] = m.Value.GetString()!;
        }
    }

    private static SafeTensorInfo ReadTensor(string name, JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SafeTensorsFormatException(path, name,
                $"expected an object with dtype, shape and data_offsets, found {Describe(value.ValueKind)}.");
        }

        var dtypeText = Required(value, "dtype", JsonValueKind.String, name, path).GetString()!;
        if (!SafeTensorDTypeExtensions.TryParseHeaderName(dtypeText, out var dtype))
        {
            throw new SafeTensorsFormatException(path, name,
                $"unknown dtype '{dtypeText}'; expected one of {string.Join(", ", SafeTensorDTypeExtensions.KnownHeaderNames)}.");
        }

        var shape = ReadLongs(Required(value, "shape", JsonValueKind.Array, name, path), "shape", name, path);
        var offsets = ReadLongs(Required(value, "data_offsets", JsonValueKind.Array, name, path), "data_offsets", name, path);
        if (offsets.Length != 2)
        {
            throw new SafeTensorsFormatException(path, name,
                $"data_offsets must be [begin, end], found {offsets.Length} numbers.");
        }
        return new SafeTensorInfo(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static JsonElement Required(JsonElement obj, string field, JsonValueKind kind, string name, string path)
    {
        if (!obj.TryGetProperty(field, out var v))
        {
            throw new SafeTensorsFormatException(path, name, $"missing field '{field}'.");
        }
        if (v.ValueKind != kind)
        {
            throw new SafeTensorsFormatException(path, name,
                $"field '{field}' must be {Describe(kind)}, found {Describe(v.ValueKind)}.");
        }
        return v;
    }

    private static long[] ReadLongs(JsonElement array, string field, string name, string path)
    {
        var result = new long[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var v) || v < 0)
            {
                throw new SafeTensorsFormatException(path, name,
                    $"{field}[{i}] must be a non-negative integer, found {item.GetRawText()}.");
            }
            result[i++] = v;
        }
        return result;
    }

    private static void CheckExtent(SafeTensorInfo t, long dataLength, string path)
    {
        if (t.End < t.Begin)
        {
            throw new SafeTensorsFormatException(path, t.Name,
                $"data_offsets [{t.Begin}, {t.End}] end before they begin.");
        }

        long expectedBytes;
        try
        {
            expectedBytes = checked(t.ElementCount * t.DType.ElementSize());
        }
        catch (OverflowException)
        {
            throw new SafeTensorsFormatException(path, t.Name, $"shape {t.ShapeText} overflows a 64-bit byte count.");
        }
        if (expectedBytes != t.ByteLength)
        {
            throw new SafeTensorsFormatException(path, t.Name,
                $"shape {t.ShapeText} x {t.DType.ToHeaderName()} ({t.DType.ElementSize()} bytes) needs {expectedBytes} bytes, " +
                $"but data_offsets [{t.Begin}, {t.End}] span {t.ByteLength}.");
        }
        if (t.End > dataLength)
        {
            throw new SafeTensorsFormatException(path, t.Name,
                $"data_offsets [{t.Begin}, {t.End}] go past the end of the data section, which has {dataLength} bytes.");
        }
    }

    /// <summary>The data section must be covered exactly: no gap, no overlap, nothing trailing.</summary>
    private static void CheckCoverage(List<SafeTensorInfo> tensors, long dataLength, string path)
    {
        tensors.Sort(static (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long covered = 0;
        string? previous = null;
        foreach (var t in tensors)
        {
            if (t.Begin < covered)
            {
                throw new SafeTensorsFormatException(path, t.Name,
                    $"data_offsets [{t.Begin}, {t.End}] overlap tensor '{previous}', which ends at {covered}; " +
                    $"expected this tensor to begin at {covered}.");
            }
            if (t.Begin > covered)
            {
                throw new SafeTensorsFormatException(path, t.Name,
                    $"data_offsets [{t.Begin}, {t.End}] leave a gap: expected begin {covered} " +
                    (previous is null ? "(the start of the data section)." : $"(the end of tensor '{previous}')."));
            }
            covered = t.End;
            previous = t.Name;
        }
        if (covered != dataLength)
        {
            throw new SafeTensorsFormatException(path, previous,
                $"the data section has {dataLength} bytes but the tensors cover {covered}; " +
                $"expected the last tensor to end exactly at {dataLength}.");
        }
    }

    internal static string Describe(JsonValueKind kind) => Configuration.ConfigJson.Describe(kind);
}
