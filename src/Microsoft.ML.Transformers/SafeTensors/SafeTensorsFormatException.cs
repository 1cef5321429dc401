namespace Microsoft.ML.Transformers.SafeTensors;

/// <summary>A safetensors file (or a sharded checkpoint's index) that does not follow the format.</summary>
/// <remarks>The message always names the file; <see cref="Key"/> names the tensor when one is at fault.</remarks>
public sealed class SafeTensorsFormatException : FormatException
{
    public SafeTensorsFormatException(string filePath, string? key, string message, Exception? inner = null)
        : base(Compose(filePath, key, message), inner)
    {
        FilePath = filePath;
        Key = key;
    }

    /// <summary>The file at fault.</summary>
    public string FilePath { get; }

    /// <summary>The tensor (or index) key at fault, if any.</summary>
    public string? Key { get; }

    private static string Compose(string filePath, string? key, string message) =>
        key is null ? $"Invalid safetensors file '{filePath}': {message}"
                    : $"Invalid safetensors file '{filePath}', tensor '{key}': {message}";
}
