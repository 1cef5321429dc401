using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Tokenizers;

public sealed partial class Tokenizer
{
    private static readonly JsonDocumentOptions s_docOptions = new() { AllowTrailingCommas = false, MaxDepth = 256 };

    /// <summary>Reads a tokenizer.json file.</summary>
    public static Tokenizer FromFile(string path, TokenizerConfig? config = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file not found: {path}", path);
        return FromJson(File.ReadAllText(path), path, config);
    }

    /// <summary>Parses tokenizer.json content; <paramref name="source"/> names it in error messages.</summary>
    public static Tokenizer FromJson(string json, string source = "tokenizer.json", TokenizerConfig? config = null)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json, documentOptions: s_docOptions); }
        catch (JsonException e)
        {
            throw new TokenizerFormatException($"{source}: invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message}", e);
        }
        var reader = new TokenizerJson(source);
        return reader.Load(reader.Obj(root, "$"), config);
    }

    /// <summary>
    /// GPT-2 style byte-level BPE from vocab.json + merges.txt (what GPT2TokenizerFast builds): ByteLevel pre-tokenizer
    /// without prefix space, ByteLevel decoder and post-processor, and &lt;|endoftext|&gt; as special token when present.
    /// </summary>
    public static Tokenizer FromVocabAndMerges(string vocabPath, string mergesPath, TokenizerConfig? config = null)
    {
        if (!File.Exists(vocabPath)) throw new FileNotFoundException($"Vocabulary file not found: {vocabPath}", vocabPath);
        if (!File.Exists(mergesPath)) throw new FileNotFoundException($"Merges file not found: {mergesPath}", mergesPath);
        JsonObject vocab;
        try { vocab = JsonNode.Parse(File.ReadAllText(vocabPath)) as JsonObject ?? throw new TokenizerFormatException($"{vocabPath}: at '$': expected an object of token -> id"); }
        catch (JsonException e) { throw new TokenizerFormatException($"{vocabPath}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e); }
        var merges = new JsonArray();
        int lineNo = 0;
        foreach (var line in File.ReadLines(mergesPath))
        {
            lineNo++;
            if (lineNo == 1 && line.StartsWith("#version", StringComparison.Ordinal)) continue;
            if (line.Length == 0) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2) throw new TokenizerFormatException($"{mergesPath}: line {lineNo}: expected two tokens separated by one space, found \"{line}\"");
            merges.Add(new JsonArray(parts[0], parts[1]));
        }
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false, ["vocab"] = vocab, ["merges"] = merges,
            },
        };
        if (vocab["<|endoftext|>"] is JsonValue eos)
        {
            ((JsonArray)root["added_tokens"]!).Add(new JsonObject
            {
                ["id"] = eos.GetValue<int>(), ["content"] = "<|endoftext|>", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            });
        }
        var reader = new TokenizerJson(vocabPath);
        return reader.Load(root, config);
    }

    /// <summary>
    /// BERT from a plain vocab.txt (one token per line, id = line number), as BertTokenizerFast builds it: BertNormalizer,
    /// BertPreTokenizer, WordPiece with "##", [CLS] A [SEP] (B [SEP]) and the WordPiece decoder.
    /// </summary>
    public static Tokenizer FromWordPieceVocab(string vocabPath, bool lowercase = true, bool? stripAccents = null, bool tokenizeChineseChars = true,
        TokenizerConfig? config = null)
    {
        if (!File.Exists(vocabPath)) throw new FileNotFoundException($"Vocabulary file not found: {vocabPath}", vocabPath);
        var vocab = new JsonObject();
        int id = 0;
        foreach (var line in File.ReadLines(vocabPath))
        {
            if (!vocab.ContainsKey(line)) vocab[line] = id; // a repeated line keeps its first id
            id++;
        }
        foreach (var required in new[] { "[UNK]", "[CLS]", "[SEP]" })
            if (!vocab.ContainsKey(required)) throw new TokenizerFormatException($"{vocabPath}: the vocabulary has no {required} line");
        var added = new JsonArray();
        foreach (var special in new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" })
        {
            if (vocab[special] is not JsonValue v) continue;
            added.Add(new JsonObject
            {
                ["id"] = v.GetValue<int>(), ["content"] = special, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            });
        }
        JsonObject Special(string t, int typeId) => new() { ["SpecialToken"] = new JsonObject { ["id"] = t, ["type_id"] = typeId } };
        JsonObject Seq(string s, int typeId) => new() { ["Sequence"] = new JsonObject { ["id"] = s, ["type_id"] = typeId } };
        JsonObject SpecialEntry(string t) => new() { ["id"] = t, ["ids"] = new JsonArray(vocab[t]!.GetValue<int>()), ["tokens"] = new JsonArray(t) };
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject
            {
                ["type"] = "BertNormalizer", ["clean_text"] = true, ["handle_chinese_chars"] = tokenizeChineseChars,
                ["strip_accents"] = stripAccents, ["lowercase"] = lowercase,
            },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(Special("[CLS]", 0), Seq("A", 0), Special("[SEP]", 0)),
                ["pair"] = new JsonArray(Special("[CLS]", 0), Seq("A", 0), Special("[SEP]", 0), Seq("B", 1), Special("[SEP]", 1)),
                ["special_tokens"] = new JsonObject { ["[CLS]"] = SpecialEntry("[CLS]"), ["[SEP]"] = SpecialEntry("[SEP]") },
            },
            ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##", ["cleanup"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##", ["max_input_chars_per_word"] = 100,
                ["vocab"] = vocab,
            },
        };
        return new TokenizerJson(vocabPath).Load(root, config);
    }

    /// <summary>
    /// Writes tokenizer.json (with the current truncation and padding) and, when they were read, tokenizer_config.json
    /// and special_tokens_map.json. Each file goes to a temporary name first and is then moved into place.
    /// </summary>
    public void SavePretrained(string folder)
    {
        Directory.CreateDirectory(folder);
        var root = (JsonObject)Json.DeepClone();
        root["truncation"] = Truncation == null ? null : new JsonObject
        {
            ["direction"] = Truncation.Direction.ToString(),
            ["max_length"] = Truncation.MaxLength,
            ["strategy"] = Truncation.Strategy.ToString(),
            ["stride"] = Truncation.Stride,
        };
        root["padding"] = Padding == null ? null : new JsonObject
        {
            ["strategy"] = Padding.Length is int n ? new JsonObject { ["Fixed"] = n } : JsonValue.Create("BatchLongest"),
            ["direction"] = Padding.Direction.ToString(),
            ["pad_to_multiple_of"] = Padding.PadToMultipleOf,
            ["pad_id"] = Padding.PadId,
            ["pad_type_id"] = Padding.PadTypeId,
            ["pad_token"] = Padding.PadToken,
        };
        var opts = new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        WriteAtomic(Path.Combine(folder, "tokenizer.json"), root.ToJsonString(opts));
        if (Config.Raw != null) WriteAtomic(Path.Combine(folder, "tokenizer_config.json"), Config.Raw.ToJsonString(opts));
        if (Config.SpecialTokensMap != null) WriteAtomic(Path.Combine(folder, "special_tokens_map.json"), Config.SpecialTokensMap.ToJsonString(opts));
    }

    private static void WriteAtomic(string path, string content)
    {
        string tmp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            File.WriteAllText(tmp, content, new System.Text.UTF8Encoding(false));
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}

/// <summary>Loads a tokenizer from a checkpoint folder, as transformers' AutoTokenizer.from_pretrained.</summary>
public static class AutoTokenizer
{
    /// <summary>
    /// Reads tokenizer.json (plus tokenizer_config.json and special_tokens_map.json when present); a folder with only
    /// vocab.json + merges.txt gives a GPT-2 style byte-level BPE, one with only vocab.txt a BERT WordPiece.
    /// </summary>
    public static Tokenizer FromPretrained(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Tokenizer folder not found: {folder}");
        var config = new TokenizerConfig(ReadObject(Path.Combine(folder, "tokenizer_config.json")), ReadObject(Path.Combine(folder, "special_tokens_map.json")));
        string json = Path.Combine(folder, "tokenizer.json");
        Tokenizer tok;
        if (File.Exists(json)) tok = Tokenizer.FromFile(json, config);
        else if (File.Exists(Path.Combine(folder, "vocab.json")) && File.Exists(Path.Combine(folder, "merges.txt")))
            tok = Tokenizer.FromVocabAndMerges(Path.Combine(folder, "vocab.json"), Path.Combine(folder, "merges.txt"), config);
        else if (File.Exists(Path.Combine(folder, "vocab.txt")))
        {
            bool Flag(string key, bool fallback) => config.Raw?[key] is JsonValue v && v.TryGetValue(out bool b) ? b : fallback;
            bool? strip = config.Raw?["strip_accents"] is JsonValue sv && sv.TryGetValue(out bool sb) ? sb : null;
            tok = Tokenizer.FromWordPieceVocab(Path.Combine(folder, "vocab.txt"), Flag("do_lower_case", true), strip, Flag("tokenize_chinese_chars", true), config);
        }
        else
            throw new FileNotFoundException($"No tokenizer in {folder}: looked for tokenizer.json, vocab.json + merges.txt, or vocab.txt", json);
        return tok;
    }

    private static JsonObject? ReadObject(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new TokenizerFormatException($"{path}: at '$': expected an object");
        }
        catch (JsonException e) { throw new TokenizerFormatException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e); }
    }
}
