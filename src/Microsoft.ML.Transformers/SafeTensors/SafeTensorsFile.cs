using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Transformers.SafeTensors;

/// <summary>
/// A safetensors file opened read-only and memory-mapped: the header is parsed and validated once, tensor bytes
/// are never copied. Format: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data section.
/// </summary>
/// <remarks>
/// Spans and pointers handed out by <see cref="GetBytes(string)"/> and <see cref="GetPointer(string)"/> point into
/// the mapping and are valid only until <see cref="Dispose"/>; copy the data (or create an engine tensor from it)
/// before disposing. Reading from several threads at once is safe; disposing while others read is not.
/// </remarks>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly Dictionary<string, SafeTensorInfo> _byName;
    private byte* _base;

    private SafeTensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePtr,
        long dataStart, Dictionary<string, string> metadata, List<SafeTensorInfo> tensors)
    {
        Path = path;
        _map = map;
        _view = view;
        _base = basePtr;
        DataStart = dataStart;
        Metadata = metadata;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Full path of the file.</summary>
    public string Path { get; }

    /// <summary>File offset of the data section (8 + header length); <see cref="SafeTensorInfo.Begin"/> is relative to it.</summary>
    public long DataStart { get; }

    /// <summary>The header's <c>__metadata__</c> map (empty when absent), e.g. <c>{"format": "pt"}</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>All tensors in the order their data lies in the file (for files written by the reference library
    /// and by <see cref="SafeTensorsWriter"/>, also the order of the header).</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>Tensor names, in <see cref="Tensors"/> order.</summary>
    public IEnumerable<string> Keys => Tensors.Select(t => t.Name);

    /// <summary>Opens and validates <paramref name="path"/>; throws <see cref="SafeTensorsFormatException"/> naming the
    /// file, the tensor and what was expected vs found when the file breaks the format.</summary>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"Safetensors file not found: '{full}'.", full);
        }

        var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        var acquired = false;
        try
        {
            var fileLength = stream.Length;
            if (fileLength < 8)
            {
                throw new SafeTensorsFormatException(full, null,
                    $"the file has {fileLength} bytes; expected at least 8 (the little-endian u64 header length).");
            }
            Span<byte> prefix = stackalloc byte[8];
            stream.ReadExactly(prefix);
            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > (ulong)(fileLength - 8))
            {
                throw new SafeTensorsFormatException(full, null,
                    $"header length {headerLength} goes past the end of the file; the file has {fileLength} bytes, " +
                    $"so expected at most {fileLength - 8}.");
            }
            if (headerLength > SafeTensorsHeader.MaxHeaderBytes)
            {
                throw new SafeTensorsFormatException(full, null,
                    $"header length {headerLength} exceeds the format's limit of {SafeTensorsHeader.MaxHeaderBytes} bytes.");
            }

            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read,
                HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* ptr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref ptr);
            acquired = true;
            ptr += view.PointerOffset;

            var dataStart = 8 + (long)headerLength;
            var header = new ReadOnlySpan<byte>(ptr + 8, (int)headerLength);
            var (metadata, tensors) = SafeTensorsHeader.Parse(header, fileLength - dataStart, full);
            return new SafeTensorsFile(full, map, view, ptr, dataStart, metadata, tensors);
        }
        catch
        {
            if (acquired)
            {
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            }
            view?.Dispose();
            map?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Whether a tensor named <paramref name="name"/> is in the file.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The header entry of <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">naming the file and the key.</exception>
    public SafeTensorInfo Get(string name) =>
        _byName.TryGetValue(name, out var info) ? info : throw MissingKey(name);

    /// <summary>Tries to find the header entry of <paramref name="name"/>.</summary>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SafeTensorInfo? info) =>
        _byName.TryGetValue(name, out info);

    /// <summary>The tensor's raw little-endian bytes, straight from the mapping (no copy).</summary>
    /// <remarks>Valid until this object is disposed. Tensors over 2 GiB do not fit a span: use <see cref="GetPointer(string)"/>.</remarks>
    public ReadOnlySpan<byte> GetBytes(string name) => GetBytes(Get(name));

    /// <inheritdoc cref="GetBytes(string)"/>
    public ReadOnlySpan<byte> GetBytes(SafeTensorInfo info)
    {
        if (info.ByteLength > int.MaxValue)
        {
            throw new NotSupportedException(
                $"Tensor '{info.Name}' in '{Path}' has {info.ByteLength} bytes, more than a span can hold; use GetPointer.");
        }
        return new ReadOnlySpan<byte>(Pointer(info), (int)info.ByteLength);
    }

    /// <summary>The tensor's elements as <typeparamref name="T"/> (e.g. float for F32, Half for F16, ushort for BF16).</summary>
    /// <remarks>Same lifetime as <see cref="GetBytes(string)"/>. Checks only that the element sizes agree.</remarks>
    public ReadOnlySpan<T> GetSpan<T>(string name) where T : unmanaged
    {
        var info = Get(name);
        if (sizeof(T) != info.DType.ElementSize())
        {
            throw new InvalidOperationException(
                $"Tensor '{name}' in '{Path}' is {info.DType.ToHeaderName()} ({info.DType.ElementSize()} bytes per element); " +
                $"{typeof(T).Name} has {sizeof(T)} bytes.");
        }
        return MemoryMarshal.Cast<byte, T>(GetBytes(info));
    }

    /// <summary>Address of the tensor's first byte in the mapping; valid until this object is disposed.</summary>
    public byte* GetPointer(string name) => Pointer(Get(name));

    /// <inheritdoc cref="GetPointer(string)"/>
    public byte* GetPointer(SafeTensorInfo info) => Pointer(info);

    private byte* Pointer(SafeTensorInfo info)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        return _base + DataStart + info.Begin;
    }

    private KeyNotFoundException MissingKey(string name)
    {
        var near = Tensors.Select(t => t.Name)
            .Where(k => k.EndsWith(name, StringComparison.Ordinal) || name.EndsWith(k, StringComparison.Ordinal))
            .Take(3).ToList();
        var hint = near.Count > 0 ? $" Similar keys: {string.Join(", ", near.Select(k => $"'{k}'"))}." : "";
        return new KeyNotFoundException(
            $"Tensor '{name}' is not in safetensors file '{Path}' ({Tensors.Count} tensors).{hint}");
    }

    public void Dispose()
    {
        if (_base == null)
        {
            return;
        }
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
