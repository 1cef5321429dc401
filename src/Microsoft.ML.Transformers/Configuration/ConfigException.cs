namespace Microsoft.ML.Transformers.Configuration;

/// <summary>A config.json that cannot be read or does not hold what a typed member expects.</summary>
/// <remarks>The message names the file (or source), the key and what was expected vs found.</remarks>
public sealed class ConfigException : FormatException
{
    public ConfigException(string? source, string? key, string message, Exception? inner = null)
        : base(Compose(source, key, message), inner)
    {
        ConfigSource = source;
        Key = key;
        Detail = message;
    }

    /// <summary>What is wrong, without the source and key that <see cref="Exception.Message"/> starts with.</summary>
    public string Detail { get; }

    /// <summary>The file (or caller-given source name) the config came from, if known.</summary>
    public string? ConfigSource { get; }

    /// <summary>The key at fault, if any (dotted for nested keys, e.g. <c>id2label.x</c>).</summary>
    public string? Key { get; }

    private static string Compose(string? source, string? key, string message)
    {
        var where = source is null ? "Config" : $"Config '{source}'";
        return key is null ? $"{where}: {message}" : $"{where}, key '{key}': {message}";
    }
}
