using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Tokenizers;

public sealed partial class Tokenizer
{
    private static readonly JsonDocumentOptions s_docOptions = new() { AllowTrailingCommas = false, MaxDepth = 256, AllowDuplicateProperties = false };

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
            // Duplicate keys are refused (the Rust library refuses duplicate fields; for maps it would keep one silently).
            if (DuplicateKeyPath(json) is string dup)
                throw new TokenizerFormatException($"{source}: at '{dup}': the key appears twice in its object (duplicate JSON key)", e);
            throw new TokenizerFormatException($"{source}: invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message}", e);
        }
        var reader = new TokenizerJson(source);
        return reader.Load(reader.Obj(root, "$"), config);
    }

    /// <summary>A JSON object file read as Python's json (and serde's maps) read it: a repeated key keeps its last value.</summary>
    internal static JsonObject ReadLastKeyWins(string path, string expected)
    {
        try { return Configuration.ConfigJson.ParseObject(File.ReadAllText(path), path); }
        catch (Configuration.ConfigException e) { throw new TokenizerFormatException($"{path}: expected {expected}: {e.Message}", e); }
    }

    /// <summary>The JSON path (as error messages write it: <c>model.vocab["x"]</c>) of the first key that repeats in its object.</summary>
    internal static string? DuplicateKeyPath(string json)
    {
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = 256 });
        var stack = new List<(HashSet<string>? Keys, string Path, int Index)>();
        string? key = null;
        try
        {
            while (reader.Read())
            {
                string Here()
                {
                    if (stack.Count == 0) return "$";
                    var top = stack[^1];
                    return top.Keys == null ? $"{top.Path}[{top.Index}]" : Member(top.Path, key!);
                }
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        key = reader.GetString()!;
                        var t = stack[^1];
                        if (!t.Keys!.Add(key)) return Member(t.Path, key);
                        break;
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        string path = Here();
                        if (stack.Count > 0 && stack[^1].Keys == null) stack[^1] = (null, stack[^1].Path, stack[^1].Index + 1);
                        stack.Add((reader.TokenType == JsonTokenType.StartObject ? new HashSet<string>(StringComparer.Ordinal) : null, path, 0));
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        stack.RemoveAt(stack.Count - 1);
                        break;
                    default:
                        if (stack.Count > 0 && stack[^1].Keys == null) stack[^1] = (null, stack[^1].Path, stack[^1].Index + 1);
                        break;
                }
            }
        }
        catch (JsonException) { }
        catch (InvalidOperationException) { }
        return null;
    }

    private static string Member(string parent, string key)
    {
        bool plain = key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
        string shown = key.Length > 40 ? key[..40] + "..." : key;
        string member = plain ? key : $"[\"{shown}\"]";
        return parent == "$" ? member : plain ? $"{parent}.{member}" : parent + member;
    }

    /// <summary>
    /// GPT-2 style byte-level BPE from vocab.json + merges.txt (what GPT2TokenizerFast builds): ByteLevel pre-tokenizer
    /// without prefix space, ByteLevel decoder and post-processor, and &lt;|endoftext|&gt; as special token when present.
    /// </summary>
    public static Tokenizer FromVocabAndMerges(string vocabPath, string mergesPath, TokenizerConfig? config = null)
    {
        if (!File.Exists(vocabPath)) throw new FileNotFoundException($"Vocabulary file not found: {vocabPath}", vocabPath);
        if (!File.Exists(mergesPath)) throw new FileNotFoundException($"Merges file not found: {mergesPath}", mergesPath);
        var vocab = ReadLastKeyWins(vocabPath, "an object of token -> id");
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
    /// and special_tokens_map.json; one of those two that this tokenizer lacks is removed from the folder, so that it does
    /// not pair with another tokenizer's. The save is all-or-nothing for the folder, even if the process is killed.
    /// </summary>
    public void SavePretrained(string folder)
    {
        using var save = AtomicFolder.Begin(folder);
        SaveInto(save);
        save.Commit();
    }

    /// <summary>Stages the tokenizer's files into a folder save (see <see cref="SavePretrained"/>).</summary>
    internal void SaveInto(AtomicFolder save)
    {
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
        var utf8 = new System.Text.UTF8Encoding(false);
        File.WriteAllText(save.PathOf("tokenizer.json"), root.ToJsonString(opts), utf8);
        if (Config.Raw != null) File.WriteAllText(save.PathOf("tokenizer_config.json"), Config.Raw.ToJsonString(opts), utf8);
        else save.RemoveStale("tokenizer_config.json");
        if (Config.SpecialTokensMap != null) File.WriteAllText(save.PathOf("special_tokens_map.json"), Config.SpecialTokensMap.ToJsonString(opts), utf8);
        else save.RemoveStale("special_tokens_map.json");
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
        AtomicFolder.Recover(folder);
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

    private static JsonObject? ReadObject(string path) => File.Exists(path) ? Tokenizer.ReadLastKeyWins(path, "an object") : null;
}
