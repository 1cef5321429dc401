using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Tokenizers;

namespace Microsoft.ML.Transformers.Tests.Tokenizers;

/// <summary>Loading, bad input, special tokens, SavePretrained and batch behaviour on the real tokenizer files.</summary>
[TestClass]
public class TokenizerApiTests
{
    private static string TokenizerJson(string name) => File.ReadAllText(Path.Combine(TokenizerGoldens.Folder(name), "tokenizer.json"));

    [TestMethod]
    public void MalformedJsonNamesFileAndPosition()
    {
        var e = Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson("{\"model\": {\"type\": \"BPE\",", "bad.json"));
        StringAssert.Contains(e.Message, "bad.json");
        StringAssert.Contains(e.Message, "invalid JSON");
    }

    [TestMethod]
    public void WrongTypeNamesJsonPath()
    {
        var root = (JsonObject)JsonNode.Parse(TokenizerJson("bert-base-uncased"))!;
        root["model"]!["vocab"]!["hello"] = "not a number";
        var e = Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson(root.ToJsonString(), "tokenizer.json"));
        StringAssert.Contains(e.Message, "model.vocab[\"hello\"]");
        StringAssert.Contains(e.Message, "expected an integer id");
        StringAssert.Contains(e.Message, "found the string \"not a number\"");

        root = (JsonObject)JsonNode.Parse(TokenizerJson("bert-base-uncased"))!;
        root["post_processor"]!["single"]![0]!["SpecialToken"]!["type_id"] = "zero";
        e = Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson(root.ToJsonString(), "tokenizer.json"));
        StringAssert.Contains(e.Message, "post_processor.single[0].SpecialToken.type_id");
    }

    [TestMethod]
    public void AmbiguousMergeIsRejectedWithItsIndex()
    {
        // llama2's file holds merges like "   " that Hugging Face 0.23 also refuses to split.
        var json = TokenizerJson("llama2");
        var e = Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson(json, "llama2/tokenizer.json"));
        StringAssert.Contains(e.Message, "model.merges[");
        StringAssert.Contains(e.Message, "two parts separated by one space");
    }

    [TestMethod]
    public void UnsupportedComponentIsNamed()
    {
        var root = (JsonObject)JsonNode.Parse(TokenizerJson("t5-small"))!;
        root["pre_tokenizer"]!["pretokenizers"]![1] = new JsonObject { ["type"] = "UnicodeScripts" };
        var e = Assert.ThrowsExactly<TokenizerNotSupportedException>(() => Tokenizer.FromJson(root.ToJsonString(), "tokenizer.json"));
        StringAssert.Contains(e.Message, "pre_tokenizer.pretokenizers[1].type");
        StringAssert.Contains(e.Message, "'UnicodeScripts'");

        root = (JsonObject)JsonNode.Parse(TokenizerJson("bert-base-uncased"))!;
        root["model"]!["type"] = "BackTrackingBPE";
        var e2 = Assert.ThrowsExactly<TokenizerNotSupportedException>(() => Tokenizer.FromJson(root.ToJsonString(), "tokenizer.json"));
        StringAssert.Contains(e2.Message, "model type 'BackTrackingBPE'");
    }

    [TestMethod]
    public void LoneSurrogateIsRejected()
    {
        var tok = TokenizerGoldens.Load("bert-base-uncased");
        var e = Assert.ThrowsExactly<ArgumentException>(() => tok.Encode("ab\uD800cd"));
        StringAssert.Contains(e.Message, "U+D800 at index 2");
        Assert.ThrowsExactly<ArgumentException>(() => tok.Encode("ok", "x\uDC00"));
        Assert.IsGreaterThan(2, tok.Encode("a 😀").Length); // a valid surrogate pair is fine
    }

    [TestMethod]
    public void StrideNotBelowLimitThrowsInsteadOfAborting()
    {
        // The Rust library panics (aborting node) here; we raise a catchable error.
        var tok = TokenizerGoldens.Load("bert-base-uncased");
        Assert.ThrowsExactly<TruncationException>(() => tok.Encode("one two three four five six", truncation: new TruncationOptions(5, Stride: 3)));
        Assert.ThrowsExactly<TruncationException>(() => tok.Encode("one two", truncation: new TruncationOptions(3, TruncationStrategy.OnlySecond)));
    }

    [TestMethod]
    public void SpecialTokensAndConfig()
    {
        var bert = AutoTokenizer.FromPretrained(TokenizerGoldens.Folder("bert-base-uncased"));
        Assert.AreEqual(101, bert.ClsTokenId);
        Assert.AreEqual(102, bert.SepTokenId);
        Assert.AreEqual(0, bert.PadTokenId);
        Assert.AreEqual(103, bert.MaskTokenId);
        Assert.AreEqual(100, bert.UnkTokenId);
        Assert.AreEqual(30522, bert.VocabSize);
        Assert.AreEqual("hello", bert.IdToToken(7592));
        Assert.AreEqual(7592, bert.TokenToId("hello"));
        Assert.IsTrue(bert.IsSpecialId(101));

        var t5 = AutoTokenizer.FromPretrained(TokenizerGoldens.Folder("t5-small"));
        var cfg = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(TokenizerGoldens.Folder("t5-small"), "tokenizer_config.json")))!;
        Assert.AreEqual(cfg["model_max_length"]!.GetValue<int>(), t5.ModelMaxLength);
        Assert.AreEqual(0, t5.PadTokenId);
        Assert.AreEqual(1, t5.EosTokenId);
        Assert.AreEqual(2, t5.UnkTokenId);

        var roberta = AutoTokenizer.FromPretrained(TokenizerGoldens.Folder("roberta-base"));
        Assert.AreEqual(0, roberta.ClsTokenId);
        Assert.AreEqual(2, roberta.SepTokenId);
        Assert.AreEqual(1, roberta.PadTokenId);
        Assert.AreEqual(50264, roberta.MaskTokenId);

        var gpt2 = AutoTokenizer.FromPretrained(TokenizerGoldens.Folder("gpt2"));
        Assert.AreEqual(50256, gpt2.EosTokenId);
    }

    [TestMethod]
    public void CountTokensMatchesEncode()
    {
        var tok = TokenizerGoldens.Load("roberta-base");
        foreach (var (text, _) in TokenizerGoldens.Corpus().Take(300))
        {
            Assert.AreEqual(tok.Encode(text, addSpecialTokens: false).Length, tok.CountTokens(text));
            Assert.AreEqual(tok.Encode(text).Length, tok.CountTokens(text, addSpecialTokens: true));
        }
    }

    [TestMethod]
    public void BatchEqualsSequentialAndPadsToLongest()
    {
        var tok = TokenizerGoldens.Load("bert-base-uncased");
        var texts = TokenizerGoldens.Corpus().Take(200).Select(c => c.Text).ToArray();
        var batch = tok.EncodeBatch(texts, padding: new PaddingOptions(PadToMultipleOf: 8, PadId: 0, PadToken: "[PAD]"));
        int longest = texts.Max(t => tok.Encode(t).Length);
        int expected = (longest + 7) / 8 * 8;
        for (int i = 0; i < texts.Length; i++)
        {
            var single = tok.Encode(texts[i]);
            Assert.AreEqual(expected, batch[i].Length);
            CollectionAssert.AreEqual(single.Ids, batch[i].Ids.Take(single.Length).ToArray());
            Assert.AreEqual(single.Length, batch[i].AttentionMask.Sum());
        }
    }

    [TestMethod]
    public void SavePretrainedReloadsIdentically()
    {
        foreach (var name in new[] { "bert-base-uncased", "t5-small", "gpt2", "clip" })
        {
            var tok = AutoTokenizer.FromPretrained(TokenizerGoldens.Folder(name));
            tok.Truncation = new TruncationOptions(16, Stride: 2);
            tok.Padding = new PaddingOptions(Length: 20, PadId: 0, PadToken: "<pad>");
            string dir = Path.Combine(Path.GetTempPath(), "mlt-tok-" + Guid.NewGuid().ToString("N"));
            try
            {
                tok.SavePretrained(dir);
                Assert.IsFalse(Directory.EnumerateFiles(dir, "*.tmp-*").Any(), "no temporary file left");
                var again = AutoTokenizer.FromPretrained(dir);
                Assert.AreEqual(tok.Truncation, again.Truncation);
                Assert.AreEqual(tok.Padding, again.Padding);
                Assert.AreEqual(tok.ModelMaxLength, again.ModelMaxLength);
                foreach (var (text, pair) in TokenizerGoldens.Corpus().Take(150))
                {
                    var a = tok.Encode(text, pair);
                    var b = again.Encode(text, pair);
                    Assert.AreEqual(TokenizerGoldens.Canon(a), TokenizerGoldens.Canon(b), name);
                    Assert.AreEqual(tok.Decode(a.Ids), again.Decode(b.Ids));
                }
            }
            finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
        }
    }

    [TestMethod]
    public void DecodeCleanUpTokenizationSpaces()
    {
        var tok = TokenizerGoldens.Load("roberta-base");
        var ids = tok.Encode("Hello , world ! It 's fine .", addSpecialTokens: false).Ids;
        Assert.AreEqual("Hello , world ! It 's fine .", tok.Decode(ids));
        Assert.AreEqual("Hello, world! It's fine.", tok.Decode(ids, cleanUpTokenizationSpaces: true));
    }

    [TestMethod]
    public void PositionHelpersFollowOffsets()
    {
        var tok = TokenizerGoldens.Load("bert-base-uncased");
        var e = tok.Encode("Hello wonderful world", "second text");
        int? t = e.CharToToken(6); // 'w' of "wonderful"
        Assert.IsNotNull(t);
        Assert.IsTrue(e.Offsets[t.Value].Start <= 6 && 6 < e.Offsets[t.Value].End);
        Assert.AreEqual(0, e.SequenceIds[t.Value]);
        int? p = e.CharToToken(0, sequence: 1);
        Assert.AreEqual(1, e.SequenceIds[p!.Value]);
        Assert.IsNull(e.TokenToChars(0)); // [CLS]
        var (ws, we) = e.WordToTokens(e.TokenToWord(t.Value)!.Value)!.Value;
        Assert.IsTrue(ws <= t && t < we);
        Assert.IsNull(e.CharToToken(5)); // the space
    }
}
