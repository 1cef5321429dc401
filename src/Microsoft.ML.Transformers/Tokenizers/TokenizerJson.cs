using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>Reads tokenizer.json (current format and the older one whose model has no "type").</summary>
internal sealed class TokenizerJson(string file)
{
    private readonly string _file = file;

    private TokenizerFormatException Error(string path, string expected, JsonNode? found) =>
        new($"{_file}: at '{path}': expected {expected}, found {Describe(found)}");

    private static string Describe(JsonNode? n) => n switch
    {
        null => "nothing (missing or null)",
        JsonObject => "an object",
        JsonArray => "an array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => $"the string \"{Trim(v.GetValue<string>())}\"",
            JsonValueKind.True or JsonValueKind.False => $"the boolean {v.ToJsonString()}",
            _ => $"the number {v.ToJsonString()}",
        },
        _ => n.ToJsonString(),
    };

    private static string Trim(string s) => s.Length > 40 ? s[..40] + "..." : s;

    private TokenizerNotSupportedException Unsupported(string path, string what, string? type, string supported) =>
        new($"{_file}: at '{path}': {what} type '{type}' is not supported (supported: {supported})");

    // ---- typed accessors that name the JSON path on failure ----

    public JsonObject Obj(JsonNode? n, string path) => n as JsonObject ?? throw Error(path, "an object", n);
    public JsonArray Arr(JsonNode? n, string path) => n as JsonArray ?? throw Error(path, "an array", n);

    public string Str(JsonObject o, string key, string path)
    {
        var n = o[key];
        if (n is JsonValue v && v.TryGetValue(out string? s)) return s;
        throw Error($"{path}.{key}", "a string", n);
    }

    public string? OptStr(JsonObject o, string key, string path)
    {
        var n = o[key];
        if (n == null) return null;
        if (n is JsonValue v && v.TryGetValue(out string? s)) return s;
        throw Error($"{path}.{key}", "a string or null", n);
    }

    public bool Bool(JsonObject o, string key, string path, bool fallback)
    {
        var n = o[key];
        if (n == null) return fallback;
        if (n is JsonValue v && v.TryGetValue(out bool b)) return b;
        throw Error($"{path}.{key}", "a boolean", n);
    }

    public bool? OptBool(JsonObject o, string key, string path)
    {
        var n = o[key];
        if (n == null) return null;
        if (n is JsonValue v && v.TryGetValue(out bool b)) return b;
        throw Error($"{path}.{key}", "a boolean or null", n);
    }

    public int Int(JsonObject o, string key, string path, int? fallback = null)
    {
        var n = o[key];
        if (n == null && fallback.HasValue) return fallback.Value;
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out int i)) return i;
        throw Error($"{path}.{key}", "an integer", n);
    }

    /// <summary>An integer in [0, <paramref name="max"/>] (Rust reads these as u32 / usize); names the key, value and range.</summary>
    public int Count(JsonObject o, string key, string path, int? fallback = null, int max = int.MaxValue)
    {
        var n = o[key];
        if (n == null && fallback.HasValue) return fallback.Value;
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && (v.TryGetValue(out long l) || (v.TryGetValue(out int i) && (l = i) == i))
            && l >= 0 && l <= max) return (int)l;
        throw Error($"{path}.{key}", max == int.MaxValue ? "a non-negative integer" : $"an integer from 0 to {max}", n);
    }

    public int? OptCount(JsonObject o, string key, string path, int max = int.MaxValue) => o[key] == null ? null : Count(o, key, path, null, max);

    public int? OptInt(JsonObject o, string key, string path)
    {
        var n = o[key];
        if (n == null) return null;
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out int i)) return i;
        throw Error($"{path}.{key}", "an integer or null", n);
    }

    /// <summary>A JSON number as the Rust library reads it (<see cref="SerdeJsonFloat"/>); NaN when it is not a number it accepts.</summary>
    private static double Num(JsonNode? n)
    {
        if (n is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) return double.NaN;
        string raw = v.TryGetValue(out JsonElement e) ? e.GetRawText() : v.ToJsonString();
        return SerdeJsonFloat.TryParse(raw, out double d) ? d : double.NaN;
    }

    // ---- whole file ----

    public Tokenizer Load(JsonObject root, TokenizerConfig? config)
    {
        var added = new List<AddedToken>();
        if (root["added_tokens"] is JsonNode addedNode)
        {
            var arr = Arr(addedNode, "added_tokens");
            for (int i = 0; i < arr.Count; i++)
            {
                string p = $"added_tokens[{i}]";
                var t = Obj(arr[i], p);
                added.Add(new AddedToken(Count(t, "id", p), Str(t, "content", p), Bool(t, "special", p, false), Bool(t, "single_word", p, false),
                    Bool(t, "lstrip", p, false), Bool(t, "rstrip", p, false), Bool(t, "normalized", p, !Bool(t, "special", p, false))));
            }
        }
        var model = LoadModel(Obj(root["model"], "model"), "model");
        var normalizer = root["normalizer"] is JsonNode nn ? LoadNormalizer(Obj(nn, "normalizer"), "normalizer") : null;
        var pre = root["pre_tokenizer"] is JsonNode pn ? LoadPreTokenizer(Obj(pn, "pre_tokenizer"), "pre_tokenizer") : null;
        var post = root["post_processor"] is JsonNode ppn ? LoadPostProcessor(Obj(ppn, "post_processor"), "post_processor") : null;
        var dec = root["decoder"] is JsonNode dn ? LoadDecoder(Obj(dn, "decoder"), "decoder") : null;
        var trunc = root["truncation"] is JsonNode tn ? LoadTruncation(Obj(tn, "truncation")) : null;
        var pad = root["padding"] is JsonNode padn ? LoadPadding(Obj(padn, "padding")) : null;
        return new Tokenizer(model, normalizer, pre, post, dec, added, trunc, pad, root, config);
    }

    private TruncationOptions LoadTruncation(JsonObject o)
    {
        const string p = "truncation";
        var strategy = (OptStr(o, "strategy", p) ?? "LongestFirst") switch
        {
            "LongestFirst" => TruncationStrategy.LongestFirst,
            "OnlyFirst" => TruncationStrategy.OnlyFirst,
            "OnlySecond" => TruncationStrategy.OnlySecond,
            var s => throw Error(p + ".strategy", "LongestFirst, OnlyFirst or OnlySecond", o["strategy"]),
        };
        var dir = (OptStr(o, "direction", p) ?? "Right") switch
        {
            "Right" => TruncationDirection.Right,
            "Left" => TruncationDirection.Left,
            _ => throw Error(p + ".direction", "Right or Left", o["direction"]),
        };
        return new TruncationOptions(Count(o, "max_length", p), strategy, Count(o, "stride", p, 0), dir);
    }

    private PaddingOptions LoadPadding(JsonObject o)
    {
        const string p = "padding";
        int? length = null;
        var s = o["strategy"];
        if (s is JsonObject so && so["Fixed"] != null) length = Count(so, "Fixed", p + ".strategy", max: PaddingOptions.MaxLength);
        else if (!(s is JsonValue sv && sv.TryGetValue(out string? ss) && ss == "BatchLongest") && s != null)
            throw Error(p + ".strategy", "\"BatchLongest\" or {\"Fixed\": n}", s);
        var dir = (OptStr(o, "direction", p) ?? "Right") switch
        {
            "Right" => PaddingDirection.Right,
            "Left" => PaddingDirection.Left,
            _ => throw Error(p + ".direction", "Right or Left", o["direction"]),
        };
        return new PaddingOptions(length, dir, OptCount(o, "pad_to_multiple_of", p, PaddingOptions.MaxMultiple), Count(o, "pad_id", p, 0),
            Count(o, "pad_type_id", p, 0),
            OptStr(o, "pad_token", p) ?? "[PAD]");
    }

    // ---- model ----

    public TokenizerModel LoadModel(JsonObject o, string p)
    {
        string? type = OptStr(o, "type", p);
        if (type == null)
        {
            // Older files: infer from the fields present (as serde's untagged enum does).
            if (o["merges"] != null) type = "BPE";
            else if (o["vocab"] is JsonArray) type = "Unigram";
            else if (o["continuing_subword_prefix"] != null || o["max_input_chars_per_word"] != null) type = "WordPiece";
            else if (o["vocab"] is JsonObject) type = "WordLevel";
            else throw Error(p, "a model object with \"type\" or with vocab/merges", o);
        }
        switch (type)
        {
            case "WordPiece":
            {
                var vocab = Vocab(o, p);
                return new WordPieceModel(vocab, Unk(o, p, vocab, "[UNK]")!, OptStr(o, "continuing_subword_prefix", p) ?? "##",
                    OptCount(o, "max_input_chars_per_word", p) ?? 100);
            }
            case "WordLevel":
            {
                var vocab = Vocab(o, p);
                return new WordLevelModel(vocab, Unk(o, p, vocab, "<unk>")!);
            }
            case "BPE":
            {
                var vocab = Vocab(o, p);
                Unk(o, p, vocab, null);
                var merges = Merges(Arr(o["merges"], p + ".merges"), p + ".merges");
                try
                {
                    return new BpeModel(vocab, merges, OptStr(o, "unk_token", p), OptStr(o, "continuing_subword_prefix", p),
                        OptStr(o, "end_of_word_suffix", p), Bool(o, "fuse_unk", p, false), Bool(o, "byte_fallback", p, false),
                        Bool(o, "ignore_merges", p, false));
                }
                catch (BpeMergeException e)
                {
                    throw new TokenizerFormatException($"{_file}: at '{p}.merges[{e.Index}]': {e.Message}", e);
                }
            }
            case "Unigram":
            {
                var arr = Arr(o["vocab"], p + ".vocab");
                var pieces = new List<(string, double)>(arr.Count);
                for (int i = 0; i < arr.Count; i++)
                {
                    string ip = $"{p}.vocab[{i}]";
                    if (arr[i] is not JsonArray pair || pair.Count != 2 || pair[0] is not JsonValue pv || !pv.TryGetValue(out string? piece)
                        || double.IsNaN(Num(pair[1])))
                        throw Error(ip, "a [piece, score] pair", arr[i]);
                    pieces.Add((piece, Num(pair[1])));
                }
                int? unk = OptInt(o, "unk_id", p);
                if (unk is int u && (u < 0 || u >= pieces.Count)) throw Error(p + ".unk_id", $"an id below {pieces.Count}", o["unk_id"]);
                return new UnigramModel(pieces, unk, Bool(o, "byte_fallback", p, false));
            }
            default:
                throw Unsupported(p + ".type", "model", type, "BPE, WordPiece, WordLevel, Unigram");
        }
    }

    /// <summary>
    /// The model's unk_token (or its default), which must be in the vocabulary: the Rust library fails on the first unknown
    /// word otherwise; here the file is refused when it is read.
    /// </summary>
    private string? Unk(JsonObject o, string p, Dictionary<string, int> vocab, string? fallback)
    {
        string? unk = OptStr(o, "unk_token", p) ?? fallback;
        if (unk != null && !vocab.ContainsKey(unk))
            throw new TokenizerFormatException($"{_file}: at '{p}.unk_token': the unk token \"{Trim(unk)}\" is not in {p}.vocab " +
                $"({vocab.Count} entries){(o["unk_token"] == null ? " (it is the default, as the key is absent)" : "")}");
        return unk;
    }

    private Dictionary<string, int> Vocab(JsonObject o, string p)
    {
        var v = Obj(o["vocab"], p + ".vocab");
        var d = new Dictionary<string, int>(v.Count);
        foreach (var (k, n) in v)
        {
            if (n is not JsonValue jv || jv.GetValueKind() != JsonValueKind.Number || !jv.TryGetValue(out int id) || id < 0 || id == int.MaxValue)
                throw Error($"{p}.vocab[\"{Trim(k)}\"]", "an integer id from 0 to 2147483646", n);
            d[k] = id;
        }
        return d;
    }

    private List<(string, string)> Merges(JsonArray arr, string p)
    {
        var list = new List<(string, string)>(arr.Count);
        for (int i = 0; i < arr.Count; i++)
        {
            var n = arr[i];
            if (n is JsonValue v && v.TryGetValue(out string? s))
            {
                int k = s.IndexOf(' ');
                if (k <= 0 || k == s.Length - 1 || s.IndexOf(' ', k + 1) >= 0)
                    throw Error($"{p}[{i}]", "\"left right\" (two parts separated by one space)", n);
                list.Add((s[..k], s[(k + 1)..]));
            }
            else if (n is JsonArray a && a.Count == 2 && a[0] is JsonValue a0 && a0.TryGetValue(out string? l) && a[1] is JsonValue a1 && a1.TryGetValue(out string? r))
                list.Add((l, r));
            else throw Error($"{p}[{i}]", "a merge \"left right\" or [left, right]", n);
        }
        return list;
    }

    // ---- normalizers ----

    public Normalizer LoadNormalizer(JsonObject o, string p)
    {
        string type = Str(o, "type", p);
        switch (type)
        {
            case "BertNormalizer":
                return new BertNormalizer(Bool(o, "clean_text", p, true), Bool(o, "handle_chinese_chars", p, true), OptBool(o, "strip_accents", p),
                    Bool(o, "lowercase", p, true));
            case "NFC": return new UnicodeNormalizer(UnicodeForm.NFC);
            case "NFD": return new UnicodeNormalizer(UnicodeForm.NFD);
            case "NFKC": return new UnicodeNormalizer(UnicodeForm.NFKC);
            case "NFKD": return new UnicodeNormalizer(UnicodeForm.NFKD);
            case "Lowercase": return new LowercaseNormalizer();
            case "StripAccents": return new StripAccentsNormalizer();
            case "Strip": return new StripNormalizer(Bool(o, "strip_left", p, true), Bool(o, "strip_right", p, true));
            case "Replace": return new ReplaceNormalizer(Pattern(o, p), Inserted(o, "content", p));
            case "Prepend": return new PrependNormalizer(Inserted(o, "prepend", p));
            case "Precompiled":
            {
                var cm = o["precompiled_charsmap"];
                if (cm == null) return new SequenceNormalizer([]);
                string b64 = Str(o, "precompiled_charsmap", p);
                try { return new PrecompiledNormalizer(Convert.FromBase64String(b64)); }
                catch (FormatException e) { throw new TokenizerFormatException($"{_file}: at '{p}.precompiled_charsmap': {e.Message}", e); }
            }
            case "Sequence":
            {
                var arr = Arr(o["normalizers"], p + ".normalizers");
                var list = new List<Normalizer>();
                for (int i = 0; i < arr.Count; i++) list.Add(LoadNormalizer(Obj(arr[i], $"{p}.normalizers[{i}]"), $"{p}.normalizers[{i}]"));
                return new SequenceNormalizer(list);
            }
            default:
                throw Unsupported(p + ".type", "normalizer", type,
                    "BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, Replace, Prepend, Precompiled, Sequence");
        }
    }

    private SplitPattern Pattern(JsonObject o, string p)
    {
        var pat = Obj(o["pattern"], p + ".pattern");
        if (pat["String"] != null) return SplitPattern.FromString(Str(pat, "String", p + ".pattern"));
        if (pat["Regex"] != null)
        {
            string re = Str(pat, "Regex", p + ".pattern");
            string where = $"{_file}: at '{p}.pattern.Regex'";
            try { return new RegexSplitPattern(re, where); }
            catch (NotSupportedException e) { throw new TokenizerNotSupportedException($"{where}: regex \"{Trim(re)}\": {e.Message} is not supported"); }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                throw new TokenizerFormatException($"{where}: invalid regex \"{Trim(re)}\": {e.Message}", e);
            }
        }
        throw Error(p + ".pattern", "{\"String\": ...} or {\"Regex\": ...}", pat);
    }

    /// <summary>The longest text a Replace or Prepend may insert: real files insert a character or two ("▁", " ").</summary>
    public const int MaxInsertedLength = 1024;

    /// <summary>
    /// A string a normalizer or decoder inserts for every match: bounded, since each match multiplies the text by its
    /// length (100,000 characters per space made a 2,700-character text 54 million characters long).
    /// </summary>
    private string Inserted(JsonObject o, string key, string p)
    {
        string s = Str(o, key, p);
        if (s.Length > MaxInsertedLength) throw Error($"{p}.{key}", $"at most {MaxInsertedLength} characters", JsonValue.Create($"{s.Length} characters"));
        return s;
    }

    // ---- pre-tokenizers ----

    public PreTokenizer LoadPreTokenizer(JsonObject o, string p)
    {
        string type = Str(o, "type", p);
        switch (type)
        {
            case "BertPreTokenizer": return new BertPreTokenizer();
            case "ByteLevel": return new ByteLevelPreTokenizer(Bool(o, "add_prefix_space", p, true), Bool(o, "use_regex", p, true), Bool(o, "trim_offsets", p, true));
            case "Whitespace": return SplitPreTokenizer.Whitespace();
            case "WhitespaceSplit": return new WhitespaceSplitPreTokenizer();
            case "Metaspace":
            {
                string rep = OptStr(o, "replacement", p) ?? "\u2581";
                if (rep.Length != 1) throw Error(p + ".replacement", "a single character", o["replacement"]);
                return new MetaspacePreTokenizer(rep[0], Scheme(o, p), Bool(o, "split", p, true));
            }
            case "Split": return new SplitPreTokenizer(Pattern(o, p), Behavior(o, p, SplitBehavior.Isolated), Bool(o, "invert", p, false));
            case "Punctuation": return SplitPreTokenizer.Punctuation(Behavior(o, p, SplitBehavior.Isolated));
            case "Digits": return SplitPreTokenizer.Digits(Bool(o, "individual_digits", p, false));
            case "Sequence":
            {
                var arr = Arr(o["pretokenizers"], p + ".pretokenizers");
                var list = new List<PreTokenizer>();
                for (int i = 0; i < arr.Count; i++) list.Add(LoadPreTokenizer(Obj(arr[i], $"{p}.pretokenizers[{i}]"), $"{p}.pretokenizers[{i}]"));
                return new SequencePreTokenizer(list);
            }
            default:
                throw Unsupported(p + ".type", "pre-tokenizer", type,
                    "BertPreTokenizer, ByteLevel, Whitespace, WhitespaceSplit, Metaspace, Split, Punctuation, Digits, Sequence");
        }
    }

    private PrependScheme Scheme(JsonObject o, string p)
    {
        string? s = OptStr(o, "prepend_scheme", p);
        if (s == null) return Bool(o, "add_prefix_space", p, true) ? PrependScheme.Always : PrependScheme.Never;
        return s switch
        {
            "always" => PrependScheme.Always,
            "first" => PrependScheme.First,
            "never" => PrependScheme.Never,
            _ => throw Error(p + ".prepend_scheme", "always, first or never", o["prepend_scheme"]),
        };
    }

    private SplitBehavior Behavior(JsonObject o, string p, SplitBehavior fallback)
    {
        string? b = OptStr(o, "behavior", p);
        if (b == null) return fallback;
        return b switch
        {
            "Removed" => SplitBehavior.Removed,
            "Isolated" => SplitBehavior.Isolated,
            "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
            "MergedWithNext" => SplitBehavior.MergedWithNext,
            "Contiguous" => SplitBehavior.Contiguous,
            _ => throw Error(p + ".behavior", "Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous", o["behavior"]),
        };
    }

    // ---- post-processors ----

    public PostProcessor LoadPostProcessor(JsonObject o, string p)
    {
        string type = Str(o, "type", p);
        switch (type)
        {
            case "TemplateProcessing":
            {
                var specials = new Dictionary<string, (int[], string[])>();
                if (o["special_tokens"] is JsonNode sn)
                {
                    foreach (var (k, v) in Obj(sn, p + ".special_tokens"))
                    {
                        string sp = $"{p}.special_tokens[\"{k}\"]";
                        var so = Obj(v, sp);
                        var ids = Arr(so["ids"], sp + ".ids").Select((x, i) => x is JsonValue xv && xv.GetValueKind() == JsonValueKind.Number && xv.TryGetValue(out int id) && id >= 0
                            ? id : throw Error($"{sp}.ids[{i}]", "a non-negative integer", x)).ToArray();
                        var toks = Arr(so["tokens"], sp + ".tokens").Select((x, i) => x is JsonValue xv && xv.TryGetValue(out string? t) ? t : throw Error($"{sp}.tokens[{i}]", "a string", x)).ToArray();
                        if (ids.Length != toks.Length)
                            throw new TokenizerFormatException($"{_file}: at '{sp}': ids and tokens must have the same length (one token per id), found {ids.Length} ids and {toks.Length} tokens");
                        specials[k] = (ids, toks);
                    }
                }
                var single = Template(Arr(o["single"], p + ".single"), p + ".single", specials, allowB: false);
                var pair = Template(Arr(o["pair"], p + ".pair"), p + ".pair", specials, allowB: true);
                return new TemplateProcessor(single, pair, specials);
            }
            case "BertProcessing":
                return TemplateProcessor.Bert(TokenPair(o, "sep", p), TokenPair(o, "cls", p));
            case "RobertaProcessing":
                return new RobertaProcessor(TokenPair(o, "sep", p), TokenPair(o, "cls", p), Bool(o, "trim_offsets", p, true), Bool(o, "add_prefix_space", p, true));
            case "ByteLevel":
                return new ByteLevelProcessor(Bool(o, "trim_offsets", p, true), Bool(o, "add_prefix_space", p, true));
            case "Sequence":
            {
                var arr = Arr(o["processors"], p + ".processors");
                var list = new List<PostProcessor>();
                for (int i = 0; i < arr.Count; i++) list.Add(LoadPostProcessor(Obj(arr[i], $"{p}.processors[{i}]"), $"{p}.processors[{i}]"));
                return new SequenceProcessor(list);
            }
            default:
                throw Unsupported(p + ".type", "post-processor", type, "TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence");
        }
    }

    private (string, int) TokenPair(JsonObject o, string key, string p)
    {
        var a = Arr(o[key], $"{p}.{key}");
        if (a.Count == 2 && a[0] is JsonValue t && t.TryGetValue(out string? tok) && a[1] is JsonValue i && i.GetValueKind() == JsonValueKind.Number
            && i.TryGetValue(out int id) && id >= 0) return (tok, id);
        throw Error($"{p}.{key}", "[token, id]", a);
    }

    private List<TemplatePiece> Template(JsonArray arr, string p, Dictionary<string, (int[], string[])> specials, bool allowB)
    {
        var list = new List<TemplatePiece>();
        for (int i = 0; i < arr.Count; i++)
        {
            string ip = $"{p}[{i}]";
            var o = Obj(arr[i], ip);
            if (o["Sequence"] is JsonNode sq)
            {
                var so = Obj(sq, ip + ".Sequence");
                var id = Str(so, "id", ip + ".Sequence") switch
                {
                    "A" => TemplateSequence.A,
                    "B" when allowB => TemplateSequence.B,
                    _ => throw Error(ip + ".Sequence.id", allowB ? "\"A\" or \"B\"" : "\"A\" (the single template has one sequence)", so["id"]),
                };
                list.Add(new TemplatePiece(false, id, "", Count(so, "type_id", ip + ".Sequence", 0)));
            }
            else if (o["SpecialToken"] is JsonNode st)
            {
                var so = Obj(st, ip + ".SpecialToken");
                string id = Str(so, "id", ip + ".SpecialToken");
                if (!specials.ContainsKey(id)) throw Error(ip + ".SpecialToken.id", "a token listed in special_tokens", so["id"]);
                list.Add(new TemplatePiece(true, default, id, Count(so, "type_id", ip + ".SpecialToken", 0)));
            }
            else throw Error(ip, "{\"Sequence\": ...} or {\"SpecialToken\": ...}", o);
        }
        return list;
    }

    // ---- decoders ----

    public Decoder LoadDecoder(JsonObject o, string p)
    {
        string type = Str(o, "type", p);
        switch (type)
        {
            case "WordPiece": return new WordPieceDecoder(OptStr(o, "prefix", p) ?? "##", Bool(o, "cleanup", p, true));
            case "ByteLevel": return new ByteLevelDecoder();
            case "Metaspace":
            {
                string rep = OptStr(o, "replacement", p) ?? "\u2581";
                if (rep.Length != 1) throw Error(p + ".replacement", "a single character", o["replacement"]);
                return new MetaspaceDecoder(rep[0], Scheme(o, p));
            }
            case "BPEDecoder":
            {
                string suffix = OptStr(o, "suffix", p) ?? "</w>";
                if (suffix.Length == 0) throw Error(p + ".suffix", "a non-empty suffix", o["suffix"]);
                return new BpeDecoder(suffix);
            }
            case "ByteFallback": return new ByteFallbackDecoder();
            case "Fuse": return new FuseDecoder();
            case "Strip":
            {
                string c = Str(o, "content", p);
                if (c.Length != 1) throw Error(p + ".content", "a single character", o["content"]);
                return new StripDecoder(c[0], Count(o, "start", p, 0), Count(o, "stop", p, 0));
            }
            case "Replace": return new ReplaceDecoder(Pattern(o, p), Inserted(o, "content", p));
            case "Sequence":
            {
                var arr = Arr(o["decoders"], p + ".decoders");
                var list = new List<Decoder>();
                for (int i = 0; i < arr.Count; i++) list.Add(LoadDecoder(Obj(arr[i], $"{p}.decoders[{i}]"), $"{p}.decoders[{i}]"));
                return new SequenceDecoder(list);
            }
            default:
                throw Unsupported(p + ".type", "decoder", type, "WordPiece, ByteLevel, Metaspace, BPEDecoder, ByteFallback, Fuse, Strip, Replace, Sequence");
        }
    }
}
