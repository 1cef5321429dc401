using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.Transformers.Tokenizers;

// Our encode throughput on the benchmark corpus, same settings as rust_bench.js: one EncodeBatch over all texts,
// special tokens added, no truncation or padding; single-threaded (maxDegreeOfParallelism 1) and on all cores.
if (args.Length < 2) { Console.Error.WriteLine("usage: TokenizerBench <tokenizer folder> <corpus.json> [rounds]"); return 2; }
var tok = AutoTokenizer.FromPretrained(args[0]);
tok.Truncation = null;
tok.Padding = null;
var texts = JsonSerializer.Deserialize<string[]>(File.ReadAllText(args[1]))!;
int rounds = args.Length > 2 ? int.Parse(args[2]) : 3;
long bytes = texts.Sum(t => (long)System.Text.Encoding.UTF8.GetByteCount(t));
var results = new Dictionary<string, object>();
foreach (var (mode, dop) in new[] { ("single", 1), ("batch", -1) })
{
    tok.EncodeBatch(texts.Take(2000).ToArray(), addSpecialTokens: true, maxDegreeOfParallelism: dop); // warm-up (JIT)
    double best = double.MaxValue;
    long tokens = 0;
    for (int r = 0; r < rounds; r++)
    {
        var sw = Stopwatch.StartNew();
        var encs = tok.EncodeBatch(texts, addSpecialTokens: true, maxDegreeOfParallelism: dop);
        sw.Stop();
        best = Math.Min(best, sw.Elapsed.TotalSeconds);
        tokens = encs.Sum(e => (long)e.Length);
    }
    results[mode] = new { seconds = best, mbPerSec = bytes / 1048576.0 / best, tokensPerSec = tokens / best, tokens, texts = texts.Length };
}
Console.WriteLine(JsonSerializer.Serialize(results));
return 0;
