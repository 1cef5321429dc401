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

    private static readonly AsyncLocal<Func<string, string, string>?> s_redirect = new();

    public static string Model(string name)
    {
        var committed = TestPaths.Fixture("models", name);
        var folder = Directory.Exists(committed) ? committed : Path.Combine(s_derivedRoot.Value, name);
        return s_redirect.Value is { } redirect ? redirect(name, folder) : folder;
    }

    /// <summary>Until disposed, <see cref="Model"/> (in this async flow) returns <paramref name="redirect"/>(name, folder)
    /// instead of the folder: the golden tests then run on other folders of the same models (e.g. our ONNX exports).</summary>
    public static IDisposable RedirectModels(Func<string, string, string> redirect)
    {
        s_redirect.Value = redirect;
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        public void Dispose() => s_redirect.Value = null;
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

    /// <summary>Builds the derived folders once per content: the folder name is a hash of the spec and of every source file,
    /// so runs reuse it (nothing piles up in the temp folder) and a changed fixture gets a fresh copy. Built in a private
    /// folder and moved in whole, so concurrent test runs never see a half-built one.</summary>
    private static string Materialize()
    {
        var specText = File.ReadAllText(TestPaths.Fixture("pipelines", "derived-models.json"));
        var spec = JsonNode.Parse(specText)!.AsObject();
        var derived = spec.Where(kv => !kv.Key.StartsWith('_')).ToList();
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes(specText));
        foreach (var from in derived.Select(kv => (string)kv.Value!["from"]!).Distinct().Order())
            foreach (var f in Directory.GetFiles(TestPaths.Fixture("models", from), "*", SearchOption.AllDirectories).Order())
                sha.AppendData(File.ReadAllBytes(f));
        var root = Path.Combine(Path.GetTempPath(), "mlt-pipeline-models-" + Convert.ToHexString(sha.GetHashAndReset())[..16]);
        if (Directory.Exists(root)) return root;
        var building = root + ".tmp-" + Guid.NewGuid().ToString("N");
        foreach (var (name, node) in derived)
        {
            var dir = Path.Combine(building, name);
            CopyDirectory(TestPaths.Fixture("models", (string)node!["from"]!), dir);
            var labels = node["labels"]!.AsArray().Select(l => (string)l!).ToArray();
            var cfgPath = Path.Combine(dir, "config.json");
            var cfg = JsonNode.Parse(File.ReadAllText(cfgPath))!.AsObject();
            cfg["id2label"] = new JsonObject(labels.Select((l, i) => KeyValuePair.Create(i.ToString(), (JsonNode?)l)));
            cfg["label2id"] = new JsonObject(labels.Select((l, i) => KeyValuePair.Create(l, (JsonNode?)i)));
            File.WriteAllText(cfgPath, cfg.ToJsonString());
        }
        try { Directory.Move(building, root); }
        catch (IOException) when (Directory.Exists(root)) { Directory.Delete(building, true); }   // another run won the race
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

    /// <summary>
    /// Runs <paramref name="check"/> on every golden case of <paramref name="task"/> with one pipeline per model folder
    /// (created on first use, disposed at the end); returns how many cases ran. <paramref name="goldens"/> names the golden
    /// file when it is not the task's.
    /// </summary>
    public static int ForEachCase<TPipeline>(string task, Engine engine, Action<TPipeline, JsonNode, string> check, string? goldens = null)
        where TPipeline : Pipeline
    {
        var pipes = new Dictionary<string, TPipeline>();
        int count = 0;
        try
        {
            foreach (var c in Cases(goldens ?? task))
            {
                string model = (string)c!["model"]!;
                if (!pipes.TryGetValue(model, out var pipe))
                    pipes[model] = pipe = (TPipeline)Create(task, model, engine);
                check(pipe, c, model);
                count++;
            }
        }
        finally { foreach (var p in pipes.Values) p.Dispose(); }
        return count;
    }

    /// <summary>A case's input as a list: the array of a batched case, or the single value.</summary>
    public static List<string> Texts(JsonNode input) =>
        input is JsonArray a ? a.Select(t => (string)t!).ToList() : [(string)input!];

    /// <summary>A case's expected output per input: the array of a batched case, or the single output.</summary>
    public static List<JsonNode> PerInput(JsonNode input, JsonNode output) =>
        input is JsonArray ? output.AsArray().Select(o => o!).ToList() : [output];

    public static void Close(double expected, double actual, string what, double tolerance = 1e-4)
    {
        if (Math.Abs(expected - actual) > tolerance)
            Assert.Fail($"{what}: expected {expected:R}, got {actual:R} (|diff| {Math.Abs(expected - actual):E2} > {tolerance})");
    }
}
