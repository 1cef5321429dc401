using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>tokenizer_config.json and special_tokens_map.json as read (kept so SavePretrained writes them back).</summary>
public sealed class TokenizerConfig(JsonObject? config, JsonObject? specialTokensMap)
{
    public JsonObject? Raw { get; } = config;
    public JsonObject? SpecialTokensMap { get; } = specialTokensMap;

    /// <summary>A special token by key ("cls_token", ...): a string or an object with "content"; the config wins over the map.</summary>
    public string? Get(string key) => Read(Raw, key) ?? Read(SpecialTokensMap, key);

    private static string? Read(JsonObject? o, string key)
    {
        if (o == null || !o.TryGetPropertyValue(key, out var v) || v == null) return null;
        if (v is JsonValue jv && jv.TryGetValue(out string? s)) return s;
        if (v is JsonObject obj && obj["content"] is JsonValue c && c.TryGetValue(out string? cs)) return cs;
        return null;
    }

    /// <summary>model_max_length; transformers writes 1e30 for "no limit", which gives null.</summary>
    public int? ModelMaxLength
    {
        get
        {
            if (Raw?["model_max_length"] is not JsonValue v) return null;
            if (v.TryGetValue(out int i)) return i;
            if (v.TryGetValue(out double d) && d < int.MaxValue) return (int)d;
            if (v.TryGetValue(out long l) && l < int.MaxValue) return (int)l;
            return null;
        }
    }

    public bool? CleanUpTokenizationSpaces => Raw?["clean_up_tokenization_spaces"] is JsonValue v && v.TryGetValue(out bool b) ? b : null;
}
