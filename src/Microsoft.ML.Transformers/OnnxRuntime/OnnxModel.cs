using System.Text.Json;

namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>
/// A Hugging Face model exported to ONNX, opened from its folder: config.json plus <c>onnx/model.onnx</c>
/// (Transformers.js layout) or <c>model.onnx</c> (Optimum layout). Runs batches of token ids and feeds the graph
/// only the inputs it declares, as Transformers.js does.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    public const string InputIds = "input_ids";
    public const string AttentionMask = "attention_mask";
    public const string TokenTypeIds = "token_type_ids";

    private OnnxModel(string folder, string modelPath, JsonElement config, OnnxSession session)
    {
        Folder = folder;
        ModelPath = modelPath;
        Config = config;
        Session = session;
        ModelType = config.TryGetProperty("model_type", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
    }

    public string Folder { get; }
    public string ModelPath { get; }

    /// <summary>config.json as read (a typed config replaces this later).</summary>
    public JsonElement Config { get; }

    /// <summary>config.json's <c>model_type</c>, e.g. "bert".</summary>
    public string? ModelType { get; }

    public OnnxSession Session { get; }

    /// <summary>Names of the graph's outputs, e.g. "logits" or "start_logits", "end_logits", or "last_hidden_state".</summary>
    public IReadOnlyList<string> OutputNames => Session.Outputs.Select(o => o.Name).ToArray();

    /// <summary>Opens a model folder; see <see cref="OnnxModelOptions"/> for which file is loaded.</summary>
    public static OnnxModel FromPretrained(string folder, OnnxModelOptions? options = null)
    {
        options ??= new OnnxModelOptions();
        string dir = Path.GetFullPath(folder);
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"Model folder '{dir}' was not found.");
        JsonElement config = ReadConfig(Path.Combine(dir, "config.json"));
        string modelPath = FindModelFile(dir, options);
        OnnxSession session = OnnxSession.Open(modelPath, options.Session);
        return new OnnxModel(dir, modelPath, config, session);
    }

    /// <summary>
    /// Runs a batch of [batch, sequence] int64 arrays. <paramref name="tokenTypeIds"/> is fed only if the graph takes
    /// it (zeros when the graph takes it and none is given); likewise the attention mask is dropped when the graph has none.
    /// </summary>
    public NamedTensors Run(long[,] inputIds, long[,] attentionMask, long[,]? tokenTypeIds = null, IReadOnlyList<string>? outputNames = null)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        long[] shape = [inputIds.GetLength(0), inputIds.GetLength(1)];
        CheckSameShape(AttentionMask, attentionMask, shape);
        if (tokenTypeIds is not null) CheckSameShape(TokenTypeIds, tokenTypeIds, shape);
        return RunCore(shape, OnnxInput.FromArray(InputIds, inputIds, shape), OnnxInput.FromArray(AttentionMask, attentionMask, shape),
            tokenTypeIds is null ? null : OnnxInput.FromArray(TokenTypeIds, tokenTypeIds, shape), outputNames);
    }

    /// <summary>The same over flat row-major buffers of <paramref name="batchSize"/> x <paramref name="sequenceLength"/>.</summary>
    public NamedTensors Run(ReadOnlyMemory<long> inputIds, ReadOnlyMemory<long> attentionMask, ReadOnlyMemory<long>? tokenTypeIds,
        int batchSize, int sequenceLength, IReadOnlyList<string>? outputNames = null)
    {
        long[] shape = [batchSize, sequenceLength];
        return RunCore(shape, OnnxInput.Create(InputIds, inputIds, shape), OnnxInput.Create(AttentionMask, attentionMask, shape),
            tokenTypeIds is { } t ? OnnxInput.Create(TokenTypeIds, t, shape) : null, outputNames);
    }

    /// <summary>The same over flat arrays; a null <paramref name="tokenTypeIds"/> means none (an array would otherwise
    /// convert implicitly to an empty, not absent, ReadOnlyMemory).</summary>
    public NamedTensors Run(long[] inputIds, long[] attentionMask, long[]? tokenTypeIds, int batchSize, int sequenceLength,
        IReadOnlyList<string>? outputNames = null) =>
        Run((ReadOnlyMemory<long>)inputIds, attentionMask, tokenTypeIds is null ? (ReadOnlyMemory<long>?)null : new ReadOnlyMemory<long>(tokenTypeIds),
            batchSize, sequenceLength, outputNames);

    public void Dispose() => Session.Dispose();

    private NamedTensors RunCore(long[] shape, OnnxInput ids, OnnxInput mask, OnnxInput? types, IReadOnlyList<string>? outputNames)
    {
        var feed = new List<OnnxInput>();
        foreach (OnnxNodeInfo input in Session.Inputs)
        {
            feed.Add(input.Name switch
            {
                InputIds => ids,
                AttentionMask => mask,
                // BERT's default when no segments are given: every token in segment 0 (as Transformers.js does).
                TokenTypeIds => types ?? OnnxInput.Create<long>(TokenTypeIds, new long[shape[0] * shape[1]], shape),
                _ => throw new NotSupportedException(
                    $"ONNX model '{ModelPath}' takes input '{input}', which OnnxModel cannot fill (it fills " +
                    $"{InputIds}, {AttentionMask}, {TokenTypeIds}); run it through {nameof(Session)}.{nameof(OnnxSession.Run)}."),
            });
        }
        return new NamedTensors(Session.RunToTensors(feed, outputNames));
    }

    private static void CheckSameShape(string name, long[,] array, long[] shape)
    {
        if (array.GetLength(0) != shape[0] || array.GetLength(1) != shape[1])
            throw new ArgumentException(
                $"{name} has shape [{array.GetLength(0)}, {array.GetLength(1)}] but {InputIds} has [{shape[0]}, {shape[1]}].", name);
    }

    private static JsonElement ReadConfig(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Model config '{path}' was not found; a model folder needs config.json.", path);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"Model config '{path}': expected a JSON object at the top level, found {doc.RootElement.ValueKind}.");
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Model config '{path}' is not valid JSON: {e.Message}", e);
        }
    }

    private static string FindModelFile(string dir, OnnxModelOptions options)
    {
        string name = options.ModelFileName();
        if (!name.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) name += ".onnx";
        string[] candidates = Path.GetDirectoryName(name) is { Length: > 0 }
            ? [Path.Combine(dir, name)]
            : [Path.Combine(dir, "onnx", name), Path.Combine(dir, name)];
        foreach (string c in candidates)
            if (File.Exists(c)) return c;
        string[] present = Directory.Exists(Path.Combine(dir, "onnx"))
            ? Directory.GetFiles(Path.Combine(dir, "onnx"), "*.onnx").Concat(Directory.GetFiles(dir, "*.onnx")).ToArray()
            : Directory.GetFiles(dir, "*.onnx");
        throw new FileNotFoundException(
            $"ONNX model '{name}' was not found in '{dir}'. Looked for: {string.Join(", ", candidates)}. " +
            $"ONNX files there: {(present.Length == 0 ? "none" : string.Join(", ", present.Select(p => Path.GetRelativePath(dir, p))))}.",
            candidates[0]);
    }
}
