using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>
/// Builds the right config class from a config.json's <c>model_type</c>, through a registry users can add to
/// (Hugging Face's <c>AutoConfig.register</c>). BERT, RoBERTa and DistilBERT are registered from the start.
/// </summary>
public static class AutoConfig
{
    private static readonly ConcurrentDictionary<string, Func<JsonObject, PretrainedConfig>> Factories = new(
        new Dictionary<string, Func<JsonObject, PretrainedConfig>>
        {
            [BertConfig.Type] = raw => new BertConfig(raw),
            [RobertaConfig.Type] = raw => new RobertaConfig(raw),
            [DistilBertConfig.Type] = raw => new DistilBertConfig(raw),
            [ResNetConfig.Type] = raw => new ResNetConfig(raw),
            [ConvNextConfig.Type] = raw => new ConvNextConfig(raw),
            [SwinConfig.Type] = raw => new SwinConfig(raw),
            [UperNetConfig.Type] = raw => new UperNetConfig(raw),
            [DetrConfig.Type] = raw => new DetrConfig(raw),
        },
        StringComparer.Ordinal);

    /// <summary>The model types that have a factory, sorted.</summary>
    public static IReadOnlyList<string> RegisteredModelTypes => Factories.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Adds a factory for <paramref name="modelType"/>. Replacing an existing one must be asked for, as in
    /// Hugging Face (exist_ok), so two libraries cannot silently fight over a name.</summary>
    public static void Register(string modelType, Func<JsonObject, PretrainedConfig> factory, bool replace = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelType);
        ArgumentNullException.ThrowIfNull(factory);
        if (replace)
        {
            Factories[modelType] = factory;
        }
        else if (!Factories.TryAdd(modelType, factory))
        {
            throw new ArgumentException($"model_type '{modelType}' is already registered; pass replace: true to override it.",
                nameof(modelType));
        }
    }

    /// <summary>Reads <c>config.json</c> from a checkpoint folder (or the given .json file path).</summary>
    /// <exception cref="FileNotFoundException">naming the path looked for.</exception>
    /// <exception cref="ConfigException">malformed JSON (with line/byte), missing or unknown model_type, a key of the wrong type.</exception>
    public static PretrainedConfig FromPretrained(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (Directory.Exists(folder)) AtomicFolder.Recover(folder); // finishes or removes what a killed save left
        var path = Path.GetFullPath(File.Exists(folder) ? folder : Path.Combine(folder, PretrainedConfig.ConfigFileName));
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No {PretrainedConfig.ConfigFileName} at '{path}'.", path);
        }
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary><see cref="FromPretrained(string)"/>, checked to be a <typeparamref name="T"/>.</summary>
    public static T FromPretrained<T>(string folder) where T : PretrainedConfig
    {
        var config = FromPretrained(folder);
        return config as T ?? throw new ConfigException(config.Source, "model_type",
            $"expected a config for {typeof(T).Name}, found model_type '{config.ModelType}' ({config.GetType().Name}).");
    }

    /// <summary>Builds a config from JSON text; <paramref name="source"/> names it in error messages.</summary>
    public static PretrainedConfig FromJson(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        return FromJsonObject(ConfigJson.ParseObject(json, source), source);
    }

    /// <summary>Builds a config around already-parsed keys (not copied).</summary>
    public static PretrainedConfig FromJsonObject(JsonObject raw, string? source)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var registered = string.Join(", ", RegisteredModelTypes);
        if (!raw.TryGetPropertyValue("model_type", out var node) || node is null)
        {
            throw new ConfigException(source, "model_type", $"missing; expected one of the registered model types: {registered}.");
        }
        if (node.GetValueKind() != System.Text.Json.JsonValueKind.String)
        {
            throw new ConfigException(source, "model_type", $"expected a string, found {ConfigJson.Describe(node)}.");
        }
        var modelType = node.GetValue<string>();
        if (!Factories.TryGetValue(modelType, out var factory))
        {
            throw new ConfigException(source, "model_type",
                $"unknown model_type '{modelType}'; registered model types: {registered}. Use AutoConfig.Register to add one.");
        }
        var config = factory(raw);
        config.Source = source;
        config.Validate();
        return config;
    }
}
