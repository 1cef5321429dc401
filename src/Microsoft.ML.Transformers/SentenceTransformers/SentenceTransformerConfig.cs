using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.SentenceTransformers;

/// <summary>Pooling modes of sentence-transformers' <c>models.Pooling</c>; several at once are concatenated in this order.</summary>
[Flags]
public enum PoolingMode
{
    None = 0,
    Cls = 1,
    Max = 2,
    Mean = 4,
    MeanSqrtLen = 8,
    WeightedMean = 16,
    LastToken = 32,
}

/// <summary>1_Pooling/config.json (sentence-transformers <c>models/Pooling.py</c>).</summary>
public sealed record PoolingConfig(PoolingMode Modes, int WordEmbeddingDimension, bool IncludePrompt = true)
{
    /// <summary>The pooled vector's length: the word embedding dimension times the number of modes.</summary>
    public int OutputDimension => WordEmbeddingDimension * System.Numerics.BitOperations.PopCount((uint)Modes);

    private static readonly (string Key, PoolingMode Mode)[] s_keys =
    [
        ("pooling_mode_cls_token", PoolingMode.Cls), ("pooling_mode_max_tokens", PoolingMode.Max),
        ("pooling_mode_mean_tokens", PoolingMode.Mean), ("pooling_mode_mean_sqrt_len_tokens", PoolingMode.MeanSqrtLen),
        ("pooling_mode_weightedmean_tokens", PoolingMode.WeightedMean), ("pooling_mode_lasttoken", PoolingMode.LastToken),
    ];

    /// <summary>sentence-transformers' pooling_mode strings (<c>Pooling(pooling_mode=...)</c>).</summary>
    public static PoolingMode ParseMode(string name, string source) => name.ToLowerInvariant() switch
    {
        "cls" => PoolingMode.Cls,
        "max" => PoolingMode.Max,
        "mean" => PoolingMode.Mean,
        "mean_sqrt_len_tokens" => PoolingMode.MeanSqrtLen,
        "weightedmean" => PoolingMode.WeightedMean,
        "lasttoken" => PoolingMode.LastToken,
        _ => throw new FormatException($"{source}: unknown pooling mode '{name}'; expected cls, max, mean, mean_sqrt_len_tokens, weightedmean or lasttoken."),
    };

    public static PoolingConfig FromFile(string path)
    {
        var o = SentenceTransformerConfig.ReadObject(path);
        var modes = PoolingMode.None;
        foreach (var (k, v) in o)
        {
            if (k == "pooling_mode" && v is JsonValue s && s.TryGetValue(out string? name)) { modes |= ParseMode(name, $"'{path}' key \"pooling_mode\""); continue; }
            if (!k.StartsWith("pooling_mode_", StringComparison.Ordinal)) continue;
            var known = s_keys.FirstOrDefault(x => x.Key == k);
            if (known.Key is null)
                throw new FormatException($"'{path}': unknown pooling mode key \"{k}\"; expected one of {string.Join(", ", s_keys.Select(x => x.Key))}.");
            if (v is JsonValue b && b.TryGetValue(out bool on)) { if (on) modes |= known.Mode; }
            else throw new FormatException($"'{path}': \"{k}\" must be true or false; found {v?.ToJsonString() ?? "null"}.");
        }
        if (modes == PoolingMode.None) throw new FormatException($"'{path}': no pooling mode is set (every pooling_mode_* key is false or missing).");
        int dim = o["word_embedding_dimension"] is JsonValue d && d.TryGetValue(out int n) ? n
            : throw new FormatException($"'{path}': key \"word_embedding_dimension\" must be an integer.");
        bool includePrompt = o["include_prompt"] is not JsonValue ip || !ip.TryGetValue(out bool inc) || inc;
        return new PoolingConfig(modes, dim, includePrompt);
    }
}

/// <summary>One entry of modules.json.</summary>
public sealed record SentenceTransformerModule(int Index, string Name, string Path, string Type);

/// <summary>
/// A sentence-transformers folder: modules.json (Transformer, Pooling, Normalize, in order), sentence_bert_config.json
/// (max_seq_length), config_sentence_transformers.json (prompts, default_prompt_name, similarity_fn_name).
/// </summary>
public sealed record SentenceTransformerConfig
{
    public const string ModulesFileName = "modules.json";
    public const string TransformerType = "sentence_transformers.models.Transformer";
    public const string PoolingType = "sentence_transformers.models.Pooling";
    public const string NormalizeType = "sentence_transformers.models.Normalize";

    public required string Folder { get; init; }
    public required IReadOnlyList<SentenceTransformerModule> Modules { get; init; }
    /// <summary>The folder the Transformer module's config.json, weights and tokenizer live in.</summary>
    public required string TransformerFolder { get; init; }
    public int? MaxSeqLength { get; init; }
    public required PoolingConfig Pooling { get; init; }
    public bool Normalize { get; init; }
    public IReadOnlyDictionary<string, string> Prompts { get; init; } = new Dictionary<string, string>();
    public string? DefaultPromptName { get; init; }
    /// <summary>"cosine" (default) or "dot".</summary>
    public string SimilarityFunction { get; init; } = "cosine";

    /// <summary>True when <paramref name="folder"/> has a modules.json.</summary>
    public static bool IsSentenceTransformerFolder(string folder) => File.Exists(System.IO.Path.Combine(folder, ModulesFileName));

    public static SentenceTransformerConfig FromPretrained(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Sentence-transformers folder '{folder}' does not exist.");
        var path = System.IO.Path.Combine(folder, ModulesFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' not found: a sentence-transformers folder lists its modules there.", path);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new FormatException($"'{path}' is not valid JSON: {e.Message}", e); }
        if (root is not JsonArray list) throw new FormatException($"'{path}': expected a JSON array of modules; found {root?.GetValueKind().ToString() ?? "null"}.");

        var modules = new List<SentenceTransformerModule>();
        foreach (var (node, i) in list.Select((n, i) => (n, i)))
        {
            string Str(string key) => node?[key] is JsonValue v && v.TryGetValue(out string? s) ? s
                : throw new FormatException($"'{path}': module {i} has no string \"{key}\".");
            modules.Add(new SentenceTransformerModule(node?["idx"] is JsonValue x && x.TryGetValue(out int idx) ? idx : i, Str("name"), Str("path"), Str("type")));
        }
        string? transformer = null;
        PoolingConfig? pooling = null;
        bool normalize = false;
        foreach (var m in modules.OrderBy(m => m.Index))
        {
            var dir = System.IO.Path.Combine(folder, m.Path);
            switch (m.Type)
            {
                case TransformerType when transformer is null && pooling is null: transformer = dir; break;
                case PoolingType when transformer is not null && pooling is null:
                    pooling = PoolingConfig.FromFile(System.IO.Path.Combine(dir, "config.json"));
                    break;
                case NormalizeType when pooling is not null: normalize = true; break;
                case TransformerType or PoolingType or NormalizeType:
                    throw new NotSupportedException($"'{path}': module {m.Index} ({m.Type}) is out of place; supported: Transformer, then Pooling, then an optional Normalize.");
                default:
                    throw new NotSupportedException(
                        $"'{path}': module {m.Index} has type '{m.Type}', which is not supported; supported: {TransformerType}, {PoolingType}, {NormalizeType}.");
            }
        }
        if (transformer is null || pooling is null)
            throw new NotSupportedException($"'{path}': needs a {TransformerType} module followed by a {PoolingType} module.");

        int? maxSeq = null;
        var bertConfig = System.IO.Path.Combine(transformer, "sentence_bert_config.json");
        if (File.Exists(bertConfig) && ReadObject(bertConfig)["max_seq_length"] is JsonValue ms && ms.TryGetValue(out int msl)) maxSeq = msl;

        var prompts = new Dictionary<string, string>();
        string? defaultPrompt = null, similarity = null;
        var stConfig = System.IO.Path.Combine(folder, "config_sentence_transformers.json");
        if (File.Exists(stConfig))
        {
            var o = ReadObject(stConfig);
            if (o["prompts"] is JsonObject ps)
                foreach (var (k, v) in ps)
                    prompts[k] = v is JsonValue pv && pv.TryGetValue(out string? p) ? p : throw new FormatException($"'{stConfig}': prompts.{k} must be a string.");
            if (o["default_prompt_name"] is JsonValue dp && dp.TryGetValue(out string? dps)) defaultPrompt = dps;
            if (o["similarity_fn_name"] is JsonValue sf && sf.TryGetValue(out string? sfs)) similarity = sfs;
        }
        if (defaultPrompt is not null && !prompts.ContainsKey(defaultPrompt))
            throw new FormatException($"'{stConfig}': default_prompt_name '{defaultPrompt}' is not one of the prompts ({string.Join(", ", prompts.Keys)}).");
        similarity ??= "cosine";
        if (similarity is not ("cosine" or "dot"))
            throw new NotSupportedException($"'{stConfig}': similarity_fn_name '{similarity}' is not supported; expected cosine or dot.");

        return new SentenceTransformerConfig
        {
            Folder = folder, Modules = modules, TransformerFolder = transformer, MaxSeqLength = maxSeq, Pooling = pooling,
            Normalize = normalize, Prompts = prompts, DefaultPromptName = defaultPrompt, SimilarityFunction = similarity,
        };
    }

    internal static JsonObject ReadObject(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' not found.", path);
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new FormatException($"'{path}': expected a JSON object.");
        }
        catch (JsonException e) { throw new FormatException($"'{path}' is not valid JSON: {e.Message}", e); }
    }
}
