using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>
/// Model folders for the pipeline tests: the committed tiny models, plus the derived ones of
/// test/fixtures/pipelines/derived-models.json (a copied folder with new id2label/label2id), built once per run in a temp folder
/// exactly as make_goldens.mjs builds them; and the Transformers.js goldens.
/// </summary>
internal static class PipelineFixtures
{
    private static readonly Lazy<string> s_derivedRoot = new(Materialize);
    private static readonly Dictionary<string, JsonArray> s_goldens = new();

    public static string Model(string name)
    {
        var committed = TestPaths.Fixture("models", name);
        return Directory.Exists(committed) ? committed : Path.Combine(s_derivedRoot.Value, name);
    }

    public static Pipeline Create(string task, string model, Engine engine, PipelineParameters? parameters = null) =>
        global::Microsoft.ML.Transformers.Pipelines.Pipelines.Create(task, Model(model), new PipelineOptions { Engine = engine, Parameters = parameters });

    public static JsonArray Cases(string task)
    {
        lock (s_goldens)
        {
            if (!s_goldens.TryGetValue(task, out var cases))
            {
                var root = JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("pipelines", "goldens", task + ".json")))!;
                s_goldens[task] = cases = root["cases"]!.AsArray();
            }
            return cases;
        }
    }

    private static string Materialize()
    {
        var root = Path.Combine(Path.GetTempPath(), $"mlt-pipeline-models-{Environment.ProcessId}");
        var spec = JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("pipelines", "derived-models.json")))!.AsObject();
        foreach (var (name, node) in spec)
        {
            if (name.StartsWith('_')) continue;
            var dir = Path.Combine(root, name);
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            CopyDirectory(TestPaths.Fixture("models", (string)node!["from"]!), dir);
            var labels = node["labels"]!.AsArray().Select(l => (string)l!).ToArray();
            var cfgPath = Path.Combine(dir, "config.json");
            var cfg = JsonNode.Parse(File.ReadAllText(cfgPath))!.AsObject();
            cfg["id2label"] = new JsonObject(labels.Select((l, i) => KeyValuePair.Create(i.ToString(), (JsonNode?)l)));
            cfg["label2id"] = new JsonObject(labels.Select((l, i) => KeyValuePair.Create(l, (JsonNode?)i)));
            File.WriteAllText(cfgPath, cfg.ToJsonString());
        }
        return root;
    }

    public static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.GetDirectories(from)) CopyDirectory(d, Path.Combine(to, Path.GetFileName(d)));
    }

    /// <summary>Parameters from a golden case's "options" object (arrays become string arrays).</summary>
    public static PipelineParameters Parameters(JsonNode? options, params string[] skip)
    {
        var p = new PipelineParameters();
        if (options is not JsonObject o) return p;
        foreach (var (k, v) in o)
        {
            if (skip.Contains(k)) continue;
            p[k] = v switch
            {
                null => null,
                JsonArray a => a.Select(x => (string)x!).ToArray(),
                JsonValue j when j.TryGetValue(out bool b) => b,
                JsonValue j when j.TryGetValue(out int i) => i,
                JsonValue j when j.TryGetValue(out string? s) => s,
                _ => throw new NotSupportedException(v.ToJsonString()),
            };
        }
        return p;
    }

    public static void Close(double expected, double actual, string what, double tolerance = 1e-4)
    {
        if (Math.Abs(expected - actual) > tolerance)
            Assert.Fail($"{what}: expected {expected:R}, got {actual:R} (|diff| {Math.Abs(expected - actual):E2} > {tolerance})");
    }
}
