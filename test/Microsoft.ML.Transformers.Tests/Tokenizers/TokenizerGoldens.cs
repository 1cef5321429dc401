using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Tokenizers;

namespace Microsoft.ML.Transformers.Tests.Tokenizers;

/// <summary>
/// Access to the goldens written by test/oracles/tokenizers/make_goldens.js (Hugging Face Rust tokenizers via npm
/// tokenizers@0.23.2) and to the real tokenizer files committed in test/fixtures/tokenizers/files.
/// </summary>
internal static class TokenizerGoldens
{
    public static string GoldenDir =>
        Environment.GetEnvironmentVariable("MLT_TOKENIZER_GOLDENS") is { Length: > 0 } d ? d : TestPaths.Fixture("tokenizers", "golden");

    /// <summary>The committed copies of the real tokenizer files (gzipped; provenance in files/SOURCES.md).</summary>
    public static string FilesDir => TestPaths.Fixture("tokenizers", "files");

    private static readonly Dictionary<string, string> s_folders = new(StringComparer.Ordinal);

    /// <summary>
    /// A folder holding the real files of tokenizer <paramref name="name"/>, unpacked once from the committed .gz copies
    /// into artifacts/test-data (keyed by their content, moved into place whole, so parallel runs share it safely).
    /// </summary>
    public static string Folder(string name)
    {
        lock (s_folders)
        {
            if (s_folders.TryGetValue(name, out var cached)) return cached;
            string src = Path.Combine(FilesDir, name);
            if (!Directory.Exists(src)) Assert.Fail($"No committed tokenizer files for '{name}' in {FilesDir}");
            var gz = Directory.GetFiles(src, "*.gz").Order(StringComparer.Ordinal).ToArray();
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var f in gz) { sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(f))); sha.AppendData(File.ReadAllBytes(f)); }
            string dir = Path.Combine(TestPaths.RepoRoot, "artifacts", "test-data", "tokenizers", name + "-" + Convert.ToHexStringLower(sha.GetHashAndReset())[..12]);
            if (!Directory.Exists(dir))
            {
                string tmp = dir + ".tmp-" + Guid.NewGuid().ToString("N");
                Directory.CreateDirectory(tmp);
                foreach (var f in gz)
                {
                    using var input = new GZipStream(File.OpenRead(f), CompressionMode.Decompress);
                    using var output = File.Create(Path.Combine(tmp, Path.GetFileNameWithoutExtension(f)));
                    input.CopyTo(output);
                }
                try { Directory.Move(tmp, dir); }
                catch (IOException) when (Directory.Exists(dir)) { Directory.Delete(tmp, true); } // another run unpacked it first
            }
            return s_folders[name] = dir;
        }
    }

    /// <summary>Loads a real tokenizer the way the golden script does (llama2's ambiguous merges rewritten as pairs).</summary>
    public static Tokenizer Load(string name)
    {
        if (Variants().ContainsKey(name)) return Tokenizer.FromJson(VariantJson(name).ToJsonString(), name);
        if (name == "bert-vocab-txt")
        {
            string folder = BertVocabTxtFolder();
            try { return AutoTokenizer.FromPretrained(folder); }
            finally { Directory.Delete(folder, true); }
        }
        string dir = Folder(name);
        if (name == "gpt2") return Tokenizer.FromVocabAndMerges(Path.Combine(dir, "vocab.json"), Path.Combine(dir, "merges.txt"));
        var root = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer.json")))!;
        RepairMerges(root);
        return Tokenizer.FromJson(root.ToJsonString(), Path.Combine(dir, "tokenizer.json"));
    }

    /// <summary>test/fixtures/tokenizers/variants.json: component variants of the real files (see make_goldens.js).</summary>
    public static JsonObject Variants()
    {
        var o = (JsonObject)JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("tokenizers", "variants.json")))!;
        o.Remove("_comment");
        return o;
    }

    public static string BaseOf(string name) => name == "bert-vocab-txt" ? "bert-base-uncased" : Variants()[name]?["base"]?.GetValue<string>() ?? name;

    /// <summary>A folder holding only vocab.txt: bert-base-uncased's vocabulary one token per line (as make_goldens.js writes it).</summary>
    public static string BertVocabTxtFolder()
    {
        var root = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Folder("bert-base-uncased"), "tokenizer.json")))!;
        var tokens = ((JsonObject)root["model"]!["vocab"]!).OrderBy(kv => kv.Value!.GetValue<int>()).Select(kv => kv.Key);
        string dir = Path.Combine(Path.GetTempPath(), "mlt-bert-vocab-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "vocab.txt"), string.Join("\n", tokens) + "\n");
        return dir;
    }

    /// <summary>Base tokenizer.json with top-level keys and model keys replaced and added tokens appended.</summary>
    public static JsonObject VariantJson(string name) => Derived((JsonObject)Variants()[name]!);

    /// <summary>A tokenizer.json derived from a real one by a spec in the schema of variants.json.</summary>
    public static JsonObject Derived(JsonObject v)
    {
        string dir = Folder(v["base"]!.GetValue<string>());
        var root = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer.json")))!;
        RepairMerges(root);
        if (v["set"] is JsonObject set) foreach (var (k, val) in set) root[k] = val?.DeepClone();
        if (v["model_set"] is JsonObject ms)
            foreach (var (k, val) in ms) { if (val == null) ((JsonObject)root["model"]!).Remove(k); else root["model"]![k] = val.DeepClone(); }
        if (v["add_tokens"] is JsonArray add) foreach (var t in add) ((JsonArray)root["added_tokens"]!).Add(t!.DeepClone());
        if (v["unigram_byte_pieces"]?.GetValue<bool>() == true)
            for (int b = 0; b < 256; b++) ((JsonArray)root["model"]!["vocab"]!).Add(new JsonArray($"<0x{b:X2}>", -20));
        return root;
    }

    /// <summary>Same rule as make_goldens.js: split at the first space whose sides and their join are vocabulary entries.</summary>
    public static void RepairMerges(JsonObject root)
    {
        if (root["model"]?["merges"] is not JsonArray merges) return;
        var vocab = root["model"]!["vocab"] as JsonObject;
        if (!merges.Any(m => m is JsonValue v && v.GetValue<string>().Split(' ').Length != 2)) return;
        for (int i = 0; i < merges.Count; i++)
        {
            if (merges[i] is not JsonValue v) continue;
            string x = v.GetValue<string>();
            for (int k = 1; k < x.Length - 1; k++)
            {
                if (x[k] != ' ') continue;
                string l = x[..k], r = x[(k + 1)..];
                if (vocab!.ContainsKey(l) && vocab.ContainsKey(r) && vocab.ContainsKey(l + r)) { merges[i] = new JsonArray(l, r); break; }
            }
        }
    }

    /// <summary>Null when the encoding equals a golden record (ids, tokens, offsets, type ids, masks, word ids, overflowing), else what differs.</summary>
    public static string? CompareFull(Microsoft.ML.Transformers.Tokenizers.Encoding e, JsonObject g)
    {
        var ids = Ints(g["ids"]);
        if (!ids.SequenceEqual(e.Ids)) return $"ids [{string.Join(',', e.Ids)}] != [{string.Join(',', ids)}]";
        var toks = ((JsonArray)g["tokens"]!).Select(x => x!.GetValue<string>()).ToArray();
        if (!toks.SequenceEqual(e.Tokens)) return $"tokens [{string.Join(' ', e.Tokens)}] != [{string.Join(' ', toks)}]";
        var off = Ints(g["off"]);
        var ours = e.Offsets.SelectMany(o => new[] { o.Start, o.End }).ToArray();
        if (!off.SequenceEqual(ours)) return $"offsets [{string.Join(',', ours)}] != [{string.Join(',', off)}]";
        var tt = g["tt"] != null ? Ints(g["tt"]) : new int[ids.Length];
        if (!tt.SequenceEqual(e.TypeIds)) return $"type ids [{string.Join(',', e.TypeIds)}] != [{string.Join(',', tt)}]";
        if (!Ints(g["sm"]).SequenceEqual(e.SpecialTokensMask)) return $"special mask [{string.Join(',', e.SpecialTokensMask)}]";
        var w = Ints(g["w"]);
        if (!w.SequenceEqual(e.WordIds.Select(x => x ?? -1))) return $"word ids [{string.Join(',', e.WordIds.Select(x => x ?? -1))}] != [{string.Join(',', w)}]";
        var am = g["am"] != null ? Ints(g["am"]) : Enumerable.Repeat(1, ids.Length).ToArray();
        if (!am.SequenceEqual(e.AttentionMask)) return $"attention mask [{string.Join(',', e.AttentionMask)}] != [{string.Join(',', am)}]";
        var ov = g["ov"] as JsonArray;
        int nov = ov?.Count ?? 0;
        if (nov != e.Overflowing.Count) return $"{e.Overflowing.Count} overflowing != {nov}";
        for (int i = 0; i < nov; i++)
        {
            string? d = CompareFull(e.Overflowing[i], (JsonObject)ov![i]!);
            if (d != null) return $"overflowing[{i}]: {d}";
        }
        return null;
    }

    public static List<JsonObject> ReadJsonl(string path)
    {
        if (!File.Exists(path)) Assert.Fail($"Golden file missing: {path} (run test/oracles/tokenizers/make_goldens.js)");
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(gz, System.Text.Encoding.UTF8);
        var list = new List<JsonObject>();
        string? line;
        while ((line = reader.ReadLine()) != null) if (line.Length > 0) list.Add((JsonObject)JsonNode.Parse(line)!);
        return list;
    }

    public static List<(string Text, string? Pair)> Corpus() =>
        ReadJsonl(TestPaths.Fixture("tokenizers", "corpus.jsonl.gz"))
            .Select(o => (o["text"]!.GetValue<string>(), o["pair"]?.GetValue<string>())).ToList();

    // ---- canonical form (must match canon() in make_goldens.js) ----

    public static string Canon(Microsoft.ML.Transformers.Tokenizers.Encoding e)
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', e.Ids).Append('\n');
        sb.AppendJoin('\u0001', e.Tokens).Append('\n');
        sb.AppendJoin(',', e.Offsets.SelectMany(o => new[] { o.Start, o.End })).Append('\n');
        sb.AppendJoin(',', e.TypeIds).Append('\n');
        sb.AppendJoin(',', e.SpecialTokensMask).Append('\n');
        sb.AppendJoin(',', e.AttentionMask).Append('\n');
        sb.AppendJoin(',', e.WordIds.Select(w => w ?? -1)).Append('\n');
        sb.AppendJoin('\u0002', e.Overflowing.Select(Canon));
        return sb.ToString();
    }

    public static string Digest(string s) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(s)))[..16];

    public static int[] Ints(JsonNode? n) => n is JsonArray a ? a.Select(x => x!.GetValue<int>()).ToArray() : [];
}
