using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Microsoft.ML.Transformers.SentenceTransformers;

/// <summary>What an embedding file's header says.</summary>
/// <param name="Dimension">Floats per row.</param>
/// <param name="Count">Rows.</param>
/// <param name="Model">Free text naming the model that made the rows (a folder name or hub id); may be empty.</param>
/// <param name="Normalized">The rows are L2-normalized (cosine search then needs no row norms).</param>
public sealed record EmbeddingFileInfo(int Dimension, long Count, string Model, bool Normalized);

/// <summary>
/// A file of embeddings, one float32 row per text, written in one streaming pass and read memory-mapped by
/// <see cref="EmbeddingStore"/>. All integers little-endian:
/// <code>
/// offset  size        field
///  0      8           magic "MLTEMBED" (ASCII)
///  8      4           version, uint32 = 1
/// 12      4           dimension, uint32, 1..65536
/// 16      8           count (rows), uint64
/// 24      4           flags, uint32: bit 0 = rows are L2-normalized; other bits 0
/// 28      4           model name length L in bytes, uint32, 0..4096
/// 32      L           model name, UTF-8
/// 32+L    ..D         zero bytes up to D, the next multiple of 64
/// D       4*dim*count rows, float32, row-major
/// </code>
/// The file's length is exactly D + 4 * dimension * count. Writers go through a temporary sibling renamed at the end,
/// so a reader never sees a half-written file and a failed write leaves the previous file in place.
/// </summary>
public static class EmbeddingFile
{
    public const string Magic = "MLTEMBED";
    public const uint Version = 1;
    public const int MaxDimension = 65536;
    public const int MaxModelNameBytes = 4096;
    internal const int FixedHeader = 32, Alignment = 64;

    /// <summary>
    /// Writes <paramref name="rows"/> (each <paramref name="dimension"/> floats) to <paramref name="path"/> as they come,
    /// holding one row at a time; <paramref name="progress"/> gets the count of rows written. Returns the count.
    /// </summary>
    public static long Write(string path, IEnumerable<float[]> rows, int dimension, string model = "", bool normalized = false,
        IProgress<long>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(rows);
        model ??= "";
        if (dimension < 1 || dimension > MaxDimension)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"An embedding file's dimension is 1..{MaxDimension}.");
        var name = Encoding.UTF8.GetBytes(model);
        if (name.Length > MaxModelNameBytes)
            throw new ArgumentException($"The model name has {name.Length} UTF-8 bytes; an embedding file holds at most {MaxModelNameBytes}.", nameof(model));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Embedding files are little-endian; this machine is not.");
        long count = 0;
        AtomicFile.Write(path, stream =>
        {
            var header = Header(dimension, 0, normalized, name);
            stream.Write(header);
            foreach (var row in rows)
            {
                if (row is null || row.Length != dimension)
                    throw new ArgumentException($"Row {count} has {row?.Length.ToString() ?? "no"} values; the embedding file '{path}' takes {dimension}.", nameof(rows));
                stream.Write(MemoryMarshal.AsBytes(row.AsSpan()));
                count++;
                progress?.Report(count);
            }
            stream.Flush();
            stream.Position = 16;
            Span<byte> c = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(c, (ulong)count);
            stream.Write(c);
        });
        return count;
    }

    internal static byte[] Header(int dimension, long count, bool normalized, byte[] name)
    {
        var header = new byte[DataOffset(name.Length)];
        Encoding.ASCII.GetBytes(Magic, header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), (uint)dimension);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), (ulong)count);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(24), normalized ? 1u : 0u);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(28), (uint)name.Length);
        name.CopyTo(header, FixedHeader);
        return header;
    }

    internal static long DataOffset(int nameLength) => (FixedHeader + nameLength + Alignment - 1) / Alignment * Alignment;

    /// <summary>Reads and checks the header of <paramref name="path"/> against the file's length.</summary>
    public static EmbeddingFileInfo ReadInfo(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        return ReadInfo(stream, Path.GetFullPath(path), out _);
    }

    internal static EmbeddingFileInfo ReadInfo(Stream stream, string path, out long dataOffset)
    {
        long length = stream.Length;
        Exception Bad(string field, string found, string expected) =>
            new FormatException($"'{path}' is not a valid embedding file: {field} is {found}; expected {expected}.");
        if (length < FixedHeader) throw Bad("the file length", $"{length} bytes", $"at least {FixedHeader} (the fixed header)");
        Span<byte> h = stackalloc byte[FixedHeader];
        stream.Position = 0;
        stream.ReadExactly(h);
        var magic = Encoding.ASCII.GetString(h[..8]);
        if (magic != Magic) throw Bad("the magic", $"'{Escape(magic)}'", $"'{Magic}'");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(h[8..]);
        if (version != Version) throw Bad("the version", version.ToString(), Version.ToString());
        uint dimension = BinaryPrimitives.ReadUInt32LittleEndian(h[12..]);
        if (dimension < 1 || dimension > MaxDimension) throw Bad("the dimension", dimension.ToString(), $"1..{MaxDimension}");
        ulong count = BinaryPrimitives.ReadUInt64LittleEndian(h[16..]);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(h[24..]);
        if ((flags & ~1u) != 0) throw Bad("the flags", $"0x{flags:x}", "0 or 1 (bit 0: normalized)");
        uint nameLength = BinaryPrimitives.ReadUInt32LittleEndian(h[28..]);
        if (nameLength > MaxModelNameBytes) throw Bad("the model name length", nameLength.ToString(), $"0..{MaxModelNameBytes}");
        dataOffset = DataOffset((int)nameLength);
        ulong rowBytes = 4UL * dimension;
        if (length < dataOffset || count > (ulong)(length - dataOffset) / rowBytes || (ulong)dataOffset + count * rowBytes != (ulong)length)
            throw Bad("the file length", $"{length} bytes",
                $"{(count <= (ulong)long.MaxValue / rowBytes ? ((ulong)dataOffset + count * rowBytes).ToString() : "more than the largest file")} bytes ({dataOffset} of header + {count} rows of {dimension} float32)");
        var name = new byte[nameLength];
        stream.ReadExactly(name);
        string model;
        try { model = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(name); }
        catch (DecoderFallbackException) { throw Bad("the model name", "not valid UTF-8", "UTF-8 text"); }
        return new EmbeddingFileInfo((int)dimension, (long)count, model, (flags & 1) != 0);
    }

    private static string Escape(string s) => new(s.Select(ch => ch is >= ' ' and <= '~' ? ch : '?').ToArray());
}
