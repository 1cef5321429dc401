using System.Diagnostics;

using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.SafeTensors;
using Microsoft.ML.Transformers.Tokenizers;

namespace Microsoft.ML.Transformers.Tests.Fuzz;

/// <summary>
/// Seeded mutations of safetensors files (and sharded indexes), config.json and tokenizer.json (issue 13, item 21): every
/// outcome must be a successful load (then the result is used: tensors read, tokenizers encode and decode) or one of the
/// library's own exceptions, each case within a time bound. ONNX files (tiny exports) are opened and run through the ONNX
/// Runtime engine: ONNX Runtime's own errors must come back as <see cref="OnnxModelException"/> naming the file.
/// The counts suit CI (the whole class takes well under a minute); MLT_FUZZ_SCALE=N multiplies them for a longer run,
/// MLT_FUZZ_SEED changes the seed. A failure names the seed and case, and the mutated input is written to artifacts/fuzz.
/// </summary>
[TestClass]
public class ParserFuzzTests
{
    public TestContext TestContext { get; set; } = null!;

    private static int Scale => int.TryParse(Environment.GetEnvironmentVariable("MLT_FUZZ_SCALE"), out int s) && s > 0 ? s : 1;
    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("MLT_FUZZ_SEED"), out int s) ? s : 20260113;
    // generous for a loaded machine (compiling a new regex takes up to a second); a hang or runaway loop still fails
    private static readonly TimeSpan PerCase = TimeSpan.FromSeconds(10);

    private sealed record Case(string Input, Action Run);

    /// <summary>Runs <paramref name="count"/> cases; each must finish within <see cref="PerCase"/> and end in success or an accepted exception.</summary>
    private void Fuzz(string name, int count, Func<Random, Case> make, params Type[] accepted)
    {
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<string>();
        var total = Stopwatch.StartNew();
        TimeSpan slowest = TimeSpan.Zero;
        // regexes built by fuzzed files get a short timeout (a mutation can make a catastrophic pattern)
        RegexSplitPattern.MatchTimeoutOverride.Value = TimeSpan.FromMilliseconds(100);
        try
        {
            for (int i = 0; i < count; i++)
            {
                // (HashCode and string.GetHashCode are randomized per process: mix by hand so a seed and case reproduce)
                int nameHash = name.Aggregate(17, (h, ch) => unchecked(h * 31 + ch));
                var random = new Random(unchecked(Seed * 1_000_003 + nameHash * 7919 + i));
                Case c;
                try { c = make(random); }
                catch (Exception e) { failures.Add($"case {i}: the mutator failed: {e}"); continue; }
                var sw = Stopwatch.StartNew();
                var task = Task.Run(c.Run);
                bool done;
                try { done = task.Wait(PerCase); }
                catch (AggregateException) { done = true; }
                sw.Stop();
                if (sw.Elapsed > slowest) slowest = sw.Elapsed;
                string outcome;
                if (!done) outcome = "timeout";
                else if (task.Exception?.InnerException is { } e)
                    outcome = accepted.Any(t => t.IsInstanceOfType(e)) ? e.GetType().Name : "UNEXPECTED " + e.GetType().FullName;
                else outcome = "loaded";
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                if (Environment.GetEnvironmentVariable("MLT_FUZZ_VERBOSE") == "1" && task.Exception?.InnerException is { } shown)
                    Console.WriteLine($"  {name} {i}: {shown.GetType().Name}: {shown.Message[..Math.Min(200, shown.Message.Length)]}");
                if (outcome == "timeout" || outcome.StartsWith("UNEXPECTED", StringComparison.Ordinal))
                {
                    string file = Save(name, i, c.Input);
                    string detail = task.Exception?.InnerException is { } ex ? $"{ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}" : "";
                    if (failures.Count < 10) failures.Add($"seed {Seed} case {i} ({outcome}, input in {file}): {detail}");
                    if (outcome == "timeout") break; // the runaway case keeps its thread; stop here
                }
            }
        }
        finally { RegexSplitPattern.MatchTimeoutOverride.Value = null; }
        string summary = $"{name}: {count} cases in {total.Elapsed.TotalSeconds:F1} s (slowest {slowest.TotalMilliseconds:F0} ms): " +
            string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"));
        TestContext.WriteLine(summary);
        Console.WriteLine(summary);
        Assert.IsEmpty(failures, summary + "\n" + string.Join("\n\n", failures));
    }

    private static string Save(string name, int index, string input)
    {
        string dir = Path.Combine(TestPaths.RepoRoot, "artifacts", "fuzz");
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, $"{name}-{Seed}-{index}.txt");
        File.WriteAllText(file, input);
        return file;
    }

    private static string Show(byte[] bytes) => Convert.ToBase64String(bytes);

    // ---- safetensors ----

    /// <summary>Small files of several dtypes and shapes (written by the library's writer) and a real tiny checkpoint.</summary>
    private static List<byte[]> SafetensorsCorpus()
    {
        var list = new List<byte[]> { File.ReadAllBytes(TestPaths.Fixture("models", "bert-base", "model.safetensors")) };
        string dir = Path.Combine(Path.GetTempPath(), "mlt-fuzz-corpus-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var sets = new[]
            {
                new[] { new SafeTensorEntry("a.weight", SafeTensorDType.F32, [2, 3], new byte[24]), new SafeTensorEntry("a.bias", SafeTensorDType.F32, [3], new byte[12]) },
                new[] { new SafeTensorEntry("ids", SafeTensorDType.I64, [4], new byte[32]), new SafeTensorEntry("h", SafeTensorDType.F16, [2, 2], new byte[8]),
                        new SafeTensorEntry("b", SafeTensorDType.BF16, [1], new byte[2]), new SafeTensorEntry("e", SafeTensorDType.U8, [0], Array.Empty<byte>()) },
            };
            for (int k = 0; k < sets.Length; k++)
            {
                string p = Path.Combine(dir, $"s{k}.safetensors");
                SafeTensorsWriter.Write(p, sets[k], new Dictionary<string, string> { ["format"] = "pt" });
                list.Add(File.ReadAllBytes(p));
            }
        }
        finally { Directory.Delete(dir, true); }
        return list;
    }

    [TestMethod]
    public void SafetensorsFiles()
    {
        var corpus = SafetensorsCorpus();
        string dir = Path.Combine(Path.GetTempPath(), "mlt-fuzz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        int n = 0;
        try
        {
            Fuzz("safetensors", 3000 * Scale, r =>
            {
                var m = new Mutator(r);
                var baseFile = m.Pick(corpus);
                byte[] bytes;
                int headerEnd = (int)Math.Min(baseFile.Length, 8 + (long)BitConverter.ToUInt64(baseFile, 0));
                if (r.Next(3) == 0)
                {
                    // mutate the header as JSON, then write a length prefix that is right (mostly) or off
                    string header = System.Text.Encoding.UTF8.GetString(baseFile, 8, headerEnd - 8);
                    var h = System.Text.Encoding.UTF8.GetBytes(m.MutateJson(header, node => node is JsonArray));
                    long len = r.Next(5) == 0 ? h.Length + r.Next(-3, 4) : h.Length;
                    bytes = [.. BitConverter.GetBytes((ulong)Math.Max(0, len)), .. h, .. baseFile.AsSpan(headerEnd)];
                }
                else bytes = m.MutateBytes(baseFile, m.Pick(corpus), focusEnd: headerEnd);
                string path = Path.Combine(dir, $"f{Interlocked.Increment(ref n)}.safetensors");
                File.WriteAllBytes(path, bytes);
                return new Case(Show(bytes), () =>
                {
                    try
                    {
                        using var f = SafeTensorsFile.Open(path);
                        long sum = 0;
                        foreach (var t in f.Tensors) foreach (byte x in f.GetBytes(t)) sum += x;
                        _ = f.Metadata.Count + sum;
                    }
                    finally { File.Delete(path); }
                });
            }, typeof(SafeTensorsFormatException));
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void ShardedCheckpointIndexes()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlt-fuzz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var entries = Enumerable.Range(0, 6).Select(i => new SafeTensorEntry($"layer.{i}.weight", SafeTensorDType.F32, [64], new byte[256])).ToList();
            SafeTensorsWriter.WriteSharded(dir, entries, maxShardBytes: 700);
            string indexPath = Path.Combine(dir, SafeTensorsWriter.IndexFileName);
            string index = File.ReadAllText(indexPath);
            Fuzz("safetensors-index", 1000 * Scale, r =>
            {
                string mutated = new Mutator(r).MutateJson(index);
                return new Case(mutated, () =>
                {
                    lock (index) // one folder: one case at a time, even after a timeout
                    {
                        File.WriteAllText(indexPath, mutated);
                        using var c = SafeTensorsCheckpoint.Open(dir);
                        foreach (var k in c.Keys) _ = c.GetBytes(k).Length;
                    }
                });
            }, typeof(SafeTensorsFormatException), typeof(FileNotFoundException)); // a missing shard is named as a missing file
        }
        finally { Directory.Delete(dir, true); }
    }

    // ---- config.json ----

    [TestMethod]
    public void ConfigFiles()
    {
        // text models, and vision ones: ResNet, ConvNeXt, Swin (as classifiers and backbones), DETR (backbone_config or a
        // timm backbone) and UperNet (a ConvNeXt or Swin backbone_config)
        var corpus = Directory.GetDirectories(TestPaths.Fixture("models")).Concat(Directory.GetDirectories(TestPaths.Fixture("vision", "models")))
            .Select(d => File.ReadAllText(Path.Combine(d, "config.json"))).ToList();
        Assert.IsTrue(corpus.Any(c => c.Contains("\"upernet\"", StringComparison.Ordinal)) && corpus.Any(c => c.Contains("\"detr\"", StringComparison.Ordinal)));
        Fuzz("config", 4000 * Scale, r =>
        {
            var m = new Mutator(r);
            string json = m.MutateJson(m.Pick(corpus));
            return new Case(json, () => UseConfig(AutoConfig.FromJson(json, "fuzz/config.json")));
        }, typeof(ConfigException));
    }

    /// <summary>Mutated config.json beside the real weights of model fixtures (text heads, vision classifiers, a backbone,
    /// DETR, UperNet), loaded as a model: the config checks, the size check against the checkpoint and the module tree
    /// built from what passes must end in a load or the library's exceptions (a weight of another shape is an
    /// InvalidDataException naming the key; an activation no model implements a NotSupportedException naming it).</summary>
    [TestMethod]
    public void ConfigsBesideTheirWeights()
    {
        var fixtures = new (string[] path, ModelRegistry registry)[]
        {
            (["models", "bert-seqcls"], ModelRegistries.SequenceClassification), (["models", "distilbert-tokcls"], ModelRegistries.TokenClassification),
            (["models", "roberta-qa"], ModelRegistries.QuestionAnswering), (["models", "bert-mlm"], ModelRegistries.MaskedLM),
            (["vision", "models", "resnet-basic"], ModelRegistries.ImageClassification), (["vision", "models", "convnext"], ModelRegistries.ImageClassification),
            (["vision", "models", "swin"], ModelRegistries.ImageClassification), (["vision", "models", "swin-backbone"], ModelRegistries.Backbone),
            (["vision", "models", "detr"], ModelRegistries.ObjectDetection), (["vision", "models", "upernet-convnext"], ModelRegistries.SemanticSegmentation),
            (["vision", "models", "upernet-swin"], ModelRegistries.SemanticSegmentation),
        };
        string root = Path.Combine(Path.GetTempPath(), "mlt-fuzz-" + Guid.NewGuid().ToString("N"));
        var dirs = fixtures.Select(f =>
        {
            string d = Path.Combine(root, f.path[^1]);
            Directory.CreateDirectory(d);
            string src = TestPaths.Fixture(f.path);
            File.Copy(Path.Combine(src, "model.safetensors"), Path.Combine(d, "model.safetensors"));
            return (dir: d, config: File.ReadAllText(Path.Combine(src, "config.json")), f.registry);
        }).ToList();
        try
        {
            Fuzz("config-load", 600 * Scale, r =>
            {
                var m = new Mutator(r);
                var (dir, config, registry) = m.Pick(dirs);
                string json = m.MutateJson(config);
                return new Case(json, () =>
                {
                    lock (dirs) // one folder per fixture: one case at a time, even after a timeout
                    {
                        File.WriteAllText(Path.Combine(dir, "config.json"), json);
                        try { registry.FromPretrained(dir).Dispose(); }
                        catch (Exception e) when (e is InvalidDataException or NotSupportedException && RaisedByLibrary(e)) { throw new FuzzAccepted(e); }
                    }
                });
            }, typeof(ConfigException), typeof(FuzzAccepted));
        }
        finally { Directory.Delete(root, true); }
    }

    /// <summary>Whether the library threw <paramref name="e"/> itself (not .NET or TorchSharp underneath it).</summary>
    private static bool RaisedByLibrary(Exception e) =>
        e.TargetSite?.DeclaringType?.FullName?.StartsWith("Microsoft.ML.Transformers.", StringComparison.Ordinal) == true;

    /// <summary>What loading a model reads of a config before it builds anything: labels, sizes, backbone stages.</summary>
    private static void UseConfig(PretrainedConfig c)
    {
        _ = c.ToJsonString();
        _ = c.Id2Label.Count + c.Label2Id.Count + c.NumLabels;
        _ = (c.EstimatedParameters ?? 0) + c.HeadParameters + c.SizeKeys.Count;
        if (c is VisionBackboneConfig v) _ = v.StageNames.Count + v.OutFeatures.Count + v.OutIndices.Count;
        if (c is BackboneHeadConfig h)
        {
            _ = h.Backbone + h.BackboneKwargs?.Count + h.UsePretrainedBackbone;
            if (h.BackboneConfig is { } b) UseConfig(b);
        }
    }

    // ---- tokenizer.json ----

    private static readonly string[] Texts =
    [
        "Hello, world! It's a test of 1234 tokens.",
        "Ünïcödé café naïve — 東京 😀👍🏽 𝐀𝐁𝐂 x\u0301\u0316 \ufffe end",
        "",
        string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. ", 60)),
        "  \t\n  [CLS] <s> </s> <mask> [MASK] <unk> ▁ Ġ ## ",
    ];

    /// <summary>The tiny BERT and RoBERTa tokenizers of the model fixtures, and variants with more components.</summary>
    private static List<string> TokenizerCorpus()
    {
        string bert = File.ReadAllText(TestPaths.Fixture("models", "bert-base", "tokenizer.json"));
        string roberta = File.ReadAllText(TestPaths.Fixture("models", "roberta-base", "tokenizer.json"));
        var list = new List<string> { bert, roberta };

        var r = (JsonObject)JsonNode.Parse(roberta)!;
        r["normalizer"] = JsonNode.Parse("""{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Replace","pattern":{"Regex":"\\s+"},"content":" "},{"type":"Lowercase"},{"type":"Strip","strip_left":true,"strip_right":false},{"type":"Prepend","prepend":"_"}]}""");
        r["pre_tokenizer"] = JsonNode.Parse("""{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"'s|'t|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"},"behavior":"Removed","invert":true},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]}""");
        r["decoder"] = JsonNode.Parse("""{"type":"Sequence","decoders":[{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},{"type":"Replace","pattern":{"String":"_"},"content":" "},{"type":"Strip","content":" ","start":1,"stop":0}]}""");
        r["truncation"] = JsonNode.Parse("""{"direction":"Right","max_length":16,"strategy":"LongestFirst","stride":2}""");
        r["padding"] = JsonNode.Parse("""{"strategy":{"Fixed":24},"direction":"Left","pad_to_multiple_of":8,"pad_id":1,"pad_type_id":0,"pad_token":"<pad>"}""");
        list.Add(r.ToJsonString());

        var b = (JsonObject)JsonNode.Parse(bert)!;
        b["normalizer"] = JsonNode.Parse("""{"type":"Sequence","normalizers":[{"type":"NFKD"},{"type":"StripAccents"},{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true}]}""");
        b["pre_tokenizer"] = JsonNode.Parse("""{"type":"Sequence","pretokenizers":[{"type":"Whitespace"},{"type":"Punctuation","behavior":"Contiguous"},{"type":"Digits","individual_digits":true},{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true}]}""");
        b["decoder"] = JsonNode.Parse("""{"type":"Sequence","decoders":[{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},{"type":"WordPiece","prefix":"##","cleanup":true},{"type":"Fuse"}]}""");
        list.Add(b.ToJsonString());

        // a small Unigram with byte fallback
        var pieces = new JsonArray { new JsonArray("<unk>", 0.0), new JsonArray("▁", -2.5) };
        foreach (var w in "abcdefghijklmnopqrstuvwxyz".Select(c => c.ToString()).Concat(["▁the", "▁a", "th", "he", "ing", "▁qu", "ick"]))
            pieces.Add(new JsonArray(w, -3.0 - w.Length * 0.37));
        for (int x = 0; x < 256; x++) pieces.Add(new JsonArray($"<0x{x:X2}>", -20.0));
        list.Add(new JsonObject
        {
            ["version"] = "1.0", ["added_tokens"] = new JsonArray(),
            ["normalizer"] = JsonNode.Parse("""{"type":"NFKC"}"""),
            ["pre_tokenizer"] = JsonNode.Parse("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}"""),
            ["post_processor"] = JsonNode.Parse("""{"type":"TemplateProcessing","single":[{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],"pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"</s>","type_id":1}}],"special_tokens":{"</s>":{"id":"</s>","ids":[1],"tokens":["▁"]}}}"""),
            ["decoder"] = JsonNode.Parse("""{"type":"Sequence","decoders":[{"type":"ByteFallback"},{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}]}"""),
            ["model"] = new JsonObject { ["type"] = "Unigram", ["unk_id"] = 0, ["byte_fallback"] = true, ["vocab"] = pieces },
        }.ToJsonString());
        return list;
    }

    [TestMethod]
    public void TokenizerFiles()
    {
        var corpus = TokenizerCorpus();
        // warm up: the unmutated files' regexes are compiled (and cached) outside the timed cases
        foreach (var json in corpus) Tokenizer.FromJson(json).EncodeBatch(Texts);
        Fuzz("tokenizer", 2000 * Scale, r =>
        {
            var m = new Mutator(r);
            // most edits go to the components, not to the hundreds of vocabulary entries
            string json = m.MutateJson(m.Pick(corpus), node => node is JsonObject o && o.Count > 50 || node is JsonArray a && a.Count > 50 && r.Next(8) != 0);
            int text = r.Next(Texts.Length);
            return new Case(json, () =>
            {
                var tok = Tokenizer.FromJson(json, "fuzz/tokenizer.json");
                var e = tok.Encode(Texts[text], text % 2 == 0 ? Texts[(text + 1) % Texts.Length] : null);
                _ = tok.Decode(e.Ids, skipSpecialTokens: true, cleanUpTokenizationSpaces: true) + tok.Decode(e.Ids);
                var batch = tok.EncodeBatch(Texts, maxDegreeOfParallelism: 1);
                _ = tok.DecodeBatch(batch.Select(x => (IReadOnlyList<int>)x.Ids).ToList());
            });
        }, typeof(TokenizerFormatException), typeof(TokenizerNotSupportedException), typeof(TokenizerRegexTimeoutException),
            typeof(TruncationException));
    }

    // ---- ONNX ----

    [TestMethod]
    public void OnnxFiles()
    {
        var corpus = new[] { TestPaths.Fixture("onnx", "tiny_bert", "onnx", "model.onnx"), TestPaths.Fixture("onnx", "tiny_distilbert", "model.onnx"),
                TestPaths.Fixture("onnx", "odd_graphs", "onnx", "fixed_shape.onnx"), TestPaths.Fixture("onnx", "add_matmul.onnx") }
            .Select(File.ReadAllBytes).ToList();
        string dir = Path.Combine(Path.GetTempPath(), "mlt-fuzz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"model_type\": \"bert\", \"vocab_size\": 11}");
        int n = 0;
        try
        {
            Fuzz("onnx", 2000 * Scale, r =>
            {
                var m = new Mutator(r);
                byte[] bytes;
                if (r.Next(2) == 0)
                {
                    // one or two bytes changed in place: the protobuf framing mostly survives, so the graph reaches ONNX
                    // Runtime's checks and kernels (odd dims, types, attributes, initializer sizes) rather than the parser
                    bytes = (byte[])m.Pick(corpus).Clone();
                    for (int k = 1 + r.Next(2); k > 0; k--)
                    {
                        int at = r.Next(bytes.Length);
                        bytes[at] = r.Next(2) == 0 ? (byte)r.Next(256) : (byte)(bytes[at] ^ (1 << r.Next(8)));
                    }
                }
                else bytes = m.MutateBytes(m.Pick(corpus), m.Pick(corpus));
                string name = $"f{Interlocked.Increment(ref n)}.onnx";
                string path = Path.Combine(dir, name);
                File.WriteAllBytes(path, bytes);
                return new Case(Show(bytes), () =>
                {
                    try
                    {
                        OnnxModel model;
                        try { model = OnnxModel.FromPretrained(dir, new OnnxModelOptions { FileName = name }); }
                        catch (OnnxModelException e) when (e.ModelPath == path && e.Message.Contains(path, StringComparison.Ordinal))
                        {
                            throw new FuzzAccepted(e);
                        }
                        using (model)
                        {
                            long[] ids = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], mask = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
                            try { _ = model.Run(ids, mask, null, 2, 5).Sum(t => t.Shape.Length); }
                            catch (OnnxModelException e) when (e.ModelPath == path && e.Message.Contains(path, StringComparison.Ordinal))
                            {
                                throw new FuzzAccepted(e);
                            }
                        }
                    }
                    finally { File.Delete(path); }
                });
            }, typeof(FuzzAccepted)); // only the library's exception naming the file: an ArgumentException or NotSupportedException escaping is a finding
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>An exception the case accepted after a closer look: an <see cref="OnnxModelException"/> that named the file it
    /// came from, or a general exception type the library raised itself.</summary>
    private sealed class FuzzAccepted(Exception inner) : Exception(inner.Message, inner);
}
