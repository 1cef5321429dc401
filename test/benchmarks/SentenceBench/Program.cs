// all-MiniLM-L6-v2 sentence embedding and search, our side (run.sh runs Transformers.js and numpy beside it in one run).
//   SentenceBench texts  --out FILE [--count 10000]                 fortunes of 20-500 characters, evenly spaced over the
//                                                                   whole corpus (every language), one per line
//   SentenceBench embed  --model DIR --texts FILE --engine onnx|libtorch [--batch 32] [--count N] [--threads 2] [--probe FILE]
//                        SentenceTransformer.Encode (mean pooling + normalize, the folder's modules) over the first N texts
//                        after a warm-up of 64; prints {"batch","texts","ms","sentences_per_s"}; --probe writes the
//                        embeddings of the first 32 texts (float32) to compare with Transformers.js
//   SentenceBench search --store FILE [--count 100000] [--queries 50] [--k 10]
//                        writes (once) a store of N random unit rows of 384 (seed 14), then times EmbeddingStore.Search
//                        for each query; prints median / p90 / min ms and the hits of query 0
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.SentenceTransformers;

var opts = new Dictionary<string, string>();
for (int i = 1; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
int Int(string key, int fallback) => opts.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
string Req(string key) => opts.GetValueOrDefault(key) ?? throw new ArgumentException($"--{key} is required");

switch (args.FirstOrDefault())
{
    case "texts":
    {
        var all = SemanticSearch.Fortunes.Read().Where(t => t.Length <= 500).ToList();
        int count = Math.Min(Int("count", 10000), all.Count);
        var picked = Enumerable.Range(0, count).Select(i => all[(int)((long)i * all.Count / count)]);
        File.WriteAllLines(Req("out"), picked);
        Console.Error.WriteLine($"{count} of {all.Count} fortunes (20-500 characters) -> {opts["out"]}");
        break;
    }
    case "embed":
    {
        var texts = File.ReadAllLines(Req("texts")).Where(l => l.Length > 0).ToList();
        int batch = Int("batch", 32), count = Math.Min(Int("count", texts.Count), texts.Count), threads = Int("threads", 2);
        var engine = Req("engine") == "libtorch" ? Engine.LibTorch : Engine.OnnxRuntime;
        if (engine == Engine.LibTorch) Microsoft.ML.Transformers.Engines.TorchThreads.SetIntraOpThreads(threads);
        // the session settings Transformers.js gets in bench_minilm_tjs.mjs
        using var st = SentenceTransformer.FromPretrained(Req("model"), new SentenceTransformerOptions
        {
            Engine = engine,
            Onnx = new OnnxModelOptions { Session = new OnnxSessionOptions { IntraOpThreads = threads, InterOpThreads = 1 } },
        });
        st.Encode(texts.Take(64).ToList(), batch);
        var run = texts.Take(count).ToList();
        var sw = Stopwatch.StartNew();
        var e = st.Encode(run, batch);
        sw.Stop();
        if (opts.TryGetValue("probe", out var probe))
        {
            using var f = File.Create(probe);
            for (int i = 0; i < Math.Min(32, count); i++) f.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(SentenceTransformer.Row(e, i)));
        }
        Console.WriteLine(JsonSerializer.Serialize(new { side = $"ours {Req("engine")}", batch, texts = count, ms = Math.Round(sw.Elapsed.TotalMilliseconds, 1),
            sentences_per_s = Math.Round(count / sw.Elapsed.TotalSeconds, 1) }));
        break;
    }
    case "search":
    {
        string path = Req("store");
        int count = Int("count", 100000), queries = Int("queries", 50), k = Int("k", 10);
        const int Dim = 384;
        var rng = new Random(14);
        float[] Unit()
        {
            var v = new float[Dim];
            double n = 0;
            for (int j = 0; j < Dim; j++) { v[j] = (float)(rng.NextDouble() * 2 - 1); n += v[j] * v[j]; }
            for (int j = 0; j < Dim; j++) v[j] = (float)(v[j] / Math.Sqrt(n));
            return v;
        }
        if (!File.Exists(path) || EmbeddingFile.ReadInfo(path).Count != count)
            EmbeddingFile.Write(path, Enumerable.Range(0, count).Select(_ => Unit()), Dim, "random unit rows, seed 14", normalized: true);
        var qs = Enumerable.Range(0, queries).Select(_ => Unit()).ToList();
        File.WriteAllBytes(path + ".queries", qs.SelectMany(q => q).SelectMany(BitConverter.GetBytes).ToArray());
        using var store = EmbeddingStore.Open(path);
        store.Search(qs[0], k); // pages in
        var times = new List<double>();
        SearchHit[] first = [];
        foreach (var q in qs)
        {
            var sw = Stopwatch.StartNew();
            var hits = store.Search(q, k);
            times.Add(sw.Elapsed.TotalMilliseconds);
            if (first.Length == 0) first = hits;
        }
        times.Sort();
        Console.WriteLine(JsonSerializer.Serialize(new { side = "ours EmbeddingStore.Search", rows = count, dim = Dim, k, queries,
            median_ms = Math.Round(times[times.Count / 2], 2), p90_ms = Math.Round(times[(int)(times.Count * 0.9)], 2), min_ms = Math.Round(times[0], 2),
            top_of_query0 = first.Select(h => h.Index) }));
        break;
    }
    default:
        Console.Error.WriteLine("usage: SentenceBench texts|embed|search ... (see the top of Program.cs)");
        return 2;
}
return 0;
