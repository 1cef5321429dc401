using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Tokenizers;
using Enc = Microsoft.ML.Transformers.Tokenizers.Encoding;

namespace Microsoft.ML.Transformers.Tests.Tokenizers;

/// <summary>
/// Exact parity with Hugging Face's Rust tokenizers on the real tokenizer files over the 5,000-text corpus:
/// ids, tokens, offsets, type ids, special-token masks, attention masks, word ids, overflowing windows and
/// decoded strings; plus truncation / padding settings in batches.
/// </summary>
[TestClass]
public class TokenizerParityTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod] public void BertBaseUncased() => Check("bert-base-uncased");
    [TestMethod] public void BertBaseCased() => Check("bert-base-cased");
    [TestMethod] public void AllMiniLmL6V2() => Check("all-minilm-l6-v2");
    [TestMethod] public void RobertaBase() => Check("roberta-base");
    [TestMethod] public void T5Small() => Check("t5-small");
    [TestMethod] public void Llama2() => Check("llama2");
    [TestMethod] public void Clip() => Check("clip");
    [TestMethod] public void Gpt2() => Check("gpt2");

    /// <summary>A folder with only vocab.txt (BertTokenizerFast's construction) against the Rust library built the same way.</summary>
    [TestMethod] public void BertFromVocabTxt() => Check("bert-vocab-txt");

    // Component variants (test/fixtures/tokenizers/variants.json) on the first 1,000 corpus items.
    [TestMethod] public void VariantBertNfkdStripDigits() => Check("bert-nfkd-strip-digits");
    [TestMethod] public void VariantBertNfkcSplitTemplate() => Check("bert-nfkc-split-template");
    [TestMethod] public void VariantRobertaPrefixSpace() => Check("roberta-prefix-space");
    [TestMethod] public void VariantRobertaNoRegexSequence() => Check("roberta-noregex-sequence");
    [TestMethod] public void VariantT5MetaspaceFirstNoSplit() => Check("t5-metaspace-first-nosplit");
    [TestMethod] public void VariantT5MetaspaceNever() => Check("t5-metaspace-never");
    [TestMethod] public void VariantWordLevelWhitespace() => Check("wordlevel-whitespace");
    [TestMethod] public void VariantClipBpeDecoder() => Check("clip-bpedecoder");
    [TestMethod] public void VariantLlamaMetaspace() => Check("llama-metaspace");
    [TestMethod] public void VariantBpePrefixFuseUnk() => Check("bpe-prefix-fuse-unk");
    [TestMethod] public void VariantT5ByteFallback() => Check("t5-byte-fallback");
    /// <summary>A Llama-3-style Split regex (\p{L}, \p{N}, negated classes, lookahead) over text with characters outside the BMP.</summary>
    [TestMethod] public void VariantLlama3Split() => Check("llama3-split");

    private void Check(string name)
    {
        var tok = TokenizerGoldens.Load(name);
        var corpus = TokenizerGoldens.Corpus();
        var golden = TokenizerGoldens.ReadJsonl(Path.Combine(TokenizerGoldens.GoldenDir, name + ".jsonl.gz"));
        var settings = (JsonObject)JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("tokenizers", "golden", "settings.json")))!;
        bool variant = TokenizerGoldens.BaseOf(name) != name;
        int count = variant ? settings["variantCount"]!.GetValue<int>() : settings["count"]!.GetValue<int>();
        Assert.IsGreaterThanOrEqualTo(5000, corpus.Count);
        Assert.AreEqual(count + golden.Count(g => g["batch"] != null), golden.Count, "golden layout");
        var failures = new List<string>();
        int ok = 0;
        for (int i = 0; i < count; i++)
        {
            var g = golden[i];
            var (text, pair) = corpus[i];
            string? why;
            try { why = CompareItem(tok, text, pair, g, i); }
            catch (Exception e) { why = $"threw {e.GetType().Name}: {e.Message}"; }
            if (why == null) ok++;
            else if (failures.Count < 8) failures.Add($"item {i} ({Show(text)} | {Show(pair)}): {why}");
        }
        int tpOk = 0, tpTotal = 0;
        var tp = (JsonArray)settings["tp"]!;
        var pad = (JsonObject)settings["pad"]!;
        for (int k = count; k < golden.Count; k++)
        {
            var g = golden[k];
            int b = g["batch"]!.GetValue<int>();
            var cfg = (JsonObject)tp[b % tp.Count]!;
            tpTotal++;
            var items = corpus.Skip(b * 8).Take(8).ToList();
            string? why = CompareBatch(tok, items, cfg, pad[TokenizerGoldens.BaseOf(name)]!.GetValue<string>(), g);
            if (why == null) tpOk++;
            else if (failures.Count < 12) failures.Add($"batch {b} cfg {b % tp.Count}: {why}");
        }
        TestContext.WriteLine($"{name}: {ok}/{count} corpus items identical, {tpOk}/{tpTotal} truncation/padding batches identical");
        Assert.IsTrue(ok == count && tpOk == tpTotal,
            $"{name}: {ok}/{count} items and {tpOk}/{tpTotal} batches match Hugging Face.\n" + string.Join("\n", failures));
    }

    private static string Show(string? s) => s == null ? "-" : System.Text.Json.JsonSerializer.Serialize(s.Length > 60 ? s[..60] + "..." : s);

    private static string? CompareItem(Tokenizer tok, string text, string? pair, JsonObject g, int i)
    {
        var enc = tok.Encode(text, pair, addSpecialTokens: true);
        string dec = tok.Decode(enc.Ids, skipSpecialTokens: true);
        string dec0 = tok.Decode(enc.Ids, skipSpecialTokens: false);
        string plain = "";
        if (i % 5 == 0)
        {
            var p = tok.Encode(text, pair, addSpecialTokens: false);
            plain = string.Join(',', p.Ids) + "|" + string.Join(',', p.Offsets.SelectMany(o => new[] { o.Start, o.End }));
        }
        if (g["ids"] != null)
        {
            string? d = TokenizerGoldens.CompareFull(enc, g);
            if (d != null) return d;
            if (dec != g["dec"]!.GetValue<string>()) return $"decode(skip special) {Show(dec)} != {Show(g["dec"]!.GetValue<string>())}";
            string gd0 = g["dec0"]?.GetValue<string>() ?? g["dec"]!.GetValue<string>();
            if (dec0 != gd0) return $"decode {Show(dec0)} != {Show(gd0)}";
        }
        string h = TokenizerGoldens.Digest(TokenizerGoldens.Canon(enc) + "\u0003" + dec + "\u0003" + dec0 + "\u0003" + plain);
        if (h != g["h"]!.GetValue<string>())
            return $"digest differs; ours: ids [{string.Join(',', enc.Ids.Take(40))}] tokens [{string.Join(' ', enc.Tokens.Take(30))}] dec {Show(dec)}";
        return null;
    }

    private static string? CompareBatch(Tokenizer tok, List<(string, string?)> items, JsonObject cfg, string padToken, JsonObject g)
    {
        var tcfg = cfg["trunc"] as JsonObject;
        var pcfg = cfg["pad"] as JsonObject;
        var saved = (tok.Truncation, tok.Padding);
        try
        {
            tok.Truncation = tcfg == null ? null : new TruncationOptions(tcfg["maxLength"]!.GetValue<int>(),
                Enum.Parse<TruncationStrategy>(tcfg["strategy"]!.GetValue<string>()), tcfg["stride"]!.GetValue<int>(),
                tcfg["direction"]!.GetValue<string>() == "left" ? TruncationDirection.Left : TruncationDirection.Right);
            tok.Padding = pcfg == null ? null : new PaddingOptions(pcfg["maxLength"]?.GetValue<int>(),
                pcfg["direction"]!.GetValue<string>() == "left" ? PaddingDirection.Left : PaddingDirection.Right,
                pcfg["padToMultipleOf"]?.GetValue<int>(), tok.TokenToId(padToken)!.Value, 0, padToken);
            IReadOnlyList<Enc> encs;
            try { encs = tok.EncodeBatch(items); }
            catch (TruncationException e)
            {
                return g["error"] != null ? null : $"threw {e.Message} but Hugging Face did not";
            }
            if (g["error"] != null) return $"Hugging Face failed ({g["error"]}) but we did not";
            if (g["out"] is JsonArray outs)
            {
                for (int i = 0; i < outs.Count; i++)
                {
                    string? d = TokenizerGoldens.CompareFull(encs[i], (JsonObject)outs[i]!);
                    if (d != null) return $"input {i}: {d}";
                }
            }
            string h = TokenizerGoldens.Digest(string.Join("\u0004", encs.Select(TokenizerGoldens.Canon)));
            return h == g["h"]!.GetValue<string>() ? null : "digest differs";
        }
        finally { (tok.Truncation, tok.Padding) = saved; }
    }
}
