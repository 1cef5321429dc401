using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Configuration;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>Saving a pipeline to a folder and reading which pipeline a folder holds (pipeline.json).</summary>
internal static class PipelineFolder
{
    public const string FileName = "pipeline.json";

    // Files a model folder carries; whichever exist are copied.
    internal static readonly string[] ModelFiles =
    [
        PretrainedConfig.ConfigFileName, "model.safetensors", "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json",
        "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt", "onnx/model.onnx", "onnx/model.onnx_data", "model.onnx",
        "preprocessor_config.json",
    ];

    public sealed record Saved(string Task, PipelineParameters Parameters);

    public static void Save(Pipeline pipeline, string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var target = Path.GetFullPath(folder);
        AtomicFolder.Recover(target); // what a killed save left does not count as content
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            throw new IOException($"Cannot save the pipeline to '{target}': the folder exists and is not empty.");
        // Everything is staged beside the folder and renamed into place at the end: a pipeline folder on disk is complete.
        using var save = AtomicFolder.Begin(target);
        foreach (var f in ModelFiles)
        {
            var src = Path.Combine(pipeline.ModelFolder, f);
            if (!File.Exists(src)) continue;
            var dst = save.PathOf(f);
            Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
            File.Copy(src, dst);
        }
        var json = new JsonObject
        {
            ["task"] = pipeline.Task,
            ["pipeline_class"] = pipeline.GetType().FullName,
            ["parameters"] = ParametersToJson(pipeline.Parameters),
        };
        File.WriteAllText(save.PathOf(FileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        save.Commit();
    }

    public static Saved Read(string folder)
    {
        AtomicFolder.Recover(folder);
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"'{path}' not found: Pipelines.Load reads folders written by Pipeline.SavePretrained.", path);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new FormatException($"'{path}' is not valid JSON: {e.Message}", e); }
        var task = (root?["task"] as JsonValue)?.TryGetValue(out string? t) == true ? t : null;
        if (string.IsNullOrWhiteSpace(task)) throw new FormatException($"'{path}': key \"task\" must be a non-empty string.");
        var parameters = new PipelineParameters();
        if (root!["parameters"] is JsonObject ps)
            foreach (var (k, v) in ps) parameters[k] = FromJson(v, path, k);
        return new Saved(task, parameters);
    }

    internal static JsonObject ParametersToJson(PipelineParameters parameters)
    {
        var o = new JsonObject();
        foreach (var (k, v) in parameters)
        {
            o[k] = v switch
            {
                null => null,
                string s => JsonValue.Create(s),
                bool b => JsonValue.Create(b),
                int i => JsonValue.Create(i),
                long l => JsonValue.Create(l),
                double d => JsonValue.Create(d),
                float f => JsonValue.Create(f),
                Enum e => JsonValue.Create(e.ToString()),
                IEnumerable<string> list => new JsonArray(list.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
                _ => throw new NotSupportedException($"Pipeline parameter '{k}' ({v.GetType().Name}) cannot be saved to {FileName}."),
            };
        }
        return o;
    }

    private static object? FromJson(JsonNode? v, string path, string key) => v switch
    {
        null => null,
        JsonArray a => a.Select(x => x?.GetValue<string>() ?? "").ToArray(),
        JsonValue j when j.TryGetValue(out bool b) => b,
        JsonValue j when j.TryGetValue(out string? s) => s,
        JsonValue j when j.TryGetValue(out long l) => l is >= int.MinValue and <= int.MaxValue ? (int)l : l,
        JsonValue j when j.TryGetValue(out double d) => d,
        _ => throw new FormatException($"'{path}': parameters.{key} has an unsupported value {v.ToJsonString()}."),
    };
}
