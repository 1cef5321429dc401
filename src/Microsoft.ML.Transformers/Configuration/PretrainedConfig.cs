using System.Globalization;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>
/// A model's config.json, mirroring Hugging Face's <c>PretrainedConfig</c>. Every key read is kept in
/// <see cref="Raw"/>; typed members read and write through it, so <see cref="SavePretrained"/> writes back exactly
/// what was read plus whatever was changed. A key missing from the file reads as the class's default (the base
/// checkpoint's value for architecture configs) without being added to the file.
/// </summary>
public class PretrainedConfig
{
    /// <summary>File name inside a checkpoint folder.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>Values <see cref="ProblemType"/> may take besides null.</summary>
    public static IReadOnlyList<string> ProblemTypes { get; } =
        ["single_label_classification", "multi_label_classification", "regression"];

    private readonly JsonObject? _defaults;

    /// <summary>An empty config (every typed member at its Hugging Face default).</summary>
    public PretrainedConfig() : this(new JsonObject(), null, null)
    {
    }

    /// <summary>Wraps <paramref name="raw"/> (not copied: later changes through this config show in it).</summary>
    public PretrainedConfig(JsonObject raw, string? source = null) : this(raw, source, null)
    {
    }

    /// <param name="raw">The keys of the file, or null for a fresh config holding a copy of <paramref name="defaults"/>.</param>
    /// <param name="source">File path or name used in error messages.</param>
    /// <param name="defaults">The architecture's defaults; read for keys the file lacks, never modified.</param>
    protected PretrainedConfig(JsonObject? raw, string? source, JsonObject? defaults)
    {
        _defaults = defaults;
        Raw = raw ?? (JsonObject)(defaults?.DeepClone() ?? new JsonObject());
        Source = source;
    }

    /// <summary>Every key of config.json (and every key set since); what <see cref="SavePretrained"/> writes.</summary>
    public JsonObject Raw { get; }

    /// <summary>Where the config came from (file path), for error messages; null when built in code.</summary>
    public string? Source { get; set; }

    /// <summary><c>model_type</c>: the key <see cref="AutoConfig"/> dispatches on ("bert", "roberta", ...).</summary>
    public string? ModelType { get => Get<string>("model_type"); set => Set("model_type", value); }

    /// <summary><c>architectures</c>: head classes the checkpoint was saved from, e.g. ["BertForMaskedLM"].</summary>
    public IReadOnlyList<string>? Architectures
    {
        get => Get<List<string>>("architectures");
        set => Set("architectures", value?.ToList());
    }

    /// <summary><c>id2label</c> (JSON keys are strings). Without it in the file: LABEL_0..LABEL_{NumLabels-1}, as
    /// Hugging Face generates. Setting it also rewrites <c>label2id</c> as its inverse.</summary>
    public IReadOnlyDictionary<int, string> Id2Label
    {
        get
        {
            if (Raw["id2label"] is null)
            {
                return Generated(NumLabels);
            }
            var result = new SortedDictionary<int, string>();
            foreach (var (k, v) in ObjectAt("id2label"))
            {
                if (!int.TryParse(k, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id))
                {
                    throw new ConfigException(Source, $"id2label.{k}", $"expected an integer key, found \"{k}\".");
                }
                result[id] = Convert<string>($"id2label.{k}", v) ?? throw Wrong<string>($"id2label.{k}", v);
            }
            return result;
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            var id2label = new JsonObject();
            var label2id = new JsonObject();
            foreach (var (id, label) in value.OrderBy(p => p.Key))
            {
                id2label[id.ToString(CultureInfo.InvariantCulture)] = label;
                label2id[label] = id;
            }
            Raw["id2label"] = id2label;
            Raw["label2id"] = label2id;
            if (Raw.ContainsKey("num_labels"))
            {
                Raw["num_labels"] = value.Count;
            }
        }
    }

    /// <summary><c>label2id</c>; without it in the file, the inverse of <see cref="Id2Label"/> (a label named twice
    /// keeps its last id, as Python's <c>dict(zip(values, keys))</c>).</summary>
    public IReadOnlyDictionary<string, int> Label2Id
    {
        get
        {
            if (Raw["label2id"] is null)
            {
                var inverse = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var (id, label) in Id2Label)
                {
                    inverse[label] = id;
                }
                return inverse;
            }
            var result = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (k, v) in ObjectAt("label2id"))
            {
                result[k] = Convert<int?>($"label2id.{k}", v) ?? throw Wrong<int>($"label2id.{k}", v);
            }
            return result;
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            var obj = new JsonObject();
            foreach (var (label, id) in value)
            {
                obj[label] = id;
            }
            Raw["label2id"] = obj;
        }
    }

    /// <summary>The key <see cref="NumLabels"/> is read from (named in errors about the label count).</summary>
    protected internal string LabelsKey => Raw["id2label"] is not null ? "id2label" : "num_labels";

    /// <summary>Number of labels: the size of <c>id2label</c> when present, else <c>num_labels</c>, else 2.
    /// Setting a different count regenerates LABEL_0.. names, as Hugging Face's setter does.</summary>
    public int NumLabels
    {
        get => LabelsKey == "id2label" ? ObjectAt("id2label").Count : GetOrDefault("num_labels", 2);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            if (Raw["id2label"] is null || ObjectAt("id2label").Count != value)
            {
                Id2Label = Generated(value);
            }
            if (Raw.ContainsKey("num_labels"))
            {
                Raw["num_labels"] = value;
            }
        }
    }

    /// <summary><c>problem_type</c>: null or one of <see cref="ProblemTypes"/>.</summary>
    public string? ProblemType
    {
        get
        {
            var v = Get<string>("problem_type");
            if (v is not null && !ProblemTypes.Contains(v))
            {
                throw new ConfigException(Source, "problem_type",
                    $"expected null or one of {string.Join(", ", ProblemTypes.Select(p => $"\"{p}\""))}, found \"{v}\".");
            }
            return v;
        }
        set
        {
            if (value is not null && !ProblemTypes.Contains(value))
            {
                throw new ArgumentException(
                    $"problem_type must be null or one of {string.Join(", ", ProblemTypes)}; got \"{value}\".", nameof(value));
            }
            Set("problem_type", value);
        }
    }

    /// <summary><c>pad_token_id</c>.</summary>
    public int? PadTokenId { get => Get<int?>("pad_token_id"); set => Set("pad_token_id", value); }

    /// <summary><c>bos_token_id</c>.</summary>
    public int? BosTokenId { get => Get<int?>("bos_token_id"); set => Set("bos_token_id", value); }

    /// <summary><c>eos_token_id</c> when it is a single id; throws when the file holds a list (use <see cref="EosTokenIds"/>).</summary>
    public int? EosTokenId
    {
        get => TryFind("eos_token_id", out var node) && node is JsonArray
            ? throw new ConfigException(Source, "eos_token_id",
                $"expected a single id, found the list {node.ToJsonString()}; read EosTokenIds instead.")
            : Get<int?>("eos_token_id");
        set => Set("eos_token_id", value);
    }

    /// <summary><c>eos_token_id</c> as a list, whether the file holds one id or several.</summary>
    public IReadOnlyList<int> EosTokenIds
    {
        get
        {
            TryFind("eos_token_id", out var node);
            return node switch
            {
                null => [],
                JsonArray => Convert<List<int>>("eos_token_id", node)!,
                _ => [Convert<int>("eos_token_id", node)],
            };
        }
    }

    /// <summary><c>tie_word_embeddings</c> (default true).</summary>
    public bool TieWordEmbeddings { get => GetOrDefault("tie_word_embeddings", true); set => Set("tie_word_embeddings", value); }

    /// <summary><c>output_hidden_states</c> (default false).</summary>
    public bool OutputHiddenStates { get => GetOrDefault("output_hidden_states", false); set => Set("output_hidden_states", value); }

    /// <summary><c>output_attentions</c> (default false).</summary>
    public bool OutputAttentions { get => GetOrDefault("output_attentions", false); set => Set("output_attentions", value); }

    /// <summary><c>torch_dtype</c>, e.g. "float32".</summary>
    public string? TorchDtype { get => Get<string>("torch_dtype"); set => Set("torch_dtype", value); }

    /// <summary><c>transformers_version</c> of the library that saved the file.</summary>
    public string? TransformersVersion { get => Get<string>("transformers_version"); set => Set("transformers_version", value); }

    /// <summary>Whether the file (or a later Set) has <paramref name="key"/>; class defaults do not count.</summary>
    public bool ContainsKey(string key) => Raw.ContainsKey(key);

    /// <summary>The value of <paramref name="key"/> from the file, else the class default, else default(T).
    /// Use a nullable T (int?) to tell "missing" from 0.</summary>
    /// <exception cref="ConfigException">the JSON value is not a <typeparamref name="T"/>: names the key, expected and found.</exception>
    public T? Get<T>(string key) => TryFind(key, out var node) ? Convert<T>(key, node) : default;

    /// <summary>The value of <paramref name="key"/> from the file, else the class default, else
    /// <paramref name="defaultValue"/> (also when the value is JSON null).</summary>
    public T GetOrDefault<T>(string key, T defaultValue) =>
        TryFind(key, out var node) && node is not null ? Convert<T>(key, node)! : defaultValue;

    /// <summary>Sets <paramref name="key"/> (null writes JSON null, as Hugging Face writes None). Doubles keep a
    /// fraction or exponent so they are saved as floats, e.g. 2.0 rather than 2.</summary>
    public void Set<T>(string key, T value) => Raw[key] = ToNode(value);

    /// <summary>Removes <paramref name="key"/> from the file's keys (its class default, if any, applies again).</summary>
    public bool Remove(string key) => Raw.Remove(key);

    /// <summary>The most labels accepted (2^20): beyond any real classifier, short of generating gigabytes of label names.</summary>
    public const int MaxLabels = 1 << 20;

    /// <summary>
    /// Checks ranges (sizes no real model has, counts that must be positive, ids inside the vocabulary) and then reads
    /// every typed member once, so a key of the wrong type or an impossible value fails at load time with its name and value.
    /// </summary>
    public void Validate()
    {
        ValidateRanges();
        foreach (var p in GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            // EosTokenId may legitimately be a list (checked through EosTokenIds instead). Label maps absent from the
            // file are generated from num_labels: nothing to check, and not worth building here.
            if (p.GetIndexParameters().Length > 0 || p.GetMethod is null || p.Name is nameof(Raw) or nameof(Source) or nameof(EosTokenId)
                || (p.Name is nameof(Id2Label) && Raw["id2label"] is null) || (p.Name is nameof(Label2Id) && Raw["label2id"] is null))
            {
                continue;
            }
            try
            {
                p.GetValue(this);
            }
            catch (TargetInvocationException e) when (e.InnerException is ConfigException)
            {
                ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            }
        }
    }

    /// <summary>Range checks of this class's keys; architecture configs add theirs (call the base).</summary>
    protected virtual void ValidateRanges()
    {
        // id2label's size is bounded by the file; num_labels alone would generate that many names
        if (Raw["id2label"] is null)
        {
            CheckRange("num_labels", GetOrDefault<long>("num_labels", 2), 0, MaxLabels);
        }
    }

    /// <summary>About how many parameters the model described has (null: not known for this family). Model loading
    /// compares it with the checkpoint's headers before building anything, so that sizes the checkpoint cannot back (a
    /// thousand layers over a two-layer checkpoint, a vocabulary times a width of terabytes) are refused, not allocated.</summary>
    protected internal virtual double? EstimatedParameters => null;

    /// <summary>The keys <see cref="EstimatedParameters"/> reads, most telling first (named in the refusal).</summary>
    protected internal virtual IReadOnlyList<string> SizeKeys => [];

    /// <summary>Parameters of the classification head the labels size (num_labels times the width it reads, plus a bias
    /// each), apart from <see cref="EstimatedParameters"/>: unlike the body it is an exact count, and it may be missing
    /// from a checkpoint that is fine-tuned from (a fresh head).</summary>
    protected internal virtual double HeadParameters => 0;

    /// <summary>A head of <see cref="NumLabels"/> outputs reading <paramref name="width"/> features.</summary>
    protected double LabelHead(double width) => (double)NumLabels * (width + 1);

    /// <summary>Fails unless every value of the integer list <paramref name="key"/> is in [min, max] and the list has
    /// <paramref name="minCount"/> to <paramref name="maxCount"/> values; returns the list.</summary>
    protected List<long> CheckList(string key, long min, long max, int minCount, int maxCount)
    {
        var values = Get<List<long>>(key) ?? throw new ConfigException(Source, key, "expected a list of integers, found null.");
        if (values.Count < minCount || values.Count > maxCount)
        {
            throw new ConfigException(Source, key, $"expected {minCount} to {maxCount} values, found {values.Count}.");
        }
        for (int i = 0; i < values.Count; i++)
        {
            CheckRange($"{key}[{i}]", values[i], min, max);
        }
        return values;
    }

    /// <summary>Fails with the key, the value found and the range expected unless <paramref name="min"/> &lt;= value &lt;= <paramref name="max"/>.</summary>
    protected void CheckRange(string key, long value, long min, long max, string? why = null)
    {
        if (value < min || value > max)
        {
            throw new ConfigException(Source, key, $"expected an integer from {min} to {max}{why}, found {value}.");
        }
    }

    /// <summary>Fails unless <paramref name="value"/> is a probability (dropout rates).</summary>
    protected void CheckProbability(string key, double? value)
    {
        if (value is double v && !(v >= 0 && v <= 1))
        {
            throw new ConfigException(Source, key, $"expected a probability from 0 to 1, found {v.ToString(CultureInfo.InvariantCulture)}.");
        }
    }

    /// <summary>Fails unless the activation key holds a name (null or "" would only fail when the model is built).</summary>
    protected void CheckActivation(string key)
    {
        TryFind(key, out var node);
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.String || string.IsNullOrWhiteSpace(v.GetValue<string>()))
        {
            throw new ConfigException(Source, key, $"expected the name of an activation function (e.g. \"gelu\"), found {ConfigJson.Describe(node)}.");
        }
    }

    /// <summary>config.json text as Hugging Face writes it: <c>json.dumps(d, indent=2, sort_keys=True) + "\n"</c>.</summary>
    public string ToJsonString() => HfJson.Serialize(Raw);

    /// <summary>Writes <c>config.json</c> into <paramref name="folder"/> (created if needed) through a temp file.</summary>
    /// <returns>The path written.</returns>
    public string SavePretrained(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var path = Path.GetFullPath(Path.Combine(folder, ConfigFileName));
        AtomicFile.WriteAllBytes(path, new UTF8Encoding(false).GetBytes(ToJsonString()));
        return path;
    }

    private bool TryFind(string key, out JsonNode? node)
    {
        if (Raw.TryGetPropertyValue(key, out node))
        {
            return true;
        }
        if (_defaults is not null && _defaults.TryGetPropertyValue(key, out node))
        {
            return true;
        }
        node = null;
        return false;
    }

    private JsonObject ObjectAt(string key) =>
        Raw[key] as JsonObject ?? throw new ConfigException(Source, key, $"expected an object, found {ConfigJson.Describe(Raw[key])}.");

    private T? Convert<T>(string key, JsonNode? node)
    {
        if (node is null)
        {
            return default(T) is null ? default : throw Wrong<T>(key, node);
        }
        try
        {
            return node.Deserialize<T>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NotSupportedException)
        {
            throw Wrong<T>(key, node, e);
        }
    }

    private ConfigException Wrong<T>(string key, JsonNode? node, Exception? inner = null) =>
        new(Source, key, $"expected {Expected(typeof(T))}, found {ConfigJson.Describe(node)}.", inner);

    private static string Expected(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(uint) || t == typeof(ulong))
        {
            return "an integer";
        }
        if (t == typeof(double) || t == typeof(float) || t == typeof(decimal))
        {
            return "a number";
        }
        if (t == typeof(string))
        {
            return "a string";
        }
        if (t == typeof(bool))
        {
            return "a boolean";
        }
        if (t.IsGenericType && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>)))
        {
            return "an object";
        }
        if (t.IsArray || t.GetInterfaces().Contains(typeof(System.Collections.IEnumerable)))
        {
            return "an array";
        }
        return $"a {t.Name}";
    }

    private static JsonNode? ToNode<T>(T value) => value switch
    {
        null => null,
        double d => HfJson.Float(d),
        // Via the float's own shortest text, so 0.1f saves as 0.1 rather than 0.10000000149011612.
        float f => HfJson.Float(double.Parse(f.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)),
        JsonNode n => n.Parent is null ? n : n.DeepClone(),
        IEnumerable<double> ds => new JsonArray(ds.Select(d => (JsonNode?)HfJson.Float(d)).ToArray()),
        _ => JsonSerializer.SerializeToNode(value),
    };

    private static Dictionary<int, string> Generated(int count) =>
        Enumerable.Range(0, count).ToDictionary(i => i, i => $"LABEL_{i}");
}
