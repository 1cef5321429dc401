using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Tokenizers;

namespace Microsoft.ML.Transformers.Tests.Tokenizers;

/// <summary>
/// tokenizer.json content that must be refused when it is read (naming the JSON path), and content that must not crash,
/// hang or exhaust memory (issue 13, items 8, 15, 16 and the tokenizer parts of 17).
/// </summary>
[TestClass]
public class TokenizerBadInputTests
{
    /// <summary>The tiny BERT tokenizer of the model fixtures (WordPiece, 272 tokens, TemplateProcessing).</summary>
    private static JsonObject Bert() => (JsonObject)JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("models", "bert-base", "tokenizer.json")))!;

    /// <summary>A tiny BPE tokenizer.json built here.</summary>
    private static JsonObject Bpe(string? prefix = null, string? suffix = null, string? unk = "<unk>") => new()
    {
        ["version"] = "1.0", ["added_tokens"] = new JsonArray(),
        ["model"] = new JsonObject
        {
            ["type"] = "BPE", ["unk_token"] = unk, ["continuing_subword_prefix"] = prefix, ["end_of_word_suffix"] = suffix,
            ["vocab"] = new JsonObject { ["<unk>"] = 0, ["a"] = 1, ["b"] = 2, ["c"] = 3 }, ["merges"] = new JsonArray(),
        },
    };

    private static TokenizerFormatException Refused(JsonObject root, params string[] inMessage)
    {
        var e = Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson(root.ToJsonString(), "tok.json"));
        StringAssert.Contains(e.Message, "tok.json");
        foreach (var m in inMessage) StringAssert.Contains(e.Message, m);
        return e;
    }

    [TestMethod]
    public void UnkTokenMissingFromTheVocabularyIsRefusedAtLoad()
    {
        var root = Bert();
        root["model"]!["unk_token"] = "[NOPE]";
        Refused(root, "model.unk_token", "[NOPE]", "not in model.vocab");

        root = Bert();
        ((JsonObject)root["model"]!["vocab"]!).Remove("[UNK]");
        Refused(root, "model.unk_token", "[UNK]");

        Refused(Bpe(unk: "<missing>"), "model.unk_token", "<missing>");
        var ok = Tokenizer.FromJson(Bpe(unk: null).ToJsonString()); // no unk token: allowed (unknown bytes are dropped)
        Assert.AreEqual(0, ok.Encode("zz").Length);

        var wordLevel = new JsonObject
        {
            ["model"] = new JsonObject { ["type"] = "WordLevel", ["vocab"] = new JsonObject { ["a"] = 0 } }, // default unk "<unk>" absent
        };
        Refused(wordLevel, "model.unk_token", "<unk>", "default");
    }

    [TestMethod]
    public void TemplateProcessingIsCheckedAtLoad()
    {
        var root = Bert();
        root["post_processor"]!["single"]![1]!["Sequence"]!["id"] = "B";
        Refused(root, "post_processor.single[1].Sequence.id", "\"A\"");

        root = Bert();
        root["post_processor"]!["pair"]![3]!["Sequence"]!["id"] = "C";
        Refused(root, "post_processor.pair[3].Sequence.id");

        root = Bert();
        ((JsonArray)root["post_processor"]!["special_tokens"]!["[CLS]"]!["ids"]!).Add(7);
        Refused(root, "post_processor.special_tokens[\"[CLS]\"]", "2 ids and 1 tokens");

        root = Bert();
        root["post_processor"]!["single"]![0]!["SpecialToken"]!["type_id"] = -1;
        Refused(root, "post_processor.single[0].SpecialToken.type_id", "non-negative");
    }

    [TestMethod]
    public void EmptyBpeDecoderSuffixIsRefused()
    {
        var root = Bpe();
        root["decoder"] = new JsonObject { ["type"] = "BPEDecoder", ["suffix"] = "" };
        Refused(root, "decoder.suffix", "non-empty");
    }

    [TestMethod]
    public void DuplicateKeysAreRefusedWithTheirPath()
    {
        string json = Bert().ToJsonString();
        Refused(json.Replace("\"[PAD]\":0,", "\"[PAD]\":0,\"[UNK]\":9,"), "model.vocab[\"[UNK]\"]", "twice");
        Refused(json.Replace("{\"type\":\"WordPiece\",", "{\"type\":\"WordPiece\",\"type\":\"BPE\","), ".type'", "twice");
        Refused("{\"model\":{},\"version\":\"1.0\",\"version\":\"1.0\"}", "'version'");
    }

    private static TokenizerFormatException Refused(string json, params string[] inMessage)
    {
        var e = Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson(json, "tok.json"));
        foreach (var m in inMessage) StringAssert.Contains(e.Message, m);
        return e;
    }

    [TestMethod]
    public void NegativeIdsAndCountsAreRefused()
    {
        var root = Bert();
        root["added_tokens"]![0]!["id"] = -1;
        Refused(root, "added_tokens[0].id", "non-negative", "-1");
        root = Bert();
        root["model"]!["vocab"]!["hello"] = -5;
        Refused(root, "model.vocab[\"hello\"]", "-5");
        root = Bert();
        root["truncation"] = new JsonObject { ["max_length"] = -3 };
        Refused(root, "truncation.max_length", "-3");
    }

    /// <summary>Sizes no real tokenizer has are refused, with the key and value, before anything is allocated by them.</summary>
    [TestMethod]
    public void HugePaddingIsRefused()
    {
        var root = Bert();
        root["padding"] = new JsonObject { ["strategy"] = new JsonObject { ["Fixed"] = 100_000_000 } };
        Refused(root, "padding.strategy.Fixed", "100000000", PaddingOptions.MaxLength.ToString());
        root = Bert();
        root["padding"] = new JsonObject { ["strategy"] = "BatchLongest", ["pad_to_multiple_of"] = int.MaxValue };
        Refused(root, "padding.pad_to_multiple_of", "2147483647");

        var tok = Tokenizer.FromJson(Bert().ToJsonString());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => tok.Encode("hello", padding: new PaddingOptions(Length: int.MaxValue)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => tok.Encode("hello", padding: new PaddingOptions(PadToMultipleOf: int.MaxValue)));
    }

    /// <summary>Found by the fuzz suite: each match inserts the content, so its length multiplies the text.</summary>
    [TestMethod]
    public void HugeReplacementContentIsRefused()
    {
        var root = Bpe();
        root["normalizer"] = new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["Regex"] = "\\s+" }, ["content"] = new string('x', 100_000) };
        Refused(root, "normalizer.content", "at most 1024");
        root["normalizer"] = new JsonObject { ["type"] = "Prepend", ["prepend"] = new string('x', 5000) };
        Refused(root, "normalizer.prepend", "5000");
        root["normalizer"] = new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "\u2581" };
        Assert.AreEqual(3, Tokenizer.FromJson(root.ToJsonString()).Encode("a b").Length);
    }

    /// <summary>An id near int.MaxValue is legal (ids may be sparse) and must not allocate an array of that size.</summary>
    [TestMethod]
    public void SparseVocabularyIdsDoNotAllocateByTheLargestId()
    {
        var root = Bert();
        root["model"]!["vocab"]!["zebra"] = 2147483646;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var tok = Tokenizer.FromJson(root.ToJsonString());
        Assert.IsLessThan(200_000_000, GC.GetAllocatedBytesForCurrentThread() - before, "bytes allocated to load");
        Assert.AreEqual(2147483646, tok.Encode("zebra", addSpecialTokens: false).Ids[0]);
        Assert.AreEqual("zebra", tok.IdToToken(2147483646));
        Refused(root.ToJsonString().Replace("2147483646", "2147483648"), "model.vocab[\"zebra\"]", "2147483648");
    }

    /// <summary>Issue 13, item 15: prefix and suffix lengths come from the file; they once sized a stackalloc (process killed).</summary>
    [TestMethod]
    public void HugeBpePrefixOrSuffixDoesNotOverflowTheStack()
    {
        string big = new('#', 10_000_000);
        foreach (var root in new[] { Bpe(prefix: big), Bpe(suffix: big), Bpe(prefix: big, suffix: big) })
        {
            root["model"]!["byte_fallback"] = true;
            var tok = Tokenizer.FromJson(root.ToJsonString());
            var e = tok.Encode("abcab");
            Assert.AreEqual(5, e.Length); // a prefixed or suffixed character is not in the vocabulary: <unk>
            Assert.AreEqual(1, e.Ids[0]);
            Assert.AreEqual(0, e.Ids[4]);
        }
    }

    /// <summary>Issue 13, item 16: a user-supplied pattern that backtracks exponentially fails in bounded time, naming it.</summary>
    [TestMethod]
    public void CatastrophicRegexFailsWithinItsTimeBound()
    {
        string text = new string('a', 40) + "!";
        foreach (var kind in new[] { "pre_tokenizer", "normalizer" })
        {
            var root = Bpe();
            root[kind] = kind == "pre_tokenizer"
                ? new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = "(a+)+$" }, ["behavior"] = "Isolated", ["invert"] = false }
                : new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["Regex"] = "(a+)+$" }, ["content"] = "x" };
            var tok = Tokenizer.FromJson(root.ToJsonString(), "evil.json");
            var sw = Stopwatch.StartNew();
            var e = Assert.ThrowsExactly<TokenizerRegexTimeoutException>(() => tok.Encode(text));
            Assert.IsLessThan(30.0, sw.Elapsed.TotalSeconds, "bounded by the match timeout (2 s), not by the backtracking");
            StringAssert.Contains(e.Message, "(a+)+$");
            StringAssert.Contains(e.Message, $"evil.json: at '{kind}.pattern.Regex'");
            Assert.AreEqual("(a+)+$", e.Pattern);
        }
        // the same bound applies when the pattern is built directly
        var p = new RegexSplitPattern("(a|aa)+$", null, TimeSpan.FromMilliseconds(100));
        Assert.ThrowsExactly<TokenizerRegexTimeoutException>(() => p.FindMatches(text));
        Assert.AreEqual(1, new RegexSplitPattern("(a|aa)+$", null, TimeSpan.FromSeconds(10)).FindMatches("aaa").Count); // (a bound, not a race)
    }

    [TestMethod]
    public void UnsupportedRegexConstructsAreNamedAtLoad()
    {
        var root = Bpe();
        root["pre_tokenizer"] = new JsonObject
        {
            ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = "\\p{Han}+" }, ["behavior"] = "Isolated", ["invert"] = false,
        };
        var e = Assert.ThrowsExactly<TokenizerNotSupportedException>(() => Tokenizer.FromJson(root.ToJsonString(), "tok.json"));
        StringAssert.Contains(e.Message, "pre_tokenizer.pattern.Regex");
        StringAssert.Contains(e.Message, "\\p{Han}");
        root["pre_tokenizer"]!["pattern"]!["Regex"] = "(ab";
        var f = Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson(root.ToJsonString(), "tok.json"));
        StringAssert.Contains(f.Message, "invalid regex");
    }
}
